"""Low-balance notices (a sale that crosses the level, once), expiry reminders (only
with marketing consent, one per bonus balance and period, one per pass), SMS through a
plug-in backend with the same consent rules."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.lib.sealing import open_record
from prepaid.messaging import worker
from prepaid.messaging.models import Message
from prepaid.operations.models import Event
from prepaid.staff.models import Business
from tests.messaging.conftest import customer, parts, sell, top_up, work

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sale_that_crosses_the_level_sends_one_notice(smtp, shop, actor, product):
    Business.objects.update(low_balance_minor=500)  # 5.00
    maria = customer(email="maria@example.com", email_receipts=True)
    top_up(maria, "10.00", actor)
    sell(maria, product, "1", actor)  # 7.50: above
    sell(maria, product, "1", actor)  # 5.00: at the level, not below
    sell(maria, product, "1", actor)  # 2.50: crossed
    sell(maria, product, "1", actor)  # 0.00: still below, no second notice
    work()
    notices = [m for m in smtp.mailbox.received if "low" in m["Subject"]]
    assert [m["Subject"] for m in notices] == ["Your balance at Agua Pura is low"]
    text, html = parts(notices[0])
    assert "Your balance at Agua Pura is now ₱2.50." in text
    assert "₱2.50" in html
    assert Message.objects.filter(kind="low_balance").count() == 1


def test_the_customer_level_overrides_the_shop_and_zero_turns_it_off(smtp, shop, actor, product):
    Business.objects.update(low_balance_minor=500)
    own = customer("Own Level", email="own@example.com", low_balance_minor=900)
    off = customer("No Notices", email="off@example.com", low_balance_minor=0)
    for code in (own, off):
        top_up(code, "10.00", actor)
        sell(code, product, "1", actor)  # 7.50
    work()
    lows = Message.objects.filter(kind="low_balance")
    assert [m.customer.code for m in lows] == [own]


def bonus_expiring(shop, actor, code):
    """A customer with 3.00 bonus given 25 days ago, in a shop where bonus lasts 30."""
    Business.objects.update(bonus_expiry_days=30, reminder_days=7)
    from prepaid.ledger.services import Actor
    from prepaid.sales import services as sales
    from tests.factories import key, method

    person = Customer.objects.get(code=code)
    sales.top_up(
        person,
        1000,
        method=method(),
        bonus_minor=300,
        key=key("seed"),
        actor=Actor(store=actor.store, staff=actor.staff, at=timezone.now() - timedelta(days=25)),
    )


def test_a_bonus_reminder_needs_marketing_consent(smtp, shop, actor):
    agreed = customer("Agreed", email="agreed@example.com", marketing_email=True)
    silent = customer("Silent", email="silent@example.com")
    for code in (agreed, silent):
        bonus_expiring(shop, actor, code)
    now = timezone.now()
    work(now)
    work(now + timedelta(hours=1))  # looked again an hour later: nothing new
    # ... nor the next days, whichever calendar week they fall in: once in 7 days.
    for days in (1, 2, 3, 4):
        work(now + timedelta(days=days))
    reminders = [m for m in smtp.mailbox.received if "expires" in m["Subject"]]
    assert [m["To"] for m in reminders] == ["agreed@example.com"]
    text, _html = parts(reminders[0])
    assert "₱3.00 of your bonus at Agua Pura expires by" in text
    assert "because you agreed to news from the shop by e-mail" in text
    assert Message.objects.filter(kind="expiry_reminder").count() == 1


def test_a_marketing_unsubscribe_stops_reminders_not_receipts(smtp, shop, actor, client):
    agreed = customer("Agreed", email="agreed@example.com", marketing_email=True)
    bonus_expiring(shop, actor, agreed)
    work(timezone.now())
    reminder = next(m for m in smtp.mailbox.received if "expires" in m["Subject"])
    link = reminder["List-Unsubscribe"].strip("<>").split("testserver")[-1]
    link = "/m/" + link.split("/m/", 1)[1]
    assert "Stop reminders and news by e-mail." in client.get(link).content.decode()
    client.post(link)
    person = Customer.objects.get(code=agreed)
    assert (person.marketing_email, person.email_receipts) == (False, True)
    (event,) = Event.objects.filter(type="customer.updated", customer=person)
    assert json.loads(open_record(event.data))["marketing_email"] is False


def test_a_pass_ending_soon_is_reminded_once(smtp, shop, actor):
    from prepaid.operations.envelope import run
    from prepaid.operations.programs import BuyPackage
    from prepaid.programs.models import Package
    from tests.factories import key

    agreed = customer("Agreed", email="agreed@example.com", marketing_email=True)
    Business.objects.update(reminder_days=7)
    package = Package.objects.create(
        name="Three days", kind=Package.Kind.TIME, price_minor=1000, valid_days=3
    )
    run(BuyPackage(agreed, package.pk, "cash"), actor=actor, scope="test", key=key("pass"))
    now = timezone.now()
    work(now)
    work(now + timedelta(days=1))
    reminders = [m for m in smtp.mailbox.received if "ends soon" in m["Subject"]]
    assert len(reminders) == 1
    assert "Your pass “Three days” at Agua Pura ends on" in parts(reminders[0])[0]


def test_a_withdrawn_consent_skips_what_was_waiting(smtp, shop, actor):
    maria = customer(email="maria@example.com")
    top_up(maria, "20.00", actor)
    from prepaid.operations import outbox

    outbox.dispatch()
    person = Customer.objects.get(code=maria)
    customers.update(person, customers.Profile(email_receipts=False), by=None)
    work()
    assert smtp.mailbox.received == []
    assert Message.objects.values_list("status", "reason").get() == ("skipped", "opted_out")


# -- SMS -------------------------------------------------------------------------------


@pytest.fixture
def sms_file(settings, tmp_path, monkeypatch):
    path = tmp_path / "sms.log"
    monkeypatch.setenv("PREPAID_SMS_FILE", str(path))
    settings.PREPAID_SMS_BACKEND = "prepaid.messaging.sms.FileBackend"
    return path


def test_low_balance_by_sms_only_with_sms_consent(smtp, shop, actor, product, sms_file):
    Business.objects.update(low_balance_minor=500)
    agreed = customer("Agreed", phone="+639171234567", marketing_sms=True)
    customer("No consent", phone="+639171234568")
    for code in Customer.objects.values_list("code", flat=True):
        top_up(code, "6.00", actor)
        sell(code, product, "1", actor)  # 3.50
    work()
    sent = [json.loads(line) for line in sms_file.read_text().splitlines()]
    assert [(s["to"], s["text"]) for s in sent] == [
        ("+639171234567", "Agua Pura: your balance is now ₱3.50.")
    ]
    sms = Message.objects.get(channel="sms")
    assert (sms.customer.code, sms.status) == (agreed, "sent")
    assert smtp.mailbox.received == []  # no e-mail address: no e-mail


def test_no_sms_at_all_without_a_backend(smtp, shop, actor, product, settings):
    settings.PREPAID_SMS_BACKEND = ""
    Business.objects.update(low_balance_minor=500)
    customer("Agreed", phone="+639171234567", marketing_sms=True)
    code = Customer.objects.get().code
    top_up(code, "6.00", actor)
    sell(code, product, "1", actor)
    work()
    assert not Message.objects.exists()


def test_a_failing_sms_backend_is_retried(shop, actor, product, settings):
    settings.PREPAID_SMS_BACKEND = "tests.messaging.test_notices.Broken"
    Business.objects.update(low_balance_minor=500)
    customer("Agreed", phone="+639171234567", marketing_sms=True)
    code = Customer.objects.get().code
    top_up(code, "6.00", actor)
    sell(code, product, "1", actor)
    now = timezone.now()
    work(now)
    message = Message.objects.get()
    assert (message.status, message.attempts, message.last_error) == (
        "waiting",
        1,
        "SmsError: provider down",
    )
    assert message.next_attempt_at == now + worker.BACKOFF[0]


class Broken:
    def send(self, to: str, text: str) -> None:
        from prepaid.messaging.sms import SmsError

        raise SmsError("provider down")
