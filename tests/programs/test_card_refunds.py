"""Refunding the uses left on a punch card, where the owner allows it: the uses go back
to the store and what they are worth of the price goes out through the payment method
(a refund by that method on the day's statement and in the drawer); refused when the
shop does not refund cards, for a card with nothing left, and for a cashier; a reversal
gives uses and money back; ``verify`` stays clean throughout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.closing.figures import channels
from prepaid.ledger.models import Batch
from prepaid.programs import services as programs
from prepaid.programs.models import PunchCard
from prepaid.reports.statements import statement
from prepaid.staff.models import Business
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound
from tests.programs import test_punch_cards as cards
from tests.programs.test_punch_cards import buy, redeem

pytestmark = pytest.mark.django_db
refills = cards.refills  # "10 refills + 1 free for 250.00"


def refund(api, card: int, key: str, caller=None):
    return (caller or api.manager).post(
        f"/punch-cards/{card}/refund", {"method": "cash", "reason": "moving away"}, key=key
    )


def test_the_uses_left_are_refunded_at_what_they_are_worth(api, refills):
    product, package = refills
    customer = register(api)["code"]
    card = buy(api, customer, package["id"], "buy").json()["punch_card"]["id"]
    assert redeem(api, customer, product, 3, "use").status_code == 201  # 68.18 recognised

    refused = refund(api, card, "r0")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "card_refund_not_allowed"
    Business.objects.filter(pk=1).update(punch_card_refunds=True)
    assert refund(api, card, "r1", caller=api.cashier).status_code == 403

    done = refund(api, card, "r2")
    assert done.status_code == 201, done.content
    body = done.json()
    # 8 uses left of 11 for 250.00: 250.00 − 3 × 22.72 = 181.84 paid back.
    assert (body["kind"], body["total"]) == ("refund", "181.84")
    assert programs.remaining_of(PunchCard.objects.get(pk=card)) == 0
    again = refund(api, card, "r3")
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_to_refund"
    assert_ledger_sound()

    today = timezone.localdate()
    found = statement(today, today)
    assert [(r.method.code, r.count, r.amount) for r in found.refunds] == [("cash", 1, 18184)]
    cash = next(c for c in channels(found) if c.is_cash)
    assert cash.net == 25000 - 18184  # the card paid in, its unused part paid out

    undone = api.owner.post(f"/transactions/{body['id']}/reversal", {"reason": "r"}, key="u")
    assert undone.status_code == 201, undone.content
    assert programs.remaining_of(PunchCard.objects.get(pk=card)) == 8
    assert_ledger_sound()


def test_an_ended_card_is_not_refunded(api, refills):
    _product, package = refills
    Business.objects.filter(pk=1).update(punch_card_refunds=True)
    customer = register(api)["code"]
    card = buy(api, customer, package["id"], "buy").json()["punch_card"]["id"]
    PunchCard.objects.filter(pk=card).update(expires_at=timezone.now() - timedelta(hours=1))
    batches = Batch.objects.count()
    refused = refund(api, card, "r")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "nothing_to_refund"
    assert Batch.objects.count() == batches


def test_the_back_office_refunds_a_card(client, manager, api, refills):
    _product, package = refills
    Business.objects.filter(pk=1).update(punch_card_refunds=True)
    customer = register(api)["code"]
    card = buy(api, customer, package["id"], "buy").json()["punch_card"]["id"]
    client.force_login(manager.user)
    page = client.get(f"/customers/{customer}/").content.decode()
    assert "Refund the uses left" in page
    done = client.post(
        f"/customers/{customer}/punch-cards/{card}/refund/",
        {"key": "form-1", "method": "cash", "reason": "moving away"},
    )
    assert done.status_code == 302
    assert programs.remaining_of(PunchCard.objects.get(pk=card)) == 0
    assert Batch.objects.filter(code=Batch.Code.REFUND).count() == 1
    assert_ledger_sound()
