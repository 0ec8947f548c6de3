"""Every page and every API list, asked with absurd query values — a date in the year
99999, a page number of 10**30, NUL bytes in a search, text where a number goes — answers
with a translated error or ignores the value; never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from prepaid.api.api import api as ninja_api
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

HUGE = "1" + "0" * 30
ABSURD = [
    {"page": HUGE, "limit": HUGE, "days": HUGE, "store": HUGE, "staff": HUGE, "series": HUGE},
    {"page": "-1", "limit": "-1", "days": "-5", "store": "-1", "staff": "abc", "top_up": "x"},
    {"q": "Ma\x00ria", "tag": "\x00", "status": "\x00", "state": "\x00", "cursor": "\x00"},
    {"code": ["\x00", "K7MQ-4XZP\x00"], "action": "\x00", "layout": "\x00", "series": "\x00"},
    {"from": "99999-01-01", "to": "99999-12-31", "date": "99999-01-01", "day": "99999-01-01"},
    {"from": "0000-00-00", "to": "2026-02-30", "date": "\x00", "month": "99999-13"},
    {"first_day": "99999-01-01", "last_day": "1-01-01", "start": "99999-1-1", "end": "\x00"},
    {"cursor": "9" * 400, "q": "x" * 10_000, "has_balance": "\x00", "dormant": HUGE},
    {"store": "²", "dormant": "²", "days": "²", "page": "²", "limit": "²", "place": "store:²"},
]


def plain_routes(resolver=None, prefix: str = "") -> list[str]:
    """The site's pages that take no path argument (the API's apart)."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if "<" in route or route.startswith(("api/", "i18n/", "logout")):
            continue
        if isinstance(entry, URLResolver):
            found += plain_routes(entry, route)
        elif isinstance(entry, URLPattern):
            found.append("/" + route.lstrip("^").rstrip("$"))
    return found


def api_routes() -> list[str]:
    found = []
    for prefix, router in ninja_api._routers:
        for path, view in router.path_operations.items():
            full = (prefix + path).replace("//", "/")
            if "{" not in full and any(op.methods == ["GET"] for op in view.operations):
                found.append("/api/v1/" + full.lstrip("/"))
    return sorted(set(found))


def test_the_sweep_covers_the_pages_and_the_lists():
    assert len(plain_routes()) > 20 and len(api_routes()) > 8


@pytest.mark.parametrize("params", ABSURD)
def test_pages_answer_absurd_queries_without_a_server_error(owner, params):
    make_customer("Maria Santos", balance="10.00")
    client = Client(raise_request_exception=False)
    client.force_login(owner.user)
    failures = {}
    for route in plain_routes():
        response = client.get(route, params, headers={"Accept-Language": "nl"})
        if response.status_code >= 500:
            failures[route] = response.status_code
    assert failures == {}
