"""E-mail to customers through a real SMTP server on 127.0.0.1: what arrives, in which
language, with which link; nothing without an address or against the customer's wish;
retries; one message however often an event is dispatched."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.lib.sealing import open_record
from prepaid.messaging.models import Message
from prepaid.operations import outbox
from prepaid.operations.envelope import run
from prepaid.operations.models import Event
from prepaid.operations.programs import BuyPackage
from prepaid.programs.models import Package
from prepaid.programs.services import create_package
from prepaid.staff.models import AuditEvent
from tests.factories import key
from tests.messaging.conftest import customer, parts, sell, top_up, work

pytestmark = pytest.mark.django_db(transaction=True)


def unsubscribe_link(text: str) -> str:
    found = re.search(r"https?://\S+/m/unsubscribe/(\S+)", text)
    assert found, text
    return f"/m/unsubscribe/{found.group(1)}"


def test_a_receipt_after_each_top_up_and_sale(smtp, shop, actor, product):
    maria = customer(email="maria@example.com")
    top_up(maria, "20.00", actor)
    sell(maria, product, "2", actor)
    assert smtp.mailbox.received == []  # nothing leaves inside the operation
    work()
    first, second = smtp.mailbox.received
    assert smtp.mailbox.envelopes == [["maria@example.com"], ["maria@example.com"]]
    assert first["Subject"] == "Your receipt from Agua Pura"
    assert first["From"] == "Agua Pura <shop@agua.example>"
    text, html = parts(first)
    assert "Top-up" in text and "Total: ₱20.00" in text and "Balance now: ₱20.00" in text
    assert "₱20.00" in html and "<html" in html
    text, html = parts(second)
    assert "2 × Purified water: ₱5.00" in text
    assert "Balance now: ₱15.00" in text
    assert "Purified water" in html
    link = unsubscribe_link(text)
    assert second["List-Unsubscribe"] == f"<http://testserver{link}>" or link in str(
        second["List-Unsubscribe"]
    )
    assert second["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    log = Message.objects.filter(customer__code=maria).order_by("id")
    assert [(m.kind, m.channel, m.status, m.attempts) for m in log] == [
        ("receipt", "email", "sent", 1),
        ("receipt", "email", "sent", 1),
    ]


def test_a_receipt_for_a_punch_card_and_a_pass_bought(smtp, shop, actor, product):
    maria = customer(email="maria@example.com")
    refills = create_package(
        name="10 refills", product=Product.objects.get(pk=product), count=10, bonus_count=1,
        price_minor=25000, valid_days=90, by=None,
    )  # fmt: skip
    month = create_package(
        name="Unlimited, 30 days", product=None, count=0, price_minor=90000, valid_days=30,
        kind=Package.Kind.TIME, by=None,
    )  # fmt: skip
    for package in (refills, month):
        run(
            BuyPackage(customer=maria, package=package.pk, method="cash"),
            actor=actor,
            scope="test",
            key=key("package"),
        )
    work()
    card, time_pass = smtp.mailbox.received
    text, html = parts(card)
    assert "Punch card" in text and "1 × 10 refills (11 uses, until " in text
    assert "Total: ₱250.00" in text and "10 refills" in html
    text, _html = parts(time_pass)
    assert "Pass" in text and "1 × Unlimited, 30 days (until " in text
    assert "Total: ₱900.00" in text


def test_a_customer_in_chinese_gets_chinese(smtp, shop, actor, product):
    li = customer("李娜", email="li@example.com", language="zh-hans")
    top_up(li, "20.00", actor)
    work()
    (mail,) = smtp.mailbox.received
    assert mail["Subject"] == "您在 Agua Pura 的收据"
    text, html = parts(mail)
    assert "充值" in text and "余额" in text
    assert 'lang="zh-hans"' in html
    assert Message.objects.get().language == "zh-hans"


def test_no_mail_without_an_address_or_after_opting_out(smtp, shop, actor, product):
    nobody = customer("No Mail")
    quiet = customer("Quiet", email="quiet@example.com", email_receipts=False)
    for code in (nobody, quiet):
        top_up(code, "20.00", actor)
        sell(code, product, "1", actor)
    work()
    assert smtp.mailbox.received == []
    assert not Message.objects.exists()


def test_the_unsubscribe_link_stops_receipts(smtp, shop, actor, product, client):
    maria = customer(email="maria@example.com")
    top_up(maria, "20.00", actor)
    work()
    link = unsubscribe_link(parts(smtp.mailbox.received[0])[0])
    page = client.get(link)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200
    assert "Stop receipts and balance notices by e-mail." in page.content.decode()
    assert Customer.objects.get(code=maria).email_receipts
    done = client.post(link)
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    assert not Customer.objects.get(code=maria).email_receipts
    change = AuditEvent.objects.filter(action="customer.updated").last()
    assert change.after["email_receipts"] is False and change.staff is None
    # The API shows email_receipts: integrations hear of the change like any other edit.
    (event,) = Event.objects.filter(type="customer.updated", customer__code=maria)
    assert json.loads(open_record(event.data))["email_receipts"] is False
    assert client.post(link).status_code == 200  # a second click: nothing more
    assert Event.objects.filter(type="customer.updated", customer__code=maria).count() == 1
    sell(maria, product, "1", actor)
    work()
    assert len(smtp.mailbox.received) == 1
    assert client.get(link).content.decode().count("You are already unsubscribed.") == 1


def test_one_click_unsubscribe_from_the_mail_program(smtp, shop, actor, client):
    maria = customer(email="maria@example.com")
    top_up(maria, "20.00", actor)
    work()
    link = unsubscribe_link(parts(smtp.mailbox.received[0])[0])
    answer = client.post(
        link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert not Customer.objects.get(code=maria).email_receipts


def test_a_forged_link_stops_nothing(shop, client):
    maria = customer(email="maria@example.com")
    assert client.get("/m/unsubscribe/bogus").status_code == 404
    assert client.post(f"/m/unsubscribe/{maria}:receipts").status_code == 404
    assert Customer.objects.get(code=maria).email_receipts


def test_a_refusing_server_is_tried_again_later(smtp, shop, actor):
    maria = customer(email="maria@example.com")
    smtp.mailbox.answer = "451 4.3.0 Try again later"
    top_up(maria, "20.00", actor)
    now = timezone.now()
    work(now)
    message = Message.objects.get()
    assert (message.status, message.attempts) == ("waiting", 1)
    assert message.next_attempt_at == now + timedelta(minutes=1)
    assert message.last_error == "SMTPDataError 451"
    assert "maria" not in message.last_error
    work(now + timedelta(seconds=30))  # not due yet
    assert Message.objects.get().attempts == 1
    smtp.mailbox.answer = "250 OK"
    work(now + timedelta(minutes=1))
    assert Message.objects.get().status == "sent"
    assert len(smtp.mailbox.received) == 1


def test_a_server_down_never_blocks_a_sale_and_gives_up_after_the_last_retry(
    smtp, shop, actor, product
):
    smtp.stop()
    maria = customer(email="maria@example.com")
    top_up(maria, "20.00", actor)
    assert sell(maria, product, "1", actor).status == 201
    now = timezone.now()
    work(now)
    assert set(Message.objects.values_list("status", "attempts")) == {("waiting", 1)}
    at = now
    for wait in (1, 5, 30, 120):
        at += timedelta(minutes=wait)
        work(at)
    assert set(Message.objects.values_list("status", "attempts")) == {("failed", 5)}
    assert set(Message.objects.values_list("last_error", flat=True)) == {"ConnectionRefusedError"}


def test_an_event_dispatched_twice_sends_one_mail(smtp, shop, actor):
    maria = customer(email="maria@example.com")
    top_up(maria, "20.00", actor)
    outbox.dispatch()
    Event.objects.update(dispatched_at=None)  # as if the worker died after its commit
    outbox.dispatch()
    work()
    assert Message.objects.count() == 1
    assert len(smtp.mailbox.received) == 1


def test_a_dead_server_is_tried_once_a_round_not_once_a_message(smtp, shop, actor, monkeypatch):
    from django.core.mail.backends.smtp import EmailBackend

    opened = []
    real_open = EmailBackend.open

    def counting_open(self):
        opened.append(1)
        return real_open(self)

    monkeypatch.setattr(EmailBackend, "open", counting_open)
    smtp.stop()
    for name in ("Ana", "Ben", "Cy"):
        top_up(customer(name, email=f"{name.lower()}@example.com"), "20.00", actor)
    work()
    assert len(opened) == 1
    assert set(Message.objects.values_list("status", "attempts", "last_error")) == {
        ("waiting", 1, "ConnectionRefusedError")
    }


def test_a_message_that_cannot_be_written_never_holds_up_the_outbox(smtp, shop, actor, monkeypatch):
    from prepaid.messaging import compose

    maria = customer(email="maria@example.com")
    top_up(maria, "20.00", actor)

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(compose, "receipt", broken)
    work()
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert not Message.objects.exists()
