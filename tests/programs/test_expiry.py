"""A punch card that ends with uses left: ``prepaid expire`` (and the worker) posts its
uses back to the store and the money paid for them to breakage, once a day however
often it runs; the deferred money of the store ends at what the other cards hold
(``verify``); nothing is dropped silently and a card still running is left alone."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.operations.programs import expire_due
from prepaid.programs import services as programs
from prepaid.programs.models import PunchCard
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, make_product, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards(actor):
    water = make_product("Purified 5 gal", price="30")
    package = programs.create_package(
        name="3 refills", product=water, count=3, price_minor=10000, valid_days=30, by=None
    )
    maria, juan = (
        make_customer("Maria Santos", actor=actor),
        make_customer("Juan Cruz", actor=actor),
    )
    ended = programs.sell_package(maria, package, method=method(), key="m", actor=actor).card
    running = programs.sell_package(juan, package, method=method(), key="j", actor=actor).card
    programs.redeem(maria, water, 1, key="use", actor=actor)  # 33.33 of 100.00 recognised
    PunchCard.objects.filter(pk=ended.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    return ended, running


def test_an_ended_card_is_posted_to_breakage_once_a_day(cards):
    ended, running = cards
    out = StringIO()
    call_command("expire", stdout=out)
    assert out.getvalue().startswith("Expired 1 punch card(s), 2 use(s); earned 0 pass(es);")

    expiry = Batch.objects.get(code=Batch.Code.EXPIRY)
    assert expiry.staff_id is None and expiry.api_token_id is None  # posted by the shop
    moved = {t.credit_account.kind: t.amount for t in expiry.transfers.all()}
    assert moved == {Account.Kind.ISSUED: 2, Account.Kind.BREAKAGE: 6667}  # 100.00 − 33.33
    assert programs.remaining_of(PunchCard.objects.get(pk=ended.pk)) == 0
    assert programs.remaining_of(PunchCard.objects.get(pk=running.pk)) == 3
    deferred = Account.objects.get(kind=Account.Kind.DEFERRED)
    assert ledger.balance(deferred) == 10000  # the running card's money, nothing else
    assert_ledger_sound()

    assert expire_due() == (0, 0)  # run again (cron every hour): nothing more
    call_command("expire", stdout=StringIO())
    assert Batch.objects.filter(code=Batch.Code.EXPIRY).count() == 1
    assert Transfer.objects.filter(code=Transfer.Code.EXPIRY).count() == 2


def test_a_card_still_running_is_not_expired_and_an_expiry_can_be_reversed(cards, owner, actor):
    ended, _running = cards
    expire_due()
    expiry = Batch.objects.get(code=Batch.Code.EXPIRY)
    manager_actor = ledger.Actor(store=actor.store, staff=owner)
    from prepaid.sales import services as sales

    sales.reverse(expiry, key="undo-expiry", actor=manager_actor, reason="posted too early")
    assert programs.remaining_of(PunchCard.objects.get(pk=ended.pk)) == 2
    assert_ledger_sound()
    # The card has still ended: the next day's run posts it again.
    tomorrow = timezone.now() + timedelta(days=1)
    assert expire_due(tomorrow) == (1, 2)
    assert_ledger_sound()


def test_the_worker_posts_ended_cards_on_its_round(cards):
    from prepaid.operations import outbox

    outbox.work_once(now=timezone.now())
    assert Batch.objects.filter(code=Batch.Code.EXPIRY).count() == 1
    assert_ledger_sound()
