"""A coupon at the counter in Chromium: scan the customer, tap the product and scan the
coupon (the scanner's Enter lands on Confirm), Confirm; the receipt shows the coupon's
line. The same single-use coupon again is refused under the field, nothing posted."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon
from prepaid.ledger.verify import verify
from prepaid.sales import services as sales
from tests.e2e import test_counter as at_counter
from tests.e2e.chromium import require_chromium

pytestmark = pytest.mark.e2e
require_chromium()
counter = at_counter.counter  # the counter, Carlos with a PIN, Maria with ₱100.00


def test_sell_with_a_coupon_in_three_actions(page: Page, counter: dict[str, Any], screenshot):
    (coupon,) = coupons.issue(coupons.Terms(Coupon.Kind.AMOUNT, 50), by=None)
    maria = counter["maria"]
    at_counter.open_counter(page, counter)
    box = page.get_by_role("searchbox", name="Scan or search")
    box.fill(maria.cards.get().url)  # 1. scan the customer's card
    box.press("Enter")
    page.get_by_role("button", name="Purified water × 5").click()  # 2. the product…
    field = page.get_by_role("textbox", name="Coupon")
    field.fill(coupon.code.lower())  # …and the coupon, as a scanner types it
    field.press("Enter")
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_be_focused()
    expect(page.locator("#coupon-note")).to_be_visible()
    screenshot(page, "coupon-panel")
    page.get_by_role("button", name="Confirm", exact=True).click()  # 3. confirm

    expect(page.locator("#coupon-line")).to_contain_text(f"Coupon {coupon.code}")
    expect(page.locator("#coupon-line")).to_contain_text("₱0.50")
    expect(page.locator("#new-balance")).to_have_text("₱98.75")  # 1.75 − 0.50
    screenshot(page, "coupon-receipt")
    assert sales.balances(maria).paid == 9875

    page.goto(f"/counter/c/{maria.code}/")
    page.get_by_role("button", name="Purified water × 5").click()
    page.get_by_role("textbox", name="Coupon").fill(coupon.code)
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator("#coupon-error")).to_have_text(
        f"Coupon {coupon.code} has already been used."
    )
    screenshot(page, "coupon-refused")
    assert sales.balances(maria).paid == 9875 and verify() == []
