"""GET /day-closes and /day-closes/{id} as API.md says: each close's number, totals,
counted cash, differences and digest, as decimal strings; paged newest first; read by
owners, managers and accountants, refused to cashiers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from prepaid.closing.operations import CloseDay
from prepaid.customers.models import Customer
from prepaid.ledger.services import Actor
from prepaid.operations.envelope import run
from prepaid.reports import days
from prepaid.sales import services as sales
from tests.api.conftest import register
from tests.factories import make_staff, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(api, water):
    """A top-up of 100.00 cash today, five minutes ago (a close made now stops a minute
    before); yesterday and today closed at Main Street."""
    maria = Customer.objects.get(code=register(api)["code"])
    mona = make_staff("Mona", role="manager", store=api.store)
    earlier = Actor(store=api.store, staff=mona, at=timezone.now() - dt.timedelta(minutes=5))
    sales.top_up(maria, 10000, method=method("cash"), key="t", actor=earlier)
    actor = Actor(store=api.store, staff=mona)
    place = f"store:{api.store.pk}"
    today = days.today()
    for number, (day, counted) in enumerate(((today - dt.timedelta(days=1), 0), (today, 9500))):
        run(
            CloseDay(
                place=place,
                day=day,
                counted_minor=counted,
                explanations=(("cash", "a note was torn"),) if counted else (),
            ),
            actor=actor,
            scope="test",
            key=f"close-{number}",
        )
    return today


def test_the_closes_have_the_contracts_fields_newest_first(api, closed):
    answer = api.accountant.get("/day-closes")
    assert answer.status_code == 200, answer.content
    newest, older = answer.json()["results"]
    assert (newest["number"], older["number"]) == (2, 1)
    assert newest["day"] == closed.isoformat() and newest["store"] == api.store.pk
    assert newest["counter"] is None and newest["state"] == "submitted"
    assert newest["totals"]["top_ups"] == {
        "count": 1, "amount": "100.00", "bonus": "0.00", "from_bonus": None, "forfeited": None
    }  # fmt: skip
    assert (newest["expected_cash"], newest["counted_cash"], newest["cash_difference"]) == (
        "100.00",
        "95.00",
        "-5.00",
    )
    assert newest["channels"][0]["explanation"] == "a note was torn"
    assert len(newest["digest"]) == 64 and newest["transactions"] == 1
    assert older["difference"] == "0.00" and older["transactions"] == 0
    assert api.manager.get(f"/day-closes/{older['id']}").json() == older


def test_closes_are_paged_and_filtered(api, closed):
    first = api.owner.get("/day-closes", limit=1).json()
    assert len(first["results"]) == 1 and first["next"]
    second = api.owner.get("/day-closes", limit=1, cursor=first["next"]).json()
    assert second["results"][0]["number"] == 1 and second["next"] is None
    assert api.owner.get("/day-closes", store=api.store.pk + 1).json()["results"] == []
    assert len(api.owner.get("/day-closes", state="submitted").json()["results"]) == 2
    wrong = api.owner.get("/day-closes", state="open")
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "validation_error"
    assert api.owner.get("/day-closes/999999").status_code == 404
    assert api.owner.get("/day-closes/x").status_code == 404


def test_cashiers_may_not_read_closes(api, closed):
    refused = api.cashier.get("/day-closes")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
