"""Which browser the e2e tests drive, and what happens when it is not installed.

Chromium is Debian's (``apt-get install chromium fonts-noto-cjk``), never a browser that
Playwright downloads. Without it the test modules are skipped, except on CI (the CI
variable is set): there every e2e test that runs fails, since a green CI must have run
them. Tests deselected with ``-m "not e2e"`` are not affected either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MISSING = f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)"


def require_chromium() -> None:
    """Call at the top of every e2e test module: without Chromium the module is skipped,
    unless CI is set (then the ``browser`` fixture fails each test instead)."""
    if not CHROMIUM.exists() and not os.getenv("CI"):
        pytest.skip(f"browser tests skipped: {MISSING}", allow_module_level=True)


def executable() -> str:
    """Chromium's path for Playwright; fails the test when it is missing (CI)."""
    if not CHROMIUM.exists():
        pytest.fail(f"CI is set and {MISSING}: the browser tests must run", pytrace=False)
    return str(CHROMIUM)


# Each page reports what its Content-Security-Policy blocked, as it happens (a page that
# navigates away right after still reports). Playwright runs this before the page's own
# scripts, outside the policy.
# window.policyReports counts the reports Python has received (a barrier for tests).
REPORT_VIOLATIONS = """
window.policyReports = 0;
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportPolicyViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}` +
    ` in ${event.sourceFile || event.documentURI}:${event.lineNumber}` +
    (event.sample ? ` (${event.sample})` : "")
  ).then(() => { window.policyReports += 1; });
});
"""


def watch_policy(context: BrowserContext, problem: Callable[[str], None]) -> None:
    """Call ``problem`` for every Content-Security-Policy violation in ``context``'s
    pages: the ``securitypolicyviolation`` events, and Chromium's console lines about
    the policy (one of them says what an event may not, such as a blocked worker)."""
    context.expose_function(
        "reportPolicyViolation", lambda text: problem(f"Content Security Policy: {text}")
    )
    context.add_init_script(REPORT_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            problem(f"console: {message.text}")

    context.on("console", on_console)
