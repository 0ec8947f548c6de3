"""Four eyes in the browser: a manager's large reversal waits; the owner sees it waiting
on the Overview, approves it on the Approvals page, and the money moves once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from prepaid.ledger.models import Batch
from prepaid.ledger.services import Actor
from prepaid.sales import services as sales
from prepaid.staff.models import Store
from tests.e2e import flows
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD
from tests.factories import make_customer, make_staff

pytestmark = pytest.mark.e2e
require_chromium()


def test_a_large_reversal_waits_for_the_owners_approval(page: Page, shop, screenshot) -> None:
    store = Store.objects.get()
    manager = make_staff("Mona", role="manager", store=store, password="manager-pass-1")
    maria = make_customer("Maria Santos", balance="300.00", actor=Actor(store, shop))
    top_up = Batch.objects.get(customer=maria)

    page.goto(f"/customers/{maria.code}/")
    flows.log_in(page, manager.user.username, "manager-pass-1")
    page.locator("details.reverse summary").first.click()
    page.get_by_placeholder("Reason").first.fill("Wrong customer")
    page.get_by_role("button", name="Reverse").first.click()
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_contain_text("Not reversed yet")
    assert sales.balances(maria).paid == 30000
    page.goto("/approvals/")
    expect(page.get_by_text("Your request: someone else approves it.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    screenshot(page, "approvals-own")
    flows.log_out(page)

    page.goto("/")
    flows.log_in(page, OWNER, PASSWORD)
    page.get_by_role("link", name="1 request waits for approval").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Approvals")).to_be_visible()
    screenshot(page, "approvals-waiting")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_contain_text("Approved: it is done.")
    assert sales.balances(maria).paid == 0
    assert Batch.objects.get(reverses=top_up).staff == manager
    screenshot(page, "approvals-decided")
