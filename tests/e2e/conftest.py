"""Browser end-to-end tests: Debian's Chromium driven by Playwright against the live server.

Every test module starts with ``require_chromium()`` (see chromium.py): without the
browser it skips, or on CI fails.

Each screen a test visits is saved as a full-page PNG under var/e2e/ for CI's artifacts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from prepaid.sales.setup import Setup, set_up
from prepaid.staff.models import Staff
from tests.e2e import chromium
from tests.e2e.flows import OWNER, PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=chromium.executable(), args=chromium.ARGS, headless=True
    )
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def _static_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """WhiteNoise warns (an error under filterwarnings=error) when STATIC_ROOT does not
    exist, and no test runs collectstatic. The live server serves the apps' static files
    itself, so an empty folder will do."""
    with override_settings(STATIC_ROOT=tmp_path_factory.mktemp("static")):
        yield


@pytest.fixture(scope="session")
def live_server(_static_root: None, live_server: LiveServer) -> LiveServer:
    """pytest-django's live server, started only once STATIC_ROOT exists (argument order
    is set-up order)."""
    return live_server


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh English-speaking browser tab; the test fails on any JavaScript error,
    HTTP error response (a missing stylesheet, a 500…) or Content-Security-Policy
    violation (an inline script, handler or style the policy blocked) seen while it
    ran."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(15_000)
    problems: list[str] = []
    chromium.watch_policy(context, problems.append)
    tab = context.new_page()

    def on_response(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status} for {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        # "Failed to load resource" repeats what on_response reports, except for the
        # favicon Chromium asks for by itself (the app has none); the policy's own
        # lines are watch_policy's.
        if message.type != "error" or "Content Security Policy" in message.text:
            return
        if not message.text.startswith("Failed to load resource"):
            problems.append(f"console error: {message.text}")

    tab.on("response", on_response)
    tab.on("console", on_console)
    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    yield tab
    context.close()
    assert problems == [], "\n".join(problems)


@pytest.fixture
def screenshot(request: pytest.FixtureRequest):
    """``screenshot(page, "overview")`` saves var/e2e/<test>--overview.png (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")

    def take(tab: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{test}--{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def shop(transactional_db) -> Staff:
    """A shop set up through the same service as the set-up form; returns its owner."""
    return set_up(
        Setup(
            business="Agua Pura Refilling",
            currency="PHP",
            region="PH",
            time_zone="Asia/Manila",
            store="Quezon Avenue",
            owner=OWNER,
            password=PASSWORD,
        )
    )
