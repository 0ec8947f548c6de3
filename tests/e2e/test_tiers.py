"""A member buys with her tier's discount and a coupon, in Chromium, in three actions —
scan, the product (and the coupon scanned), Confirm — in English, Chinese and Dutch:
the panel shows her tier and the tier's price, the total counts the discount, the
receipt shows the tier's and the coupon's lines; no English is left in Chinese or
Dutch."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from prepaid.catalog import tiers
from prepaid.catalog.models import CustomerTier
from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon
from prepaid.ledger.verify import verify
from prepaid.sales import services as sales
from tests.e2e import test_counter as at_counter
from tests.e2e.chromium import require_chromium
from tests.test_translations import untranslated_in

pytestmark = pytest.mark.e2e
require_chromium()
counter = at_counter.counter  # the counter, Carlos with a PIN, Maria with ₱100.00


@pytest.mark.parametrize("language", ["en", "zh-hans", "nl"])
def test_a_member_buys_with_her_tier_and_a_coupon(page: Page, counter, screenshot, language):
    maria = counter["maria"]
    gold = tiers.save_tier(
        None, name="Gold", threshold_minor=100, discount_bp=1000, bonus_multiplier=Decimal(1),
        by=None,
    )  # fmt: skip
    CustomerTier.objects.create(customer=maria, tier=gold, since=timezone.now(), qualifying_minor=0)
    (coupon,) = coupons.issue(coupons.Terms(Coupon.Kind.AMOUNT, 50), by=None)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": counter["url"]}]
    )
    at_counter.open_counter(page, counter, unlock=False)
    page.locator(".person").first.click()
    page.locator("#pin").fill(at_counter.PIN)
    page.locator("button.primary").click()
    box = page.locator("input[name=q]")
    expect(box).to_be_focused()

    box.fill(maria.cards.get().url)  # 1. scan
    box.press("Enter")
    expect(page.locator(".badge.tier")).to_have_text("Gold")
    page.locator(".preset[aria-label='Purified water × 5']").click()  # 2. the product…
    expect(page.locator("#total")).to_contain_text(re.compile(r"1[.,]57"))  # 1.75 less 10%, half up
    field = page.locator("input[name=coupon]")
    field.fill(coupon.code)  # …and the coupon, as a scanner types it
    field.press("Enter")
    seen = [page.locator("body").inner_text()]
    screenshot(page, f"{language}-tier-panel")
    page.locator("#confirm").click()  # 3. confirm

    # 1.75 less the coupon's 0.50, then 10% of the 1.25 left (0.13): 1.12 charged.
    expect(page.locator("#tier-line")).to_contain_text(re.compile(r"0[.,]13"))
    expect(page.locator("#coupon-line")).to_contain_text(re.compile(r"0[.,]50"))
    expect(page.locator("#new-balance")).to_contain_text(re.compile(r"98[.,]88"))
    seen.append(page.locator("body").inner_text())
    screenshot(page, f"{language}-tier-receipt")
    assert sales.balances(maria).paid == 9888 and verify() == []
    if language != "en":
        sources = ("counter/", "coupons/", "web/", "sales/setup.py")
        assert untranslated_in(language, seen, sources=sources) == []
