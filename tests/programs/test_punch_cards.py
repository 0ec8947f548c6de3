"""Punch cards as a water station uses them, through the API: the owner offers "10
refills + 1 free for ₱250", a cashier sells one and redeems it use by use; a redemption
is reversed, an ended card refuses, two cards are used soonest-ending first; what the
store was paid shows on the day's statement and in the drawer's expected cash; every
use's value adds up to the card's price exactly; ``verify`` stays clean throughout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.closing.figures import channels
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.programs import services as programs
from prepaid.programs.models import Package, PunchCard
from prepaid.reports.statements import statement
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound
from tests.factories import make_product, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def refills(api):
    product = make_product("Purified 5 gal", price="30")
    answer = api.owner.post(
        "/packages",
        {"name": "10 refills", "product": product.pk, "count": 10, "bonus_count": 1,
         "price": "250.00", "valid_days": 90},
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    return product, answer.json()


def buy(api, customer: str, package: int, key: str, **extra):
    return api.cashier.post(
        f"/customers/{customer}/packages", {"package": package, "method": "cash", **extra}, key=key
    )


def redeem(api, customer: str, product, quantity: int, key: str):
    return api.cashier.post(
        f"/customers/{customer}/redemptions",
        {"product": product.pk, "quantity": quantity},
        key=key,
    )


def test_buy_redeem_reverse_and_what_it_leaves(api, refills):
    product, package = refills
    assert package["price"] == "250.00" and package["bonus_count"] == 1
    customer = register(api)["code"]

    bought = buy(api, customer, package["id"], "buy-1")
    assert bought.status_code == 201, bought.content
    sold = bought.json()
    assert (sold["kind"], sold["total"], sold["amount"]) == ("package", "250.00", "0.00")
    card = sold["punch_card"]
    assert (card["remaining"], card["uses"], card["name"]) == (11, 11, "10 refills")
    assert api.cashier.get(f"/customers/{customer}").json()["punch_cards"][0]["remaining"] == 11
    assert buy(api, customer, package["id"], "buy-1").headers["Idempotent-Replayed"] == "true"
    assert PunchCard.objects.count() == 1
    assert_ledger_sound()

    used = redeem(api, customer, product, 1, "use-1")
    assert used.status_code == 201, used.content
    body = used.json()
    # A use is worth 250.00 / 11 = 22.72 (the last use carries the 0.08 left over).
    assert (body["kind"], body["total"], body["remaining"]) == ("redemption", "22.72", 10)
    assert body["cards"] == [{"id": card["id"], "used": 1, "remaining": 10}]
    assert body["punch_card"]["also"] == []
    assert_ledger_sound()

    batches = Batch.objects.count()
    refused = redeem(api, customer, product, 11, "use-2")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "nothing_to_redeem"
    assert Batch.objects.count() == batches  # nothing posted

    # The card cannot be taken back while a use is redeemed; undo the use first.
    taken_back = api.manager.post(f"/transactions/{sold['id']}/reversal", {"reason": "r"}, key="r1")
    assert taken_back.status_code == 409
    assert taken_back.json()["error"]["code"] == "punch_card_used"
    undone = api.manager.post(f"/transactions/{body['id']}/reversal", {"reason": "r"}, key="r2")
    assert undone.status_code == 201 and undone.json()["total"] == "22.72"
    assert api.cashier.get(f"/customers/{customer}").json()["punch_cards"][0]["remaining"] == 11
    again = api.owner.post(f"/transactions/{sold['id']}/reversal", {"reason": "r"}, key="r3")
    assert again.status_code == 201, again.content
    assert api.cashier.get(f"/customers/{customer}").json()["punch_cards"] == []
    assert_ledger_sound()


def test_every_use_is_worth_its_share_and_the_card_its_price(api):
    """3 uses for 1.00: 0.33, 0.33 and 0.34, in whatever order uses and their reversals
    come; the store's deferred money is what the uses left are worth (verify)."""
    product = make_product("Refill", price="1")
    package = api.owner.post(
        "/packages", {"name": "3 for 1", "product": product.pk, "count": 3, "price": "1.00"}
    ).json()
    customer = register(api)["code"]
    buy(api, customer, package["id"], "b")
    first = redeem(api, customer, product, 1, "u1").json()
    redeem(api, customer, product, 1, "u2")
    redeem(api, customer, product, 1, "u3")
    api.manager.post(f"/transactions/{first['id']}/reversal", {"reason": "r"}, key="r")
    assert_ledger_sound()
    last = redeem(api, customer, product, 1, "u4").json()
    assert last["remaining"] == 0
    revenue = Transfer.objects.filter(code=Transfer.Code.RECOGNISE)
    given_back = Transfer.objects.filter(
        code=Transfer.Code.REVERSAL, debit_account__kind=Account.Kind.REVENUE
    )
    recognised = sum(t.amount for t in revenue) - sum(t.amount for t in given_back)
    assert recognised == 100
    deferred = Account.objects.get(kind=Account.Kind.DEFERRED)
    assert ledger.balance(deferred) == 0
    assert_ledger_sound()


