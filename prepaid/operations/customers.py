"""Operations on customers: register (with a credit limit), change, credit limit, cards,
close. They move no money but change who may spend what, so they run in the same
envelope: one transaction, the role table, the audit trail (``customers.services`` and
``sales.services`` write it), an event; an idempotency key when the caller has one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings

from prepaid.customers import lookup
from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.operations import present
from prepaid.operations.envelope import Context, Done, Gate, Operation, perform_or_hold
from prepaid.operations.models import Approval
from prepaid.operations.money import find_customer
from prepaid.sales import services as sales
from prepaid.staff.models import Store


@dataclass(frozen=True)
class Contact:
    """What a person may set on a customer; None leaves a value as it is."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    birthday: dt.date | None = None
    notes: str | None = None
    marketing_sms: bool | None = None
    marketing_email: bool | None = None
    home_store: int | None = None
    tags: tuple[str, ...] | None = None
    language: str | None = None
    email_receipts: bool | None = None
    low_balance_minor: int | None = None  # negative: the shop's default

    def profile(self) -> customers.Profile:
        return customers.Profile(
            name=self.name,
            phone=self.phone,
            email=self.email,
            address=self.address,
            birthday=self.birthday,
            notes=self.notes,
            marketing_sms=self.marketing_sms,
            marketing_email=self.marketing_email,
            home_store=Store.objects.get(pk=self.home_store) if self.home_store else None,
            tags=list(self.tags) if self.tags is not None else None,
            language=self.language,
            email_receipts=self.email_receipts,
            low_balance_minor=self.low_balance_minor,
        )


def customer_data(context: Context, person: Customer) -> dict[str, Any]:
    return present.customer(person, sales.balances(person), context.business.currency)


@dataclass(frozen=True)
class RegisterCustomer(Operation):
    """A new customer, with a first card, accounts opened, and a credit limit (which an
    owner or manager must give)."""

    action: ClassVar[str] = "customers.write"
    moves_money: ClassVar[bool] = False

    contact: Contact
    credit_limit_minor: int = 0
    card: str = ""  # a pre-printed card to link (its URL or token) in place of a new one

    def perform(self, context: Context) -> Done:
        if self.credit_limit_minor:
            context.require("customers.credit")
        if self.card:
            context.require("cards.issue")
        person = customers.register(
            self.contact.profile(), by=context.actor.by, store=context.actor.store
        )
        if self.card:  # the printed card is their card: the one made with them stops
            customers.link_blank(
                person, lookup.card_text(self.card), replace=True, by=context.actor.by
            )
        ledger.open_accounts(person, unit=context.business.currency)
        waiting = None
        if self.credit_limit_minor:
            waiting = _credit_limit(context, person, self.credit_limit_minor)
        data = customer_data(context, person)
        data["credit_limit_request"] = waiting
        context.emit("customer.created", data, customer=person)
        return Done(data, status=201)


@dataclass(frozen=True)
class UpdateCustomer(Operation):
    """Contact data, notes, consent and tags; a credit limit too (owner, manager)."""

    action: ClassVar[str] = "customers.write"
    moves_money: ClassVar[bool] = False

    customer: str
    contact: Contact
    credit_limit_minor: int | None = None

    def perform(self, context: Context) -> Done:
        person = find_customer(self.customer)
        limit = self.credit_limit_minor
        if limit is not None and limit != person.credit_limit_minor:
            context.require("customers.credit")
        before = customers.snapshot(person)
        person = customers.update(person, self.contact.profile(), by=context.actor.by)
        waiting = None
        if limit is not None and limit != person.credit_limit_minor:
            waiting = _credit_limit(context, person, limit)
            person.refresh_from_db(fields=["credit_limit_minor"])
        data = customer_data(context, person)
        data["credit_limit_request"] = waiting
        if customers.snapshot(person) != before:
            context.emit("customer.updated", data, customer=person)
        return Done(data, status=200)


