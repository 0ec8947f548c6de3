"""First run: an empty installation leads to the set-up form, which creates the shop."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from prepaid.ledger.models import PaymentMethod
from prepaid.staff import setup_code
from prepaid.staff.models import Business, Staff, Store
from tests.e2e import flows
from tests.e2e.chromium import require_chromium

pytestmark = pytest.mark.e2e
require_chromium()


def test_empty_installation_is_set_up_in_the_browser(page: Page, screenshot) -> None:
    page.goto("/")

    expect(page).to_have_url(re.compile(r"/setup/$"))
    expect(page.get_by_role("heading", name="Set up your shop")).to_be_visible()
    screenshot(page, "setup-form-empty")

    flows.fill_setup_form(page, business="Agua Pura Refilling", currency="php", region="ph")
    screenshot(page, "setup-form-filled")
    flows.submit_setup_form(page)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("header .brand")).to_have_text("Agua Pura Refilling")
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your shop is ready")
    expect(page.locator("header .who")).to_have_text("olivia")
    screenshot(page, "overview-after-setup")

    business = Business.objects.get()
    assert (business.name, business.currency, business.region, business.time_zone) == (
        "Agua Pura Refilling",
        "PHP",
        "PH",
        "Asia/Manila",
    )
    assert list(Store.objects.values_list("name", flat=True)) == ["Quezon Avenue"]
    owner = Staff.objects.get()
    assert owner.role == Staff.Role.OWNER
    assert owner.user is not None
    assert owner.user.username == "olivia"
    assert owner.user.check_password("water-is-life-1")
    assert list(owner.stores.values_list("name", flat=True)) == ["Quezon Avenue"]
    assert set(PaymentMethod.objects.values_list("code", flat=True)) == {"cash", "card", "mobile"}


def test_unknown_currency_is_refused_next_to_the_field(page: Page, screenshot) -> None:
    page.goto("/setup/")
    flows.fill_setup_form(page, currency="XYZ")
    flows.submit_setup_form(page)

    expect(page).to_have_url(re.compile(r"/setup/$"))
    currency = page.locator(".field", has=page.locator("#id_currency"))
    expect(currency).to_have_class(re.compile(r"\binvalid\b"))
    expect(currency.get_by_role("alert")).to_have_text(
        "Enter a three-letter ISO 4217 currency code, such as USD or PHP."
    )
    # Only the currency is wrong: no other field complains, and the entries are kept.
    expect(page.locator(".field.invalid")).to_have_count(1)
    expect(page.get_by_label("Business name")).to_have_value("Agua Pura Refilling")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Manila")
    screenshot(page, "setup-form-wrong-currency")

    assert not Business.objects.exists()
    assert not Store.objects.exists()
    assert not Staff.objects.exists()
    assert not get_user_model().objects.exists()


def test_the_set_up_page_asks_for_the_code_prepaid_serve_printed(page: Page, screenshot) -> None:
    page.goto("/setup/")
    flows.fill_setup_form(page, code="WRNG-WRNG-WRNG")
    flows.submit_setup_form(page)

    code_field = page.locator(".field", has=page.locator("#id_setup_code"))
    expect(code_field.get_by_role("alert")).to_have_text(
        "That is not the set-up code. Look for it where prepaid serve was started."
    )
    screenshot(page, "setup-wrong-code")
    assert not Business.objects.exists()

    page.get_by_label("Set-up code").fill(setup_code.code())
    page.get_by_label("Password").fill(flows.PASSWORD)  # a password field is never refilled
    flows.submit_setup_form(page)
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    assert Business.objects.exists()
