"""Time passes as a water station sells them: "unlimited 5-gallon refills for 30 days,
at most 2 a day". Sold through the API, used under its caps (the shop's day and week),
a use undone gives it back, a used pass is not taken back, uses beyond the cap come
from a punch card when there is one, and when the pass ends its price becomes revenue
once; ``verify`` stays clean throughout."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.operations.programs import earn_due
from prepaid.programs import services as programs
from prepaid.programs.models import Pass
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, make_product, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def monthly(api):
    product = make_product("Purified 5 gal", price="30")
    answer = api.owner.post(
        "/packages",
        {"kind": "time", "name": "Unlimited refills, 30 days", "product": product.pk,
         "price": "500.00", "valid_days": 30, "max_per_day": 2},
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    return product, answer.json()


def redeem(api, customer: str, product, quantity: int, key: str):
    return api.cashier.post(
        f"/customers/{customer}/redemptions",
        {"product": product.pk, "quantity": quantity},
        key=key,
    )


def test_a_pass_is_sold_used_within_its_cap_and_undone(api, monthly):
    product, package = monthly
    assert (package["kind"], package["max_per_day"], package["count"]) == ("time", 2, 0)
    customer = register(api)["code"]

    bought = api.cashier.post(
        f"/customers/{customer}/packages", {"package": package["id"], "method": "cash"}, key="b"
    )
    assert bought.status_code == 201, bought.content
    sold = bought.json()
    assert (sold["kind"], sold["total"], sold["punch_card"]) == ("package", "500.00", None)
    assert (sold["pass"]["max_per_day"], sold["pass"]["uses_today"]) == (2, 0)
    shown = api.cashier.get(f"/customers/{customer}").json()["passes"]
    assert [(p["name"], p["left_today"]) for p in shown] == [("Unlimited refills, 30 days", 2)]
    assert_ledger_sound()

    first = redeem(api, customer, product, 1, "use-1")
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["kind"], body["total"], body["punch_card"], body["cards"]) == (
        "redemption", "0.00", None, [],
    )  # fmt: skip
    assert body["passes"] == [
        {"id": sold["pass"]["id"], "name": "Unlimited refills, 30 days", "used": 1, "uses_today": 1}
    ]
    # The answer is what reading the transaction back shows.
    again = api.cashier.get(f"/transactions/{body['id']}").json()
    assert {k: again[k] for k in ("total", "amount", "kind")} == {
        "total": "0.00", "amount": "0.00", "kind": "redemption",
    }  # fmt: skip

    batches = Batch.objects.count()
    over = redeem(api, customer, product, 2, "use-2")  # one left today, two asked
    assert over.status_code == 409 and over.json()["error"]["code"] == "nothing_to_redeem"
    assert Batch.objects.count() == batches
    assert redeem(api, customer, product, 1, "use-3").status_code == 201
    assert redeem(api, customer, product, 1, "use-4").status_code == 409
    assert redeem(api, customer, product, 1, "use-3").headers["Idempotent-Replayed"] == "true"

    # The pass cannot be taken back while it has uses; an undone use frees the cap.
    taken_back = api.manager.post(f"/transactions/{sold['id']}/reversal", {"reason": "r"}, key="r")
    assert taken_back.status_code == 409 and taken_back.json()["error"]["code"] == "pass_used"
    undone = api.owner.post(f"/transactions/{body['id']}/reversal", {"reason": "r"}, key="r2")
    assert undone.status_code == 201, undone.content
    assert api.cashier.get(f"/customers/{customer}").json()["passes"][0]["uses_today"] == 1
    assert redeem(api, customer, product, 1, "use-5").status_code == 201
    assert_ledger_sound()


def test_the_cap_counts_the_shops_day_and_week(actor):
    Business.objects.filter(pk=1).update(time_zone="Asia/Manila")
    water = make_product("Refill", price="30")
    package = programs.create_package(
        kind="time", name="Week pass", product=None, price_minor=20000, valid_days=30,
        max_per_day=2, max_per_week=3, by=None,
    )  # fmt: skip
    customer = make_customer(actor=actor)
    manila = ZoneInfo("Asia/Manila")
    monday_morning = datetime(2026, 11, 30, 8, 0, tzinfo=manila)  # a Monday
    at = replace(actor, at=monday_morning)
    programs.sell_package(customer, package, method=method(), key="sell", actor=at)

    def use(key: str, moment: datetime, quantity: int = 1) -> str:
        try:
            programs.redeem(customer, water, quantity, key=key, actor=replace(actor, at=moment))
        except Refusal as refusal:
            return refusal.code
        return "used"

    assert use("m1", monday_morning) == "used"
    assert use("m2", monday_morning + timedelta(hours=15)) == "used"  # 23:00 Manila
    assert use("m3", monday_morning + timedelta(hours=15, minutes=30)) == "nothing_to_redeem"
    # 00:30 on Tuesday in Manila is still Monday in UTC: the shop's day counts.
    assert use("t1", monday_morning + timedelta(hours=16, minutes=30)) == "used"
    assert use("w1", monday_morning + timedelta(days=2)) == "nothing_to_redeem"  # 3 this week
    assert use("n1", monday_morning + timedelta(days=7)) == "used"  # the next Monday
    held = programs.passes(customer, now=monday_morning + timedelta(days=7, hours=1))
    assert [(h.today, h.this_week, h.left_today) for h in held] == [(1, 1, 1)]
    assert_ledger_sound()


def test_uses_beyond_the_pass_come_from_a_punch_card(actor):
    water = make_product("Refill", price="30")
    daily = programs.create_package(
        kind="time", name="Daily one", product=water, price_minor=9000, valid_days=30,
        max_per_day=1, by=None,
    )  # fmt: skip
    card = programs.create_package(
        name="5 refills", product=water, count=5, price_minor=10000, by=None
    )
    customer = make_customer(actor=actor)
    programs.sell_package(customer, daily, method=method(), key="pass", actor=actor)
    programs.sell_package(customer, card, method=method(), key="card", actor=actor)

    used = programs.redeem(customer, water, 3, key="three", actor=actor)
    assert [(p.name, n, today) for p, n, today in used.passes] == [("Daily one", 1, 1)]
    assert [(c.name, n, left) for c, n, left in used.taken] == [("5 refills", 2, 3)]
    assert used.remaining == 3
    revenue = sum(leg.amount for leg in used.receipt.legs if leg.code == Transfer.Code.RECOGNISE)
    assert revenue == 4000  # two uses of a 100.00 card of 5
    assert_ledger_sound()


def test_an_ended_pass_is_earned_once_and_a_reversed_sale_never(actor):
    water = make_product("Refill", price="30")
    package = programs.create_package(
        kind="time", name="Month", product=water, price_minor=50000, valid_days=30, by=None
    )
    maria, juan = make_customer("Maria", actor=actor), make_customer("Juan", actor=actor)
    ended = programs.sell_package(maria, package, method=method(), key="m", actor=actor)
    taken_back = programs.sell_package(juan, package, method=method(), key="j", actor=actor)
    from prepaid.sales import services as sales

    sales.reverse(taken_back.receipt.batch, key="undo", actor=actor, reason="wrong customer")
    assert programs.passes(juan) == []
    later = timezone.now() + timedelta(days=31)
    assert programs.passes(maria, now=later) == []

    assert earn_due(later) == 1
    assert earn_due(later) == 0  # the next round (or cron every hour): nothing more
    earned = Batch.objects.get(code=Batch.Code.EXPIRY)
    assert earned.staff_id is None
    assert Pass.objects.get(pk=ended.time_pass.pk).earned_id == earned.pk
    revenue = Account.objects.get(kind=Account.Kind.REVENUE)
    assert ledger.balance(revenue) == 50000
    assert ledger.balance(Account.objects.get(kind=Account.Kind.DEFERRED)) == 0
    assert_ledger_sound()

    out = StringIO()
    call_command("expire", stdout=out)
    assert out.getvalue().startswith("Expired 0 punch card(s), 0 use(s); earned 0 pass(es);")


def test_a_pass_needs_its_days_and_a_price(api):
    product = make_product("Refill", price="30")
    for body, field in (
        ({"kind": "time", "name": "P", "product": product.pk, "price": "100.00"}, "valid_days"),
        ({"kind": "time", "name": "P", "price": "0.00", "valid_days": 30}, "price"),
        ({"kind": "count", "name": "C", "price": "10.00", "count": 5}, "product"),
    ):
        answer = api.owner.post("/packages", body)
        assert answer.status_code == 422, answer.content
        assert list(answer.json()["error"]["fields"]) == [field]
    anywhere = api.owner.post(
        "/packages", {"kind": "time", "name": "All water", "price": "900.00", "valid_days": 30}
    )
    assert anywhere.status_code == 201 and anywhere.json()["product"] is None
    assert api.cashier.post("/packages", {"name": "x", "price": "1.00"}).status_code == 403
