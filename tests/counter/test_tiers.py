"""The counter shows the customer's tier and the price they pay, and the receipt the
tier's discount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prepaid.catalog import tiers
from prepaid.sales import services as sales
from tests.counter.test_punch_cards import form_key
from tests.factories import method

pytestmark = pytest.mark.django_db


def test_the_panel_and_the_receipt_show_the_tier(till, maria, water, actor):
    tiers.save_tier(
        None, name="Silver", threshold_minor=1000, discount_bp=1000,
        bonus_multiplier=Decimal(1), by=None,
    )  # fmt: skip
    sales.top_up(maria, 2000, method=method(), key="t", actor=actor)
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert 'class="badge tier"' in panel and "Silver" in panel
    assert "<s>$0.25</s>" in panel and "$0.225" in panel
    sold = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": form_key(panel, 'id="sell-form"'), "product": water.pk, "quantity": "10"},
    )
    assert sold.status_code == 302
    receipt = till.get(sold["Location"]).content.decode()
    assert "Tier discount" in receipt and "−$0.25" in receipt
