"""The unsubscribe link of every e-mail: a signed token naming the customer and what it
stops, ``receipts`` (receipts and account notices) or ``marketing`` (reminders and other
marketing by e-mail). ``/m/unsubscribe/<token>`` shows what it stops with a button (mail
scanners open links: a GET changes nothing); the button, or a mail program's one-click
POST (RFC 8058), stops it. The change is the customer's own, kept in the audit trail;
a withdrawn marketing consent is also a ``customer.updated`` event for the webhooks.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.lib import sealing
from prepaid.operations import present
from prepaid.operations.models import Event
from prepaid.sales import services as sales
from prepaid.staff.models import Business

SALT = "prepaid.messaging.unsubscribe"
RECEIPTS = "receipts"
MARKETING = "marketing"


def token(customer: Customer, what: str) -> str:
    return signing.dumps([customer.code, what], salt=SALT)


def url(customer: Customer, what: str) -> str:
    return f"{settings.SITE_URL}/m/unsubscribe/{token(customer, what)}"


def read(text: str) -> tuple[Customer, str] | None:
    """The customer and what the token stops; None for a token that is not ours or whose
    customer is gone (erased)."""
    try:
        code, what = signing.loads(text, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if what not in (RECEIPTS, MARKETING):
        return None
    customer = Customer.objects.filter(code=code, erased_at__isnull=True).first()
    return (customer, what) if customer is not None else None


def subscribed(customer: Customer, what: str) -> bool:
    return customer.email_receipts if what == RECEIPTS else customer.marketing_email


def stop(customer: Customer, what: str) -> bool:
    """Stop what the token names; answers whether anything changed (a second click,
    or a mail program's POST after the button: nothing more)."""
    with transaction.atomic():
        if not subscribed(customer, what):
            return False
        if what == RECEIPTS:
            profile = customers.Profile(email_receipts=False)
        else:
            profile = customers.Profile(marketing_email=False)
        person = customers.update(customer, profile, by=None)
        if what == MARKETING:  # the consent integrations see: they hear of it too
            data = present.customer(person, sales.balances(person), Business.get().currency)
            text = json.dumps(data, cls=DjangoJSONEncoder)
            Event.objects.create(
                type="customer.updated", customer=person, data=sealing.seal_record(text)
            )
    return True
