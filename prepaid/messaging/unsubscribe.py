"""The unsubscribe link of every e-mail: a signed token naming the customer and what it
stops, ``receipts`` (receipts and account notices) or ``marketing`` (reminders and other
marketing by e-mail). ``/m/unsubscribe/<token>`` shows what it stops with a button (mail
scanners open links: a GET changes nothing); the button, or a mail program's one-click
POST (RFC 8058), stops it. The change is the customer's own, kept in the audit trail;
a withdrawn marketing consent is also a ``customer.updated`` event for the webhooks.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from prepaid.customers.models import Customer
from prepaid.ledger.services import Actor
from prepaid.operations.customers import OptOut
from prepaid.operations.envelope import run
from prepaid.staff.models import Store

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
    """Stop what the token names (``OptOut``, the customer's own operation: audited, and
    a ``customer.updated`` event for the integrations); answers whether anything
    changed (a second click, or a mail program's POST after the button: nothing more)."""
    if not subscribed(customer, what):
        return False
    store = customer.home_store or Store.objects.order_by("id").first()
    assert store is not None  # a shop with customers has a store
    operation = OptOut(customer.code, receipts=what == RECEIPTS, marketing=what == MARKETING)
    run(operation, actor=Actor(store=store), scope="unsubscribe")
    return True
