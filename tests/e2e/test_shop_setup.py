"""The owner sets the shop up in the browser — a product, a plan, a cashier with a PIN —
enrolls the till, and the cashier sells: no command line anywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from prepaid.ledger.models import Batch
from tests.e2e import flows
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.e2e
require_chromium()


def test_an_owner_sets_up_products_plans_and_staff_then_the_counter_sells(
    page: Page, shop, screenshot
) -> None:
    page.goto("/shop/products/")
    flows.log_in(page, OWNER, PASSWORD)
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name").fill("Purified water")
    page.get_by_label("Unit", exact=True).fill("gallon")
    page.get_by_label("Unit price").fill("12.5")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="New plan").click()
    page.get_by_label("Name").fill("500 → +50")
    page.get_by_label("Customer pays").fill("500")
    page.get_by_label("Bonus").fill("50")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="500 → +50")).to_be_visible()
    screenshot(page, "products")

    page.get_by_role("link", name="Staff", exact=True).click()
    page.get_by_role("link", name="New staff member").click()
    page.get_by_label("Name", exact=True).fill("Carlos")
    page.get_by_label("Role").select_option("cashier")
    page.get_by_label("New PIN").fill("4827")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="Carlos")).to_be_visible()
    screenshot(page, "staff")

    page.goto("/counter/")
    page.get_by_label("Store").select_option(label="Quezon Avenue")
    page.get_by_role("button", name="Enroll this browser").click()
    page.get_by_role("link", name="Carlos").click()
    page.get_by_label("PIN").fill("4827")
    page.get_by_role("button", name="Unlock").click()

    maria = make_customer("Maria Santos", balance="1000.00")
    box = page.get_by_role("searchbox", name="Scan or search")
    box.fill(maria.code)
    box.press("Enter")
    page.get_by_role("button", name="Purified water × 3").click()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator("#new-balance")).to_have_text("₱962.50")
    assert Batch.objects.filter(code=Batch.Code.SALE, staff__name="Carlos").count() == 1

    # Enrolling signed the owner out of this browser: the till keeps no owner login.
    page.goto("/activity/")
    flows.log_in(page, OWNER, PASSWORD)
    expect(page.get_by_text("product.created")).to_be_visible()
    screenshot(page, "activity")
