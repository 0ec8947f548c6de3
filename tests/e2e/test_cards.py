"""A customer registered in the browser gets a printable card whose QR really scans."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from prepaid.customers import lookup
from prepaid.customers.models import Customer
from tests.e2e import flows
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD

pytestmark = pytest.mark.e2e
require_chromium()


def test_register_a_customer_and_print_a_card_whose_qr_scans(page: Page, shop, screenshot) -> None:
    page.goto("/customers/")
    flows.log_in(page, OWNER, PASSWORD)
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Name").fill("王芳")
    page.get_by_label("Phone").fill("0917 123 4567")
    page.get_by_label("Agrees to marketing by SMS").check()
    page.get_by_role("button", name="Register customer").click()
    expect(page.get_by_role("heading", name="王芳")).to_be_visible()
    screenshot(page, "profile")
    customer = Customer.objects.get(name="王芳")
    assert customer.phone == "+639171234567"

    page.goto(f"/customers/print/?code={customer.code}")
    card = page.locator(".card-print")
    expect(card).to_contain_text("王芳")
    expect(card).to_contain_text(customer.code)
    screenshot(page, "card")

    image = Image.open(io.BytesIO(page.locator(".card-print .qr svg").screenshot(scale="device")))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1
    assert decoded[0].text.endswith("/c/" + customer.cards.get().token)
    assert lookup.resolve(decoded[0].text) == customer


def test_the_customer_list_finds_people_as_you_type(page: Page, shop, screenshot) -> None:
    from prepaid.customers import services as customers

    for name in ("Maria Santos", "Mario Cruz", "Jan de Vries"):
        customers.register(customers.Profile(name=name), by=shop)
    page.goto("/customers/")
    flows.log_in(page, OWNER, PASSWORD)

    page.get_by_role("searchbox").fill("mari")

    rows = page.locator("table.customers tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Maria Santos")
    screenshot(page, "search")