@dataclass(frozen=True)
class OptOut(Operation):
    """The customer's own "no more of these", from the unsubscribe link of an e-mail:
    ``receipts`` stops receipts and balance notices, ``marketing`` withdraws the e-mail
    marketing consent. A change is a ``customer.updated`` event like any other edit."""

    action: ClassVar[str] = "customers.write"  # not asked: the customer's own
    moves_money: ClassVar[bool] = False
    by_customer: ClassVar[bool] = True

    customer: str
    receipts: bool = False
    marketing: bool = False

    def perform(self, context: Context) -> Done:
        person = find_customer(self.customer)
        before = customers.snapshot(person)
        profile = customers.Profile(
            email_receipts=False if self.receipts else None,
            marketing_email=False if self.marketing else None,
        )
        person = customers.update(person, profile, by=None)
        data = customer_data(context, person)
        if customers.snapshot(person) != before:
            context.emit("customer.updated", data, customer=person)
        return Done(data, status=200)


@dataclass(frozen=True)
class SetCreditLimit(Operation):
    """Let the customer's paid balance go down to minus ``credit_limit_minor``. A raise
    waits for a second person's approval when the shop says so (the default); a
    registration or an edit that gives a higher limit asks for it here."""

    action: ClassVar[str] = "customers.credit"
    moves_money: ClassVar[bool] = False

    customer: str
    credit_limit_minor: int

    def gate(self, context: Context) -> Gate | None:
        if not context.business.approval_credit_raises:
            return None
        person = find_customer(self.customer)
        if self.credit_limit_minor <= person.credit_limit_minor:
            return None
        return Gate(Approval.Kind.CREDIT_LIMIT, self.credit_limit_minor, person)

    def perform(self, context: Context) -> Done:
        person = find_customer(self.customer)
        sales.set_credit_limit(person, self.credit_limit_minor, by=context.actor.by)
        data = customer_data(context, person)
        context.emit("customer.updated", data, customer=person)
        return Done(data, status=200)


def _credit_limit(context: Context, person: Customer, limit_minor: int) -> dict[str, Any] | None:
    """Set the limit now, or keep the raise as a request for approval: the request as
    the API shows it, or None when the limit was set."""
    operation = SetCreditLimit(customer=person.code, credit_limit_minor=limit_minor)
    if operation.gate(context) is None:  # no approval: set here, with no event of its own
        sales.set_credit_limit(person, limit_minor, by=context.actor.by)
        return None
    done = perform_or_hold(operation, context)
    return done.data if done.status == 202 else None


@dataclass(frozen=True)
class IssueCard(Operation):
    """A new QR card; ``replace`` revokes the customer's cards in the same step."""

    action: ClassVar[str] = "cards.issue"
    moves_money: ClassVar[bool] = False

    customer: str
    replace: bool = False
    token: str = ""  # a pre-printed card's (its URL or token): linked instead of a new one

    def perform(self, context: Context) -> Done:
        person = find_customer(self.customer)
        if self.token:
            card = customers.link_blank(
                person, lookup.card_text(self.token), replace=self.replace, by=context.actor.by
            )
        else:
            card = customers.issue_card(person, replace=self.replace, by=context.actor.by)
        data = {
            "customer": person.code,
            "token": card.token,
            "url": card.url,
            "qr_svg_url": f"{settings.SITE_URL}/c/{card.token}/qr.svg",
        }
        event = "card.replaced" if self.replace else "card.issued"
        context.emit(event, data, customer=person)
        return Done(data, status=201)


@dataclass(frozen=True)
class GenerateCards(Operation):
    """A batch of pre-printed cards (Card stock): QR codes linked to nobody yet."""

    action: ClassVar[str] = "cards.stock"
    moves_money: ClassVar[bool] = False

    count: int

    def perform(self, context: Context) -> Done:
        batch = customers.generate_blanks(self.count, by=context.actor.by)
        return Done({"batch": batch.pk, "count": batch.size}, status=201)


@dataclass(frozen=True)
class CloseAccount(Operation):
    """Close an account at zero balance; its cards stop working."""

    action: ClassVar[str] = "customers.close"
    moves_money: ClassVar[bool] = False

    customer: str

    def perform(self, context: Context) -> Done:
        person = find_customer(self.customer)
        sales.close_account(person, by=context.actor.by)
        data = customer_data(context, person)
        context.emit("customer.updated", data, customer=person)
        return Done(data, status=200)
