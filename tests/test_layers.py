"""Imports point downward only, as INSTALLED_APPS lists the apps (docs/development.md,
"Layers"): a domain app imports the apps listed before it; the shared web package
imports the domain; an interface imports the domain and the web package, never another
interface. Only the project's root modules (urls, settings, the CLI) tie the interfaces
together."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

PACKAGE = Path(__file__).resolve().parent.parent / "prepaid"
ROOT_MODULES = {"urls", "settings", "cli", "wsgi", "checks", "__main__", "__init__", "db"}
INTERFACES = ("api", "backoffice", "counter", "ops", "portal")


def apps() -> list[str]:
    return [name.split(".")[1] for name in settings.INSTALLED_APPS if name.startswith("prepaid.")]


def imports(source: str) -> set[str]:
    """The prepaid apps a module imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "prepaid" and len(parts) > 1:
                found.add(parts[1])
    return found


def check(relative: Path, source: str) -> list[str]:
    """What the module at ``relative`` (to the package) imports against the layers."""
    order = apps()
    domain = [app for app in order if app not in INTERFACES]
    owner = relative.parts[0].removesuffix(".py")
    if owner in ROOT_MODULES or "migrations" in relative.parts:
        return []
    assert owner in order, f"{relative}: {owner} is not in INSTALLED_APPS"
    problems = []
    for used in sorted(imports(source) - {owner} - ROOT_MODULES):
        if owner in INTERFACES:
            allowed = used in domain
        else:
            allowed = used in domain and domain.index(used) < domain.index(owner)
        if not allowed:
            problems.append(f"{relative} imports prepaid.{used}")
    return problems


def test_imports_point_downward_only():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        problems += check(path.relative_to(PACKAGE), path.read_text())
    assert problems == []


def test_the_check_catches_an_upward_import_and_one_between_interfaces():
    assert check(Path("ledger/probe.py"), "from prepaid.counter import views") == [
        "ledger/probe.py imports prepaid.counter"
    ]
    assert check(Path("ledger/probe.py"), "def f():\n    from prepaid.sales import x") == [
        "ledger/probe.py imports prepaid.sales"
    ]
    assert check(Path("counter/probe.py"), "import prepaid.backoffice.views") == [
        "counter/probe.py imports prepaid.backoffice"
    ]
    assert check(Path("ledger/probe.py"), "from prepaid.customers import models") == []


def test_interfaces_come_last_in_installed_apps():
    order = apps()
    assert order[-len(INTERFACES) :] == sorted(INTERFACES)