def test_the_soonest_ending_card_is_used_first_and_an_ended_one_not_at_all(api, refills):
    product, package = refills
    customer_code = register(api)["code"]
    short = api.owner.post(
        "/packages",
        {"name": "2 refills, 7 days", "product": product.pk, "count": 2, "price": "55.00",
         "valid_days": 7},
    ).json()  # fmt: skip
    long_card = buy(api, customer_code, package["id"], "long").json()["punch_card"]
    short_card = buy(api, customer_code, short["id"], "short").json()["punch_card"]
    held = api.cashier.get(f"/customers/{customer_code}").json()["punch_cards"]
    assert [c["id"] for c in held] == [short_card["id"], long_card["id"]]

    used = redeem(api, customer_code, product, 3, "three").json()
    assert used["cards"] == [
        {"id": short_card["id"], "used": 2, "remaining": 0},
        {"id": long_card["id"], "used": 1, "remaining": 10},
    ]
    assert used["total"] == "77.72"  # 27.50 × 2 + 22.72

    # The long card ends: nothing is left to redeem, and nothing is posted.
    PunchCard.objects.filter(pk=long_card["id"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    refused = redeem(api, customer_code, product, 1, "after the end")
    assert refused.json()["error"]["code"] == "nothing_to_redeem"
    assert api.cashier.get(f"/customers/{customer_code}").json()["punch_cards"] == []
    assert_ledger_sound()


def test_the_days_statement_and_the_drawer_count_the_cards_sold(api, refills):
    product, package = refills
    customer = register(api)["code"]
    api.cashier.post(f"/customers/{customer}/top-ups", {"amount": "100", "method": "cash"}, key="t")
    buy(api, customer, package["id"], "card")
    redeem(api, customer, product, 2, "two")
    today = timezone.localdate()

    found = statement(today, today)
    assert [(line.method.code, line.count, line.amount) for line in found.packages] == [
        ("cash", 1, 25000)
    ]
    cash = next(c for c in channels(found) if c.is_cash)
    assert (cash.top_ups, cash.packages, cash.net) == (10000, 25000, 35000)
    daily = api.owner.get("/reports/daily", date=today.isoformat()).json()
    assert daily["packages"] == [{"method": "cash", "name": "Cash", "count": 1, "amount": "250.00"}]
    # What the shop owes in money is untouched by the card (its counts are not money).
    assert found.closing.paid == 10000


def test_a_withdrawn_package_is_not_sold_and_cashiers_do_not_define_packages(api, refills):
    product, package = refills
    customer = register(api)["code"]
    programs.set_offered(Package.objects.get(pk=package["id"]), False, by=None)
    refused = buy(api, customer, package["id"], "k")
    assert refused.json()["error"]["code"] == "package_not_offered"
    body = {"name": "x", "product": product.pk, "count": 1, "price": "1"}
    assert api.cashier.post("/packages", body).status_code == 403
    assert [p["active"] for p in api.cashier.get("/packages").json()] == [False]
    wrong = redeem(api, customer, product, 0, "zero")
    assert wrong.status_code == 422


def test_a_card_paid_by_card_needs_its_slip(api, refills):
    _product, package = refills
    customer = register(api)["code"]
    card = method("card")
    card.requires_reference = True
    card.save()
    answer = api.cashier.post(
        f"/customers/{customer}/packages", {"package": package["id"], "method": "card"}, key="c"
    )
    assert answer.json()["error"]["code"] == "reference_required"
    assert not PunchCard.objects.exists()


def test_a_redemption_names_the_product_by_id_or_sku_and_an_id_wins(api, refills):
    product, package = refills
    customer = register(api)["code"]
    assert buy(api, customer, package["id"], "buy").status_code == 201
    by_sku = make_product("Purified 5 gal, by its code", price="30")
    by_sku.sku = "P5"
    by_sku.save()
    # Another product whose SKU is the card's product's id: the id wins.
    decoy = make_product("Decoy", price="1")
    decoy.sku = str(product.pk)
    decoy.save()
    used = api.cashier.post(
        f"/customers/{customer}/redemptions", {"product": str(product.pk), "quantity": 1}, key="u1"
    )
    assert used.status_code == 201, used.content
    assert used.json()["punch_card"]["product"] == product.pk
    # A product the customer holds no card of, by SKU: refused, nothing posted.
    batches = Batch.objects.count()
    refused = api.cashier.post(
        f"/customers/{customer}/redemptions", {"product": "P5", "quantity": 1}, key="u2"
    )
    assert refused.json()["error"]["code"] == "nothing_to_redeem"
    unknown = api.cashier.post(
        "/customers/2222-2222/redemptions", {"product": str(product.pk), "quantity": 1}, key="u3"
    )
    assert unknown.status_code == 404
    assert Batch.objects.count() == batches
    assert_ledger_sound()
