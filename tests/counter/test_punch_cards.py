"""Punch cards at the counter: sold like a top-up (a package, paid by a method), shown
on the customer card, and used in three actions — scan, "Punch card: N left" on the
product, Confirm — with the receipt showing what is left; a use of more than the card
holds is refused beside the sale and nothing is posted."""

from __future__ import annotations

import re

import pytest

from prepaid.ledger.models import Batch
from prepaid.programs import services as programs
from tests.conftest import assert_ledger_sound
from tests.factories import method

pytestmark = pytest.mark.django_db


@pytest.fixture
def refills(water):
    return programs.create_package(
        name="10 refills", product=water, count=10, bonus_count=1, price_minor=25000,
        valid_days=90, by=None,
    )  # fmt: skip


def form_key(page: str, form_id: str) -> str:
    form = page[page.index(form_id) :]
    return re.search(r'name="key" value="([0-9a-f]+)"', form).group(1)


def test_a_punch_card_is_sold_then_used_in_three_actions(till, maria, water, refills):
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Sell a punch card" in panel and "10 refills" in panel
    sold = till.post(
        f"/counter/c/{maria.code}/punch-card/",
        {"key": form_key(panel, 'id="package-form"'), "package": refills.pk, "method": method().pk},
    )
    assert sold.status_code == 302
    receipt = till.get(sold["Location"]).content.decode()
    assert "Punch card sold" in receipt and "$250.00" in receipt and "11 uses left" in receipt

    # 1. scan (the panel opens), 2. "Punch card: 11 left" on the product, 3. Confirm.
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Punch card: 11 left" in panel and "11 uses left" in panel
    used = till.post(
        f"/counter/c/{maria.code}/sell/",
        {
            "key": form_key(panel, 'id="sell-form"'),
            "product": water.pk,
            "quantity": "1",
            "use_card": "1",
        },
    )
    assert used.status_code == 302
    receipt = till.get(used["Location"]).content.decode()
    assert "Punch card used" in receipt and "10 uses left" in receipt
    assert "$10.00" in receipt  # the money balance is untouched
    assert_ledger_sound()


def test_more_uses_than_the_card_holds_are_refused_and_nothing_is_posted(
    till, maria, water, refills, actor
):
    programs.sell_package(maria, refills, method=method(), key="card", actor=actor)
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    batches = Batch.objects.count()
    refused = till.post(
        f"/counter/c/{maria.code}/sell/",
        {
            "key": form_key(panel, 'id="sell-form"'),
            "product": water.pk,
            "quantity": "12",
            "use_card": "1",
        },
    )
    assert refused.status_code == 200
    assert "No pass or punch card with uses left covers Purified water." in refused.content.decode()
    assert Batch.objects.count() == batches
    half = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": form_key(panel, 'id="sell-form"'), "product": water.pk, "quantity": "1.5",
         "use_card": "1"},
    )  # fmt: skip
    assert "A punch card is used by whole uses." in half.content.decode()
    assert Batch.objects.count() == batches


def test_the_cashier_undoes_a_use_from_its_receipt(till, maria, water, refills, actor):
    programs.sell_package(maria, refills, method=method(), key="card", actor=actor)
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    used = till.post(
        f"/counter/c/{maria.code}/sell/",
        {
            "key": form_key(panel, 'id="sell-form"'),
            "product": water.pk,
            "quantity": "2",
            "use_card": "1",
        },
    )
    receipt = till.get(used["Location"]).content.decode()
    undone = till.post(
        used["Location"] + "undo/",
        {"key": form_key(receipt, 'class="card undo'), "reason": "wrong"},
    )
    assert undone.status_code == 302
    assert "11 uses left" in till.get(undone["Location"]).content.decode()
    assert_ledger_sound()
