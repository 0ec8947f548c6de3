"""Pre-printed card stock in Chromium (issue #13): the owner generates a batch and its
sheet; a cashier registers a walk-in and links one of the printed cards by "scanning" it
(a USB scanner types the card's URL and Enter); the card then opens the new customer's
own page with their balance."""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from prepaid.customers.models import BlankCard, Customer
from prepaid.lib import sealing
from prepaid.sales import services as sales
from tests.e2e import flows
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD
from tests.e2e.test_counter import counter, open_counter  # noqa: F401  (the fixture)

pytestmark = pytest.mark.e2e
require_chromium()


def test_a_printed_card_from_the_stock_becomes_a_walk_ins_card(
    page: Page,
    counter: dict[str, Any],  # noqa: F811
    screenshot,
) -> None:
    page.goto("/customers/")
    flows.log_in(page, OWNER, PASSWORD)
    page.get_by_role("link", name="Card stock").click()
    page.get_by_label("Cards to generate").fill("4")
    page.get_by_role("button", name="Generate and print").click()
    printed = page.locator(".card-print.blank")
    expect(printed).to_have_count(4)
    expect(printed.first).to_contain_text("Agua Pura Refilling")
    screenshot(page, "sheet")
    image = Image.open(io.BytesIO(printed.first.locator(".qr svg").screenshot(scale="device")))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1 and "/c/" in decoded[0].text
    scanned = decoded[0].text
    page.goto("/cards/stock/")
    expect(page.locator("table tbody tr")).to_have_count(1)
    screenshot(page, "stock")
    flows.log_out(page)

    open_counter(page, counter)
    other = BlankCard.objects.exclude(token_digest=sealing.digest(scanned.split("/c/")[1])).first()
    box = page.get_by_role("searchbox", name="Scan or search")
    box.fill(other.url)
    box.press("Enter")
    expect(page.get_by_role("heading", name="This card is not linked yet")).to_be_visible()
    expect(page.get_by_role("link", name="New customer with this card")).to_be_visible()
    screenshot(page, "counter-blank")
    page.get_by_role("searchbox", name="Scan or search").fill("Ana Cruz")
    page.get_by_role("link", name="New customer: Ana Cruz").click()
    page.get_by_role("button", name="Register and open").click()
    expect(page.get_by_role("heading", name="Their card")).to_be_visible()
    screenshot(page, "new-card")
    field = page.get_by_label("Scan a pre-printed card")
    field.click()
    page.keyboard.type(scanned)  # what a USB scanner does: the URL, then Enter
    page.keyboard.press("Enter")
    expect(page.get_by_text("The printed card is now their card.")).to_be_visible()
    screenshot(page, "linked")
    page.get_by_role("button", name="Top up 100 → +10").click()
    page.get_by_role("button", name="Confirm top-up").click()
    expect(page.locator("#new-balance")).to_have_text("₱100.00")

    ana = Customer.objects.get(name="Ana Cruz")
    assert ana.cards.get(revoked_at__isnull=True).url == scanned
    assert BlankCard.objects.filter(used_at__isnull=False).count() == 1
    assert sales.balances(ana).paid == 10000

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(scanned.split("/c/", 1)[1].join(("/c/", "")))
    expect(page.get_by_role("heading", name="Ana Cruz")).to_be_visible()
    expect(page.locator("main")).to_contain_text("₱100.00")
    screenshot(page, "customer-page")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename.startswith(f"statement-{ana.code}-")
    assert download.value.suggested_filename.endswith(".pdf")

    unused = BlankCard.objects.filter(used_at__isnull=True).first()
    page.goto(f"/c/{unused.token}")
    expect(page.get_by_role("heading", name="This card is not in use yet")).to_be_visible()
    screenshot(page, "blank-page")
