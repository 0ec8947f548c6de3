"""The one role table (``prepaid.staff.roles``), tried on every back-office page and on
the counter's lock, for every role: a page is refused (403) exactly when the table says
the role may not do its action. The API's endpoints are tried the same way in
tests/api/test_permissions.py."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from prepaid.staff.roles import PERMISSIONS, may
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
MISSING = 999_999  # an id nothing has: the page is a 404, but only after the role check


def patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            found += patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry.callback))
    return found


def guarded() -> list[tuple[str, str]]:
    """(route, action) of every page that declares its action with ``@requires``."""
    return [(route, view.action) for route, view in patterns() if hasattr(view, "action")]


def url(route: str, code: str) -> str:
    path = "/" + route.replace("<str:code>", code).replace("<str:token>", "no-such-upload")
    path = path.replace("<str:file_format>", "xlsx").replace("<str:paper>", "a4")
    path = re.sub(r"<int:\w+>", str(MISSING), path)
    assert "<" not in path, path
    return path


def test_every_back_office_page_declares_an_action_of_the_table():
    routes = guarded()
    assert len(routes) > 30
    assert {action for _, action in routes} <= set(PERMISSIONS)
    unguarded = {
        route
        for route, view in patterns()
        if not hasattr(view, "action")
        and not route.startswith(("api/", "counter/", "c/", "m/", "i18n/", "kiosk/"))
    }
    # "" sends each role on; "login/code/" is the second step of the login
    assert unguarded == {"", "setup/", "login/", "login/code/", "logout/"}


@pytest.mark.parametrize("persona", ["owner", "manager", "cashier_a", "accountant"])
def test_every_role_on_every_page_is_allowed_or_refused_by_the_table(request, persona):
    person = request.getfixturevalue(persona)
    customer = make_customer("Maria Santos")
    client = Client()
    client.force_login(person.user)
    unexpected = []
    for route, action in guarded():
        path = url(route, customer.code)
        response = client.get(path)
        if response.status_code == 405:  # a POST-only page
            response = client.post(path, {})
        allowed = may(person.role, action)
        refused = response.status_code == 403
        if refused == allowed or response.status_code >= 500:
            unexpected.append((path, action, response.status_code))
    assert unexpected == []


@pytest.mark.parametrize("persona", ["owner", "manager", "cashier_a", "accountant"])
def test_who_may_unlock_the_counter_is_who_may_sell(request, store_a, owner, persona):
    person = request.getfixturevalue(persona)
    person.stores.add(store_a)
    counters.set_pin(person, "4827", by=owner)
    _device, secret = counters.enroll(store_a, "Till 1", by=owner)
    till = Client()
    till.cookies[COOKIE] = secret
    listed = f'?staff={person.pk}"' in till.get("/counter/unlock/").content.decode()
    response = till.post("/counter/unlock/", {"staff": person.pk, "pin": "4827"})
    unlocked = response.status_code == 302 and response["Location"] == "/counter/"
    assert listed == unlocked == may(person.role, "sell")
