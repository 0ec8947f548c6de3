"""Logging out and in again after the set-up."""

from __future__ import annotations

import io
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from prepaid.staff import two_step
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


def test_two_step_sign_in_with_a_code_from_the_app(page: Page, shop, screenshot) -> None:
    """The owner turns two-step sign-in on by scanning its QR code; from then on the
    password alone does not log in, the app's code does."""
    page.goto("/")
    flows.log_in(page, flows.OWNER, flows.PASSWORD)
    page.get_by_role("link", name="Two-step sign-in").click()
    page.get_by_role("button", name="Set up two-step sign-in").click()
    qr = page.locator(".qr svg")
    expect(qr).to_be_visible()
    screenshot(page, "two-step-qr")

    # What a phone's camera reads: the otpauth:// address with the key shown as text.
    image = Image.open(io.BytesIO(qr.screenshot(scale="device")))
    (decoded,) = zxingcpp.read_barcodes(image)
    shown = page.locator("[data-secret]").inner_text().replace(" ", "")
    query = parse_qs(urlsplit(decoded.text).query)
    assert decoded.text.startswith("otpauth://totp/")
    assert query["secret"] == [shown] and query["digits"] == ["6"]

    page.get_by_label("Code from the app").fill(two_step.current_code(shown))
    page.get_by_role("button", name="Turn two-step sign-in on").click()
    expect(page.get_by_role("status")).to_have_text("Two-step sign-in is on.")

    flows.log_out(page)
    flows.log_in(page, flows.OWNER, flows.PASSWORD)
    expect(page).to_have_url(re.compile(r"/login/code/$"))
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("That code is not right. Please try again.")
    screenshot(page, "two-step-wrong-code")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))  # not logged in

    flows.log_in(page, flows.OWNER, flows.PASSWORD)
    # The code of the next 30 seconds: the one used to turn it on cannot be used again.
    page.get_by_label("Code from the app").fill(two_step.current_code(shown, now=time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expect(page.locator("header .who")).to_have_text("olivia")
    screenshot(page, "two-step-logged-in")
