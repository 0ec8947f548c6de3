"""Passes at the counter: sold from the same form as a punch card, shown on the customer
card with what they allow today and the days left, and used in three actions — scan,
"Pass: 2 left today" on the product, Confirm — with the receipt saying what is left
today; when the day's cap is reached the button says so and the use is refused with
nothing posted."""

from __future__ import annotations

import pytest

from prepaid.ledger.models import Batch
from prepaid.programs import services as programs
from tests.conftest import assert_ledger_sound
from tests.counter.test_punch_cards import form_key
from tests.factories import method

pytestmark = pytest.mark.django_db


@pytest.fixture
def monthly(water):
    return programs.create_package(
        kind="time", name="Unlimited refills", product=water, price_minor=50000,
        valid_days=30, max_per_day=2, by=None,
    )  # fmt: skip


def use(till, maria, water, panel: str):
    return till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": form_key(panel, 'id="sell-form"'), "product": water.pk, "quantity": "1",
         "use_card": "1"},
    )  # fmt: skip


def test_a_pass_is_sold_then_used_in_three_actions_until_the_days_cap(till, maria, water, monthly):
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Sell a punch card or pass" in panel and "at most 2 a day" in panel
    sold = till.post(
        f"/counter/c/{maria.code}/punch-card/",
        {"key": form_key(panel, 'id="package-form"'), "package": monthly.pk, "method": method().pk},
    )
    assert sold.status_code == 302
    receipt = till.get(sold["Location"]).content.decode()
    assert "Pass sold" in receipt and "$500.00" in receipt and "Unlimited refills" in receipt

    # 1. scan (the panel opens), 2. "Pass: 2 left today" on the product, 3. Confirm.
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Pass: 2 left today" in panel and "(30 days left)" in panel
    used = use(till, maria, water, panel)
    assert used.status_code == 302
    receipt = till.get(used["Location"]).content.decode()
    assert "Pass used" in receipt and "1 left today" in receipt
    assert "$10.00" in receipt  # the money balance is untouched

    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert use(till, maria, water, panel).status_code == 302
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Pass: none left today" in panel
    batches = Batch.objects.count()
    refused = use(till, maria, water, panel)
    assert refused.status_code == 200
    assert "No pass or punch card with uses left covers Purified water." in refused.content.decode()
    assert Batch.objects.count() == batches
    assert_ledger_sound()


def test_the_customer_page_and_the_portal_show_the_pass(client, owner, maria, monthly, actor):
    programs.sell_package(maria, monthly, method=method(), key="pass", actor=actor)
    client.force_login(owner.user)
    page = client.get(f"/customers/{maria.code}/").content.decode()
    assert "Passes" in page and "Unlimited refills" in page and "2 left today" in page
