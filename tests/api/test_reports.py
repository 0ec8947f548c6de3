"""GET /reports/daily, /reports/statement, /reports/liability as API.md says: its field
names, decimal strings, the shop's day, credit never netted, and who may read them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.reports import days
from tests.api.conftest import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def morning(api, water):
    """A top-up with bonus, a sale, a refund and a reversal today; a customer in credit."""
    maria = register(api)["code"]
    api.owner.post(f"/customers/{maria}/top-ups", {"amount": "100.00", "method": "cash"}, key="t")
    sold = api.cashier.post(
        f"/customers/{maria}/sales",
        {"lines": [{"product": water.pk, "quantity": "4"}]},
        key="s",
    ).json()
    api.owner.post(f"/transactions/{sold['id']}/reversal", {"reason": "wrong"}, key="r")
    api.owner.post(
        f"/customers/{maria}/refunds",
        {"amount": "10.00", "method": "cash", "reason": "leaving"},
        key="f",
    )
    jun = api.owner.post("/customers", {"name": "Jun", "credit_limit": "5.00"}).json()
    api.owner.post(
        f"/customers/{jun['code']}/sales",
        {"lines": [{"product": water.pk, "quantity": "8"}]},
        key="credit",
    )
    return days.today()


def test_the_daily_statement_has_the_contracts_shape_and_figures(api, water, morning):
    answer = api.accountant.get("/reports/daily", date=morning.isoformat())
    assert answer.status_code == 200, answer.content
    report = answer.json()
    assert report["date"] == morning.isoformat() and report["store"] is None
    assert report["currency"] == "PHP"
    assert report["top_ups"] == [
        {"method": "cash", "name": "Cash", "count": 1, "amount": "100.00", "bonus": "0.00"}
    ]
    assert report["sales"] == [
        {"product": water.pk, "name": "Purified water", "unit": "gallon", "count": 2,
         "quantity": "12.000", "amount": "3.00", "from_paid": "3.00", "from_bonus": "0.00"}
    ]  # fmt: skip
    assert report["refunds"] == [
        {"method": "cash", "name": "Cash", "count": 1, "amount": "10.00", "forfeited": "0.00"}
    ]
    assert report["reversals"] == {"count": 1, "amount": "1.00"}
    assert report["liability"] == {
        "opening": {"paid": "0.00", "bonus": "0.00", "credit": "0.00"},
        "closing": {"paid": "90.00", "bonus": "0.00", "credit": "2.00"},
    }
    assert report["net_change"] == "90.00"


def test_a_statement_spans_days_and_a_store_narrows_it(api, water, morning):
    yesterday = morning - timedelta(days=1)
    span = api.manager.get(
        "/reports/statement", **{"from": yesterday.isoformat(), "to": morning.isoformat()}
    )
    assert span.status_code == 200, span.content
    assert (span.json()["from"], span.json()["to"]) == (yesterday.isoformat(), morning.isoformat())
    assert span.json()["net_change"] == "90.00"
    other = api.owner.post("/customers", {"name": "x"})  # a store with nothing in it
    assert other.status_code == 201
    from tests.factories import make_store

    empty = make_store("Uptown")
    narrowed = api.owner.get("/reports/daily", date=morning.isoformat(), store=empty.pk)
    assert narrowed.json()["store"] == "Uptown"
    assert narrowed.json()["top_ups"] == [] and narrowed.json()["sales"] == []
    assert narrowed.json()["liability"]["closing"]["paid"] == "90.00"  # the chain's


def test_what_was_owed_day_by_day(api, water, morning):
    start = morning - timedelta(days=2)
    answer = api.owner.get(
        "/reports/liability", **{"from": start.isoformat(), "to": morning.isoformat()}
    )
    assert answer.status_code == 200, answer.content
    rows = answer.json()["days"]
    assert [row["date"] for row in rows] == [
        (start + timedelta(days=n)).isoformat() for n in range(3)
    ]
    assert rows[0] == {"date": start.isoformat(), "paid": "0.00", "bonus": "0.00",
                       "credit": "0.00", "customers_with_balance": 0}  # fmt: skip
    assert rows[-1] == {"date": morning.isoformat(), "paid": "90.00", "bonus": "0.00",
                        "credit": "2.00", "customers_with_balance": 1}  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date": "yesterday"}, "date"),
        ({"date": "2026-02-30"}, "date"),
    ],
)
def test_a_wrong_date_is_a_clear_422(api, params, field):
    answer = api.owner.get("/reports/daily", **params)
    assert answer.status_code == 422
    assert field in answer.json()["error"]["fields"]


def test_a_span_backwards_or_too_long_is_refused(api):
    backwards = api.owner.get("/reports/statement", **{"from": "2026-03-02", "to": "2026-03-01"})
    assert backwards.status_code == 422 and "to" in backwards.json()["error"]["fields"]
    long = api.owner.get("/reports/liability", **{"from": "2020-01-01", "to": "2026-03-01"})
    assert long.status_code == 422


def test_cashiers_may_not_read_reports(api):
    today = timezone.localdate().isoformat()
    refused = api.cashier.get("/reports/daily", date=today)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_aging_burn_down_and_dormant_through_the_api(api, water, morning):
    aged = api.accountant.get("/reports/aging").json()
    assert aged["total"] == "90.00"
    assert aged["as_of"]  # computed for this read: no stored computation yet
    assert aged["ages"][0] == {"days": "0-30", "paid": "90.00"}
    assert [age["days"] for age in aged["ages"]] == ["0-30", "31-90", "91-180", "181-365", "366-"]
    burn = api.manager.get("/reports/burn-down").json()
    # Maria's one sale was reversed: she spent nothing in 90 days, so all of it is likely
    # never used.
    assert burn["held"] == "90.00" and burn["likely_never_used"] == "90.00"
    quiet = api.owner.get("/reports/dormant", days=1).json()
    assert (quiet["days"], quiet["customers"], quiet["largest"]) == (1, 0, [])
    assert api.cashier.get("/reports/aging").status_code == 403
