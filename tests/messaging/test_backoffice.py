"""The back office: the shop's message settings, the customer's preferences in their
form, and the message log on the customer's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.messaging.models import Message
from prepaid.staff.models import AuditEvent, Business
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_the_owner_sets_the_shops_messages(client, owner):
    client.force_login(owner.user)
    page = client.get("/settings/").content.decode()
    assert "Low-balance notice below" in page and "Expiry reminders (days ahead)" in page
    response = client.post(
        "/settings/",
        {
            "name": "Agua Pura",
            "spend_order": "proportional",
            "time_zone": "UTC",
            "counter_idle_minutes": 5,
            "language": "nl",
            "low_balance": "5.00",
            "reminder_days": 3,
        },
        follow=True,
    )
    assert "Settings saved." in response.content.decode()
    business = Business.objects.get()
    assert (business.language, business.low_balance_minor, business.reminder_days) == ("nl", 500, 3)
    assert AuditEvent.objects.get(action="business.settings").after["low_balance_minor"] == 500


def test_the_customer_form_keeps_language_receipts_and_level(client, owner):
    client.force_login(owner.user)
    maria = make_customer("Maria Santos")
    response = client.post(
        f"/customers/{maria.code}/edit/",
        {
            "name": "Maria Santos",
            "email": "maria@example.com",
            "language": "zh-hans",
            "email_receipts": "0",
            "low_balance": "2.50",
        },
    )
    assert response.status_code == 302, response.content.decode()
    maria = Customer.objects.get(pk=maria.pk)
    saved = (maria.language, maria.email_receipts, maria.low_balance_minor)
    assert saved == ("zh-hans", False, 250)
    audit = AuditEvent.objects.filter(action="customer.updated").last()
    assert audit.after["email_receipts"] is False
    form = client.get(f"/customers/{maria.code}/edit/").content.decode()
    assert 'value="0" checked' in form or 'value="0" id="id_email_receipts_1" checked' in form
    # Empty again: the shop's level; the receipts left as they were when not asked.
    client.post(f"/customers/{maria.code}/edit/", {"name": "Maria Santos", "email": ""})
    maria = Customer.objects.get(pk=maria.pk)
    assert (maria.low_balance_minor, maria.email_receipts, maria.language) == (None, False, "")


def test_the_customer_page_lists_the_messages_newest_first(client, cashier_a):
    client.force_login(cashier_a.user)
    maria = make_customer("Maria Santos")
    now = timezone.now()
    Message.objects.create(
        customer=maria,
        channel="email",
        kind="receipt",
        key="receipt:1",
        language="en",
        subject="Your receipt from Agua Pura",
        status="sent",
        attempts=1,
        created_at=now - timedelta(hours=2),
        sent_at=now - timedelta(hours=2),
    )
    Message.objects.create(
        customer=maria,
        channel="email",
        kind="low_balance",
        key="low:email:2",
        language="en",
        subject="Your balance at Agua Pura is low",
        status="waiting",
        attempts=2,
        last_error="ConnectionRefusedError",
        created_at=now,
        next_attempt_at=now,
    )
    page = client.get(f"/customers/{maria.code}/").content.decode()
    section = page[page.index('id="messages"') :]
    assert section.index("Low balance") < section.index("Receipt")
    assert "2 attempts failed; trying again" in section
    assert "ConnectionRefusedError" in section
    assert "Sent" in section
