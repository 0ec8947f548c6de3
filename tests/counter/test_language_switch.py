"""The language switch lands on a page that answers, whatever page it was used on
(issue #13, found by a newcomer: after a refused sale it answered an empty 405)."""

from __future__ import annotations

import re

import pytest

from tests.counter.test_counter import key_of

pytestmark = pytest.mark.django_db


def _next(page) -> str:
    return re.search(r'name="next" type="hidden" value="([^"]*)"', page.content.decode())[1]


def test_switching_after_a_refused_sale_returns_to_the_customer(till, maria, water):
    panel_url = f"/counter/c/{maria.code}/"
    panel = till.get(panel_url)
    refused = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "900"},
        headers={"Referer": f"http://testserver{panel_url}"},
    )
    assert refused.status_code == 200 and "short" in refused.content.decode()
    assert _next(refused) == panel_url

    switched = till.post("/i18n/setlang/", {"language": "nl", "next": _next(refused)})
    assert switched.status_code == 302 and switched["Location"] == panel_url
    assert till.get(panel_url).status_code == 200


def test_without_a_referer_the_switch_goes_to_the_start(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    refused = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "900"},
    )
    assert _next(refused) == "/"


def test_a_referer_from_another_site_is_not_followed(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    refused = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "900"},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert _next(refused) == "/"


def test_on_a_page_asked_for_with_get_it_returns_there(till, maria):
    assert _next(till.get(f"/counter/c/{maria.code}/?top_up=1")) == (
        f"/counter/c/{maria.code}/?top_up=1"
    )
