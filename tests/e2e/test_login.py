"""Logging out and in again after the set-up."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import flows
from tests.e2e.chromium import require_chromium

pytestmark = pytest.mark.e2e
require_chromium()


def test_log_out_then_wrong_and_right_password(page: Page, screenshot) -> None:
    page.goto("/")
    flows.fill_setup_form(page, owner="olivia", password="water-is-life-1")
    flows.submit_setup_form(page)
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()

    flows.log_out(page)
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    screenshot(page, "login-form")

    # The overview is for logged-in people only.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))

    flows.log_in(page, "olivia", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text(
        "The user name or password is not right. Please try again."
    )
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login-wrong-password")

    flows.log_in(page, "olivia", "water-is-life-1")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expect(page.locator("header .brand")).to_have_text("Agua Pura Refilling")
    expect(page.locator("header .who")).to_have_text("olivia")
    screenshot(page, "overview-after-login")
