"""The Content-Security-Policy in Chromium (#12): the watch every e2e test runs under
(conftest's ``page``) does see a blocked inline script or style; Swagger UI loads under
the policy; the pages whose inline handlers and style attributes became data-*
attributes (web/static/prepaid/app.js) still ask, print and paint."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.staff.models import Staff, Store
from tests.e2e import chromium, flows
from tests.e2e import test_counter as at_counter
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD
from tests.factories import make_actor, make_customer

pytestmark = pytest.mark.e2e
require_chromium()
counter = at_counter.counter  # the counter, Carlos with a PIN, Maria with ₱100.00
BLUE = "#1e88e5"


def test_the_watch_reports_inline_code_the_policy_blocks(browser: Browser, live_server, shop):
    context = browser.new_context(base_url=live_server.url)
    seen: list[str] = []
    chromium.watch_policy(context, seen.append)
    tab = context.new_page()
    tab.goto("/login/")
    tab.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "document.title = 'injected'";
          document.body.append(script);
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">red</p>');
        }"""
    )
    # A function, not an expression: Playwright evaluates a function's text once and then
    # calls it at each poll, where an expression is eval()ed at each poll, which the
    # page's policy refuses ('unsafe-eval') once the first look found the reports not in
    # yet (a busy machine).
    tab.wait_for_function("() => window.policyReports >= 2")
    assert tab.title() != "injected"
    context.close()
    assert any("script-src" in line for line in seen), seen
    assert any("style-src" in line for line in seen), seen


def test_the_api_docs_load_under_the_policy(page: Page, live_server, screenshot) -> None:
    response = page.goto("/api/v1/docs")
    assert response is not None and "unsafe" not in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="prepaid API")).to_be_visible()
    # Open an operation and try it: its schema drawn, the request sent from the page.
    page.locator(".opblock-summary", has_text="/api/v1/health").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    screenshot(page, "api-docs")


def test_confirmations_printing_and_colours_work_without_inline_code(
    page: Page, shop: Staff, screenshot
) -> None:
    actor = make_actor(Store.objects.get(), shop)
    maria = make_customer("Maria Santos", balance="80.00", actor=actor)
    make_customer("Jun Reyes", balance="20.00", actor=actor)
    Product.objects.create(name="Purified water", unit="gallon", unit_price="0.35", colour=BLUE)
    page.goto("/login/")
    flows.log_in(page, OWNER, PASSWORD)

    # A form that asks first: dismissed, nothing is sent; the question is the template's.
    page.goto(f"/customers/{maria.code}/")
    questions: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Close account").click()
    expect(page.get_by_role("heading", name="Maria Santos")).to_be_visible()
    assert questions == ["Close this account? Its cards stop working."]
    maria.refresh_from_db()
    assert maria.status == Customer.Status.ACTIVE

    # The product's colour, from data-tint.
    page.goto("/shop/products/")
    swatch = page.locator(".swatch").first
    expect(swatch).to_have_css("background-color", "rgb(30, 136, 229)")
    screenshot(page, "products")

    # The aging meters' widths, from data-share.
    page.goto("/reports/balances/")
    meter = page.locator(".meter").first
    share = meter.get_attribute("data-share")
    assert share is not None
    assert meter.evaluate("element => element.style.width") == f"{float(share):g}%"
    screenshot(page, "balances")

    # The print button of a card.
    page.goto(f"/customers/print/?code={maria.code}")
    page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") is True
    screenshot(page, "print-card")


def test_the_counter_paints_its_products_from_data_attributes(
    page: Page, counter: dict[str, Any], screenshot
) -> None:
    Product.objects.filter(pk=counter["water"].pk).update(colour=BLUE)
    at_counter.open_counter(page, counter)
    page.goto(f"/counter/c/{counter['maria'].code}/")
    water = page.locator(".product", has_text="Purified water")
    expect(water).to_have_css("border-top-color", "rgb(30, 136, 229)")
    screenshot(page, "counter-customer")


def test_the_customers_own_page_switches_language_through_app_js(page: Page, shop) -> None:
    """The portal's only script is web's app.js: the language selector posts its form."""
    actor = make_actor(Store.objects.get(), shop)
    maria = make_customer("Maria Santos", balance="80.00", actor=actor)
    page.goto(f"/c/{maria.cards.get().token}")
    flows.choose_language(page, "nl")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", name="Maria Santos")).to_be_visible()
