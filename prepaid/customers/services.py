"""Customer use cases: register, edit, note, consent, cards. The only writer of customers.

Balances live in the ledger; closing an account and changing a credit limit touch money,
so they are in ``sales.services``, which calls back into this module for the profile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.customers.models import Card, Customer, NameKey, Note, Tag
from prepaid.lib.phones import PhoneError, normalize_phone, searchable_digits
from prepaid.lib.text import fold, name_keys
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business, Staff, Store

Author = Staff | ApiToken | None


class CustomerError(ValueError):
    """A customer cannot be saved as asked. ``field`` names the form field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DuplicateCustomer(CustomerError):
    """Another customer has this phone number or email; ``existing`` is that customer."""

    def __init__(self, existing: Customer, *, field: str) -> None:
        if field == "phone":
            message = _("This phone number belongs to %(name)s (%(code)s).")
        else:
            message = _("This email address belongs to %(name)s (%(code)s).")
        super().__init__(message % {"name": existing.name, "code": existing.code}, field=field)
        self.existing = existing


@dataclass
class Profile:
    """What a person may set on a customer; ``None`` means "leave as it is" in updates."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    birthday: dt.date | None = None
    notes: str | None = None
    marketing_sms: bool | None = None
    marketing_email: bool | None = None
    home_store: Store | None = None
    tags: list[str] | None = None


AUDITED = (
    "name",
    "phone",
    "email",
    "address",
    "birthday",
    "notes",
    "marketing_sms",
    "marketing_email",
    "credit_limit_minor",
    "status",
)


def snapshot(customer: Customer) -> dict[str, Any]:
    values = {name: getattr(customer, name) for name in AUDITED}
    values["birthday"] = customer.birthday.isoformat() if customer.birthday else None
    return values


def region() -> str:
    business = Business.current()
    return business.region if business else "US"


def clean_phone(text: str) -> str:
    if not text.strip():
        return ""
    try:
        return normalize_phone(text, region())
    except PhoneError:
        raise CustomerError(
            _("“%(phone)s” is not a phone number we can dial.") % {"phone": text}, field="phone"
        ) from None


def _apply(customer: Customer, profile: Profile, *, by: Author) -> None:
    """Copy the given values onto the customer, checking each; consent is stamped."""
    if profile.name is not None:
        if not profile.name.strip():
            raise CustomerError(_("Enter the customer's name."), field="name")
        customer.name = " ".join(profile.name.split())
    if profile.phone is not None:
        customer.phone = clean_phone(profile.phone)
    if profile.email is not None:
        customer.email = profile.email.strip().lower()
    for name in ("address", "notes"):
        value = getattr(profile, name)
        if value is not None:
            setattr(customer, name, value.strip())
    if profile.birthday is not None:
        customer.birthday = profile.birthday
    if profile.home_store is not None:
        customer.home_store = profile.home_store
    staff = by if isinstance(by, Staff) else None
    for channel in ("sms", "email"):
        wanted = getattr(profile, f"marketing_{channel}")
        if wanted is not None and wanted != getattr(customer, f"marketing_{channel}"):
            setattr(customer, f"marketing_{channel}", wanted)
            setattr(customer, f"marketing_{channel}_changed_at", timezone.now())
            setattr(customer, f"marketing_{channel}_changed_by", staff)
    if customer.marketing_sms and not customer.phone:
        raise CustomerError(_("SMS consent needs a phone number."), field="marketing_sms")
    if customer.marketing_email and not customer.email:
        raise CustomerError(_("Email consent needs an email address."), field="marketing_email")


def _check_duplicates(customer: Customer) -> None:
    # The exclusions let SQLite use the partial unique indexes (phone/email not empty).
    others = Customer.objects.exclude(pk=customer.pk)
    if customer.phone and (same := others.filter(phone=customer.phone).exclude(phone="").first()):
        raise DuplicateCustomer(same, field="phone")
    if customer.email and (same := others.filter(email=customer.email).exclude(email="").first()):
        raise DuplicateCustomer(same, field="email")


def _save(customer: Customer) -> None:
    """Save with the search columns and name keys derived from the profile."""
    customer.search_name = fold(customer.name)[:120]
    customer.search_phone = searchable_digits(customer.phone, region())
    _check_duplicates(customer)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        _check_duplicates(customer)  # a concurrent registration won the race: say who
        raise
    NameKey.objects.filter(customer=customer).delete()
    NameKey.objects.bulk_create(
        NameKey(customer=customer, key=key) for key in name_keys(customer.search_name)
    )


def _set_tags(customer: Customer, names: list[str]) -> None:
    tags = []
    for name in {" ".join(name.split()) for name in names if name.strip()}:
        tag, _ = Tag.objects.get_or_create(name=name[:40])
        tags.append(tag)
    customer.tags.set(tags)


@transaction.atomic
def register(profile: Profile, *, by: Author, store: Store | None = None) -> Customer:
    """A new customer with a first card. Duplicate phone or email: nothing is saved."""
    customer = Customer(home_store=store)
    _apply(customer, replace(profile, name=profile.name or ""), by=by)
    _save(customer)
    if profile.tags:
        _set_tags(customer, profile.tags)
    Card.objects.create(customer=customer)
    audit.record(
        "customer.registered",
        f"customer:{customer.code}",
        by=by,
        store=store,
        after=snapshot(customer),
    )
    return customer


@transaction.atomic
def update(customer: Customer, profile: Profile, *, by: Author) -> Customer:
    """Change what ``profile`` sets; the audit trail keeps before and after."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    before = snapshot(locked)
    _apply(locked, profile, by=by)
    _save(locked)
    if profile.tags is not None:
        _set_tags(locked, profile.tags)
    after = snapshot(locked)
    if after != before:
        changed = [name for name in AUDITED if before[name] != after[name]]
        audit.record(
            "customer.updated",
            f"customer:{locked.code}",
            by=by,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return locked


def add_note(
    customer: Customer, text: str, *, kind: Note.Kind = Note.Kind.NOTE, by: Author
) -> Note:
    if not text.strip():
        raise CustomerError(_("Write something in the note."), field="text")
    return Note.objects.create(
        customer=customer,
        kind=kind,
        text=text.strip(),
        author=by if isinstance(by, Staff) else None,
    )


@transaction.atomic
def issue_card(customer: Customer, *, replace: bool = False, by: Author) -> Card:
    """A new card for the customer. ``replace`` revokes every card they had, in the same
    step: a lost card stops working the moment its replacement exists."""
    if customer.status == Customer.Status.CLOSED:
        raise CustomerError(_("This account is closed."))
    revoked = 0
    if replace:
        revoked = Card.objects.filter(customer=customer, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    card = Card.objects.create(customer=customer)
    audit.record(
        "card.replaced" if replace else "card.issued",
        f"customer:{customer.code}",
        by=by,
        after={"revoked": revoked, "card": card.token[:6]},
    )
    return card


def revoke_card(card: Card, *, by: Author) -> None:
    if card.revoked_at is None:
        Card.objects.filter(pk=card.pk).update(revoked_at=timezone.now())
        audit.record(
            "card.revoked", f"customer:{card.customer.code}", by=by, after={"card": card.token[:6]}
        )


def active_cards(customer: Customer) -> list[Card]:
    return list(customer.cards.filter(revoked_at__isnull=True).order_by("-created_at"))
