"""Closing yesterday in the browser, as the owner of the demo shop would: the notes and
coins add up as they are typed, a shortfall is refused until it is explained, the
Z-report is shown (in English, Chinese and Dutch) and printed on 80 mm; then the
accountant approves it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from prepaid.closing.figures import channels, figures
from prepaid.closing.spans import Place, span
from prepaid.ledger.models import PaymentMethod
from prepaid.reports import days
from prepaid.sales import demo
from prepaid.staff.models import Store
from tests.e2e import flows
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD
from tests.factories import make_staff

pytestmark = pytest.mark.e2e
require_chromium()


def major(minor: int) -> str:
    return f"{minor / 100:.2f}"


def test_the_owner_closes_yesterday_and_the_accountant_approves(
    page: Page, shop, screenshot
) -> None:
    assert demo.load() > 0
    store = Store.objects.get()
    yesterday = days.today() - dt.timedelta(days=1)
    place = Place(store)
    moved = channels(figures(place, span(place, yesterday)), also=list(PaymentMethod.objects.all()))
    expected = {channel.method.code: channel.net for channel in moved}
    assert expected["cash"] > 500, "the demo took cash yesterday"
    make_staff("Adel", role="accountant", store=store, password="accounts-are-fun-1")

    page.goto("/reports/")
    flows.log_in(page, OWNER, PASSWORD)
    page.get_by_role("link", name="Day closes").click()
    page.get_by_label("Day", exact=True).fill(yesterday.isoformat())
    page.get_by_role("button", name="Count and close").click()
    expect(page.get_by_role("heading", name=re.compile("Close the day"))).to_be_visible()

    # Counting note by note fills the total in.
    page.get_by_label("How many of 1000.00").fill("2")
    page.get_by_label("How many of 50.00").fill("1")
    expect(page.get_by_label("Cash counted")).to_have_value("2050.00")
    page.get_by_label("How many of 1000.00").fill("")
    page.get_by_label("How many of 50.00").fill("")
    expect(page.get_by_label("Cash counted")).to_have_value("")

    page.get_by_label("Cash counted").fill(major(expected["cash"] - 500))  # 5.00 short
    for code in ("card", "mobile"):
        if code in expected:
            page.locator(f"input[name=settled_{code}]").fill(major(expected[code]))
    page.get_by_role("button", name="Close the day").click()
    expect(page.get_by_role("alert")).to_contain_text("Cash differs by -₱5.00")
    screenshot(page, "shortfall-refused")

    page.get_by_label("Why Cash differs").fill("change given twice")
    page.get_by_role("button", name="Close the day").click()
    expect(page.get_by_role("heading", name=re.compile("Z1"))).to_be_visible()
    expect(page.locator(".zreport")).to_contain_text("change given twice")
    expect(page.locator(".badge.close-submitted")).to_be_visible()
    screenshot(page, "z-report-en")
    for language in ("zh-hans", "nl"):
        flows.choose_language(page, language)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator(".zreport")).to_contain_text("₱")
        screenshot(page, f"z-report-{language}")
    flows.choose_language(page, "en")

    page.get_by_role("link", name="Print (80 mm)").click()
    expect(page.locator("body.paper-80mm .zreport")).to_contain_text("change given twice")
    width = page.locator(".zreport").evaluate("element => element.scrollWidth")
    assert width <= 280, f"the Z-report is {width} px wide: more than 72 mm"
    screenshot(page, "z-report-80mm")
    page.get_by_role("link", name="Back").click()

    flows.log_out(page)
    page.goto("/reports/closes/")
    flows.log_in(page, "adel", "accounts-are-fun-1")
    page.get_by_role("link", name="Z1").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".badge.close-approved")).to_be_visible()
    screenshot(page, "approved")
