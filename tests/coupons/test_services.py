"""Coupons through the operation every interface runs (``operations.money.Sale``): each
kind, the rules that refuse one (and post nothing), reversal giving the use back, the
discount on the lines, replays; ``verify`` clean after each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon, CouponUse
from prepaid.ledger.models import Batch, Transfer
from prepaid.ledger.verify import verify
from prepaid.lib.sealing import open_record
from prepaid.operations.envelope import run
from prepaid.operations.models import Event
from prepaid.operations.money import Reversal, Sale
from prepaid.sales import services as sales
from prepaid.sales.models import SaleLine
from prepaid.staff.models import AuditEvent
from prepaid.staff.refusals import Refusal
from tests.conftest import assert_ledger_sound
from tests.factories import key, make_customer, make_product

pytestmark = pytest.mark.django_db

Kind = Coupon.Kind


@pytest.fixture
def shop(actor):
    water = make_product("Purified water", price="0.35")
    soap = make_product("Soap", price="2.00", unit="piece")
    maria = make_customer("Maria Santos", balance="100.00", actor=actor)
    return water, soap, maria


def one(kind=Kind.AMOUNT, value=50, **terms) -> Coupon:
    (coupon,) = coupons.issue(coupons.Terms(kind, value, **terms), by=None)
    return coupon


def sell(actor, customer, *lines, coupon="", sale_key=None):
    operation = Sale(
        customer=customer.code,
        lines=tuple((str(product.pk), quantity) for product, quantity in lines),
        coupon=coupon,
    )
    return run(operation, actor=actor, scope="test", key=sale_key or key("sale"))


def refused(actor, customer, *lines, coupon) -> Refusal:
    before = (Batch.objects.count(), Transfer.objects.count(), SaleLine.objects.count())
    uses = CouponUse.objects.count()
    with pytest.raises(Refusal) as caught:
        sell(actor, customer, *lines, coupon=coupon)
    after = (Batch.objects.count(), Transfer.objects.count(), SaleLine.objects.count())
    assert after == before and CouponUse.objects.count() == uses, "a refusal posted something"
    assert caught.value.code == "coupon_not_valid" and caught.value.status == 409
    assert_ledger_sound()
    return caught.value


def test_an_amount_off_is_taken_off_the_lines_in_proportion(actor, shop):
    water, soap, maria = shop
    coupon = one(Kind.AMOUNT, 100)
    done = sell(actor, maria, (water, "10"), (soap, "1"), coupon=coupon.code.lower())
    data = done.data
    # 3.50 + 2.00 = 5.50, less 1.00: 4.50, shared 3.50 : 2.00 → 0.64 and 0.36
    assert (data["total"], data["discount"], data["coupon"]) == ("4.50", "1.00", coupon.code)
    assert [(line["amount"], line["discount"]) for line in data["lines"]] == [
        ("2.86", "0.64"),
        ("1.64", "0.36"),
    ]
    assert sales.balances(maria).paid == 10_000 - 450
    use = CouponUse.objects.get()
    assert (use.coupon, use.batch_id, use.customer, use.discount_minor) == (
        coupon,
        done.batch_id,
        maria,
        100,
    )
    event = Event.objects.filter(type="sale.created").last()
    assert f'"coupon": "{coupon.code}"' in open_record(event.data)
    assert_ledger_sound()


def test_an_amount_off_is_capped_at_the_product_it_is_for(actor, shop):
    water, soap, maria = shop
    coupon = one(Kind.AMOUNT, 500, product=soap)
    data = sell(actor, maria, (water, "10"), (soap, "1"), coupon=coupon.code).data
    assert (data["total"], data["discount"]) == ("3.50", "2.00")
    assert [line["discount"] for line in data["lines"]] == ["0.00", "2.00"]
    assert_ledger_sound()


def test_a_percentage_is_rounded_half_up_to_the_cent(actor, shop):
    water, _, maria = shop
    coupon = one(Kind.PERCENT, 10)
    data = sell(actor, maria, (water, "5"), coupon=coupon.code).data  # 1.75 × 10% = 0.175
    assert (data["total"], data["discount"]) == ("1.57", "0.18")
    assert_ledger_sound()


def test_a_free_product_takes_one_unit_off(actor, shop):
    water, soap, maria = shop
    coupon = one(Kind.PRODUCT, 1, product=soap)
    data = sell(actor, maria, (water, "10"), (soap, "3"), coupon=coupon.code).data
    assert (data["total"], data["discount"]) == ("7.50", "2.00")
    assert_ledger_sound()


def test_a_coupon_for_a_product_not_in_the_sale_is_refused(actor, shop):
    water, soap, maria = shop
    coupon = one(Kind.PRODUCT, 1, product=soap)
    refusal = refused(actor, maria, (water, "10"), coupon=coupon.code)
    assert refusal.params["reason"] == "product"
    assert refusal.message() == f"Coupon {coupon.code} is for Soap, which is not in this sale."


def test_the_minimum_spend_is_the_sale_before_the_discount(actor, shop):
    water, _, maria = shop
    coupon = one(Kind.AMOUNT, 50, min_spend_minor=350)
    refusal = refused(actor, maria, (water, "9"), coupon=coupon.code)  # 3.15
    assert refusal.params["reason"] == "min_spend"
    assert refusal.message() == f"Coupon {coupon.code} needs a sale of at least $3.50."
    assert sell(actor, maria, (water, "10"), coupon=coupon.code).data["total"] == "3.00"
    assert_ledger_sound()


def test_an_expired_or_early_coupon_is_refused(actor, shop):
    water, _, maria = shop
    today = coupons.today()
    early = one(valid_from=today + timedelta(days=1))
    assert refused(actor, maria, (water, "10"), coupon=early.code).params == {
        "coupon": early.code,
        "reason": "not_yet",
        "day": (today + timedelta(days=1)).isoformat(),
    }
    ended = one(valid_until=today)
    Coupon.objects.filter(pk=ended.pk).update(valid_until=today - timedelta(days=1))
    assert refused(actor, maria, (water, "10"), coupon=ended.code).params["reason"] == "expired"
    last_day = one(valid_until=today)
    assert sell(actor, maria, (water, "10"), coupon=last_day.code).status == 201


def test_a_single_use_coupon_is_used_once_and_a_reversal_gives_it_back(actor, shop):
    water, _, maria = shop
    coupon = one()
    first = sell(actor, maria, (water, "10"), coupon=coupon.code)
    refusal = refused(actor, maria, (water, "10"), coupon=coupon.code)
    assert refusal.params["reason"] == "used"
    assert refusal.message() == f"Coupon {coupon.code} has already been used."
    run(Reversal(transaction=first.batch_id, reason="Wrong customer"), actor=actor,
        scope="test", key="undo")  # fmt: skip
    assert_ledger_sound()
    again = sell(actor, maria, (water, "10"), coupon=coupon.code)
    assert again.data["discount"] == "0.50"
    assert coupons.counted().get(pk=coupon.pk).used == 1
    assert_ledger_sound()


def test_uses_per_customer_and_in_all(actor, shop):
    water, _, maria = shop
    jun = make_customer("Jun Reyes", balance="10.00", actor=actor)
    coupon = one(uses=None, per_customer=2)
    sell(actor, maria, (water, "10"), coupon=coupon.code)
    sell(actor, maria, (water, "10"), coupon=coupon.code)
    refusal = refused(actor, maria, (water, "10"), coupon=coupon.code)
    assert refusal.params["reason"] == "customer_limit"
    assert sell(actor, jun, (water, "10"), coupon=coupon.code).status == 201
    limited = one(uses=2, per_customer=None)
    sell(actor, maria, (water, "10"), coupon=limited.code)
    sell(actor, jun, (water, "10"), coupon=limited.code)
    assert refused(actor, maria, (water, "10"), coupon=limited.code).params["reason"] == "used"
    assert_ledger_sound()


def test_unknown_withdrawn_and_someone_elses_coupons_are_refused(actor, shop):
    water, _, maria = shop
    refusal = refused(actor, maria, (water, "10"), coupon="NOPE-2345")
    assert (refusal.params["reason"], refusal.field) == ("unknown", "coupon")
    assert refusal.message() == "There is no coupon NOPE-2345; check the code."
    gone = coupons.withdraw(one(), by=None)
    assert refused(actor, maria, (water, "10"), coupon=gone.code).params["reason"] == "withdrawn"
    jun = make_customer("Jun Reyes", balance="10.00", actor=actor)
    his = one(customer=jun)
    assert refused(actor, maria, (water, "10"), coupon=his.code).params["reason"] == (
        "other_customer"
    )
    assert sell(actor, jun, (water, "10"), coupon=his.code).status == 201


def test_a_coupon_that_would_leave_nothing_to_pay_is_refused(actor, shop):
    water, _, maria = shop
    coupon = one(Kind.AMOUNT, 500)
    assert refused(actor, maria, (water, "10"), coupon=coupon.code).params["reason"] == (
        "whole_sale"
    )
    tiny = one(Kind.PERCENT, 1)
    assert refused(actor, maria, (water, "1"), coupon=tiny.code).params["reason"] == "nothing"


def test_a_refusal_is_kept_and_a_sale_replayed_with_its_key(actor, shop):
    water, _, maria = shop
    coupon = one()
    first = sell(actor, maria, (water, "10"), coupon=coupon.code, sale_key="k1")
    again = sell(actor, maria, (water, "10"), coupon=coupon.code, sale_key="k1")
    assert again.replayed and again.body == first.body
    assert CouponUse.objects.count() == 1
    with pytest.raises(Refusal):
        sell(actor, maria, (water, "10"), coupon=coupon.code, sale_key="k2")
    with pytest.raises(Refusal) as replayed:
        sell(actor, maria, (water, "10"), coupon=coupon.code, sale_key="k2")
    assert replayed.value.replayed and replayed.value.code == "coupon_not_valid"
    with pytest.raises(Refusal) as other:
        sell(actor, maria, (water, "10"), coupon="", sale_key="k1")
    assert other.value.code == "idempotency_key_reused"
    assert_ledger_sound()


def test_the_service_alone_sells_in_its_own_transaction(actor, shop):
    water, _, maria = shop
    coupon = one(Kind.PERCENT, 50)
    done = coupons.sell(maria, [sales.Line(water, "10")], coupon=coupon.code, key="alone",
                        actor=actor)  # fmt: skip
    assert [line.discount_minor for line in done.sold.lines] == [175]
    assert done.uses[0].pk is not None
    assert_ledger_sound()


def test_issuing_a_series_is_audited_and_checks_its_terms(owner, shop):
    water, _, _ = shop
    made = coupons.issue(
        coupons.Terms(Kind.PERCENT, 15, product=water), count=5, series="Flyer", by=owner
    )
    assert len({coupon.code for coupon in made}) == 5
    assert all(coupon.series == "Flyer" and coupon.uses_allowed == 1 for coupon in made)
    entry = AuditEvent.objects.get(action="coupons.issued")
    assert (entry.staff, entry.after["codes"]) == (owner, sorted(c.code for c in made))
    for terms, field in [
        (coupons.Terms(Kind.PERCENT, 101), "value"),
        (coupons.Terms(Kind.PRODUCT, 1), "product"),
        (coupons.Terms(Kind.AMOUNT, 0), "value"),
        (coupons.Terms(Kind.AMOUNT, 1, uses=0), "uses"),
        (coupons.Terms(Kind.AMOUNT, 1, valid_until=coupons.today() - timedelta(days=1)),
         "valid_until"),
    ]:  # fmt: skip
        with pytest.raises(Refusal) as caught:
            coupons.issue(terms, by=owner)
        assert caught.value.field == field
    with pytest.raises(Refusal):
        coupons.issue(coupons.Terms(Kind.AMOUNT, 1), count=0, by=owner)


def test_verify_finds_an_overused_coupon_and_lines_that_disagree(actor, shop):
    water, _, maria = shop
    coupon = one()
    first = sell(actor, maria, (water, "10"), coupon=coupon.code)
    second = sell(actor, maria, (water, "10"))
    CouponUse.objects.create(coupon=coupon, batch_id=second.batch_id, customer=maria,
                             discount_minor=50)  # fmt: skip
    found = {violation.check for violation in verify()}
    assert found == {"coupons"}
    problems = [str(v) for v in verify()]
    assert any(f"coupon {coupon.code}: 2 uses" in p for p in problems)
    assert any(f"sale {second.batch_id}: its lines took off 0" in p for p in problems)
    assert first.batch_id != second.batch_id
