"""The owner's overview of a shop full of demo data."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from prepaid.reports import queries
from prepaid.sales import demo
from tests.e2e import flows
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD

pytestmark = pytest.mark.e2e
require_chromium()


def test_overview_lists_the_latest_transactions(page: Page, shop, screenshot) -> None:
    assert demo.load() > 0
    latest_names = {
        batch.customer.name for batch in queries.recent_batches() if batch.customer is not None
    }
    chinese = sorted(latest_names & set(demo.CHINESE))
    assert chinese, "the demo's latest transactions should include a Chinese customer"

    page.goto("/")
    flows.log_in(page, OWNER, PASSWORD)

    section = page.locator("section", has=page.get_by_role("heading", name="Latest transactions"))
    rows = section.locator("table tbody tr")
    expect(rows).to_have_count(len(queries.recent_batches()))
    expect(section.locator("tbody").get_by_text(chinese[0]).first).to_be_visible()
    expect(page.locator(".tile").first).to_contain_text("₱")
    screenshot(page, "overview-demo")
