"""A coupon at the counter, in the sale's three actions: scan the customer, tap the
product (and scan or type the coupon), Confirm. The receipt shows the coupon and what
it took off; a refused coupon reads its reason beside the field, keeps what was typed
under a fresh key, and posts nothing; undoing the sale gives the coupon back."""

from __future__ import annotations

import re

import pytest

from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon, CouponUse
from prepaid.ledger.models import Batch, Transfer
from prepaid.sales import services as sales
from tests.conftest import assert_ledger_sound
from tests.counter import conftest as at_counter

pytestmark = pytest.mark.django_db
# The counter's fixtures: a till enrolled at store A, unlocked by a cashier; Maria with
# 10.00; water at 0.25 (the API's fixtures of this folder's conftest are priced alike).
device, with_pins, till = at_counter.device, at_counter.with_pins, at_counter.till
maria, water = at_counter.maria, at_counter.water


def form_key(page: str) -> str:
    form = page[page.index('id="sell-form"') :]
    return re.search(r'name="key" value="([0-9a-f]+)"', form).group(1)


def sell(till, customer, product, *, coupon, quantity="10"):
    panel = till.get(f"/counter/c/{customer.code}/").content.decode()
    body = {"key": form_key(panel), "product": product.pk, "quantity": quantity, "coupon": coupon}
    return till.post(f"/counter/c/{customer.code}/sell/", body)


@pytest.fixture
def coupon(water):
    (made,) = coupons.issue(coupons.Terms(Coupon.Kind.AMOUNT, 50), by=None)
    return made


def test_a_sale_with_a_coupon_shows_it_on_the_receipt(till, maria, water, coupon):
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert 'name="coupon"' in panel and "Scan or type its code" in panel

    sold = sell(till, maria, water, coupon=coupon.code.lower())  # 10 × 0.25 = 2.50
    assert sold.status_code == 302
    receipt = till.get(sold["Location"]).content.decode()
    assert f"Coupon {coupon.code}" in receipt and "−$0.50" in receipt
    assert "$2.50" in receipt  # the line's price before the coupon
    assert "$8.00" in receipt  # 10.00 − 2.00
    assert sales.balances(maria).paid == 800
    assert_ledger_sound()


def test_a_used_coupon_is_refused_beside_the_field_and_nothing_is_posted(
    till, maria, water, coupon
):
    first = sell(till, maria, water, coupon=coupon.code)
    assert first.status_code == 302
    counts = (Batch.objects.count(), Transfer.objects.count(), CouponUse.objects.count())
    refused = sell(till, maria, water, coupon=coupon.code)
    page = refused.content.decode()
    assert refused.status_code == 200
    assert f"Coupon {coupon.code} has already been used." in page
    assert 'id="coupon-error"' in page and f'value="{coupon.code}"' in page
    assert (Batch.objects.count(), Transfer.objects.count(), CouponUse.objects.count()) == counts

    # Undo the first sale from its receipt: the coupon is free again.
    receipt = till.get(first["Location"]).content.decode()
    undo_key = re.search(r'name="key" value="([0-9a-f]+)"', receipt).group(1)
    batch = first["Location"].rstrip("/").split("/")[-1]
    undone = till.post(f"/counter/receipt/{batch}/undo/", {"key": undo_key, "reason": "Oops"})
    assert undone.status_code == 302
    assert sell(till, maria, water, coupon=coupon.code).status_code == 302
    assert_ledger_sound()


def test_an_unknown_code_and_a_coupon_on_a_punch_card_use_are_refused(till, maria, water):
    refused = sell(till, maria, water, coupon="ZZZZ-ZZZZ").content.decode()
    assert "There is no coupon ZZZZ-ZZZZ; check the code." in refused
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    body = {"key": form_key(panel), "product": water.pk, "quantity": "1", "use_card": "1",
            "coupon": "ZZZZ-ZZZZ"}  # fmt: skip
    card_use = till.post(f"/counter/c/{maria.code}/sell/", body).content.decode()
    assert "A coupon takes money off a sale, not a punch card use." in card_use
    assert not Batch.objects.filter(code=Batch.Code.SALE).exists()
