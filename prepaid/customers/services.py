"""Customer use cases: register (one, or many for an import), edit, note, consent, cards.
The only writer of customers.

Balances live in the ledger; closing an account and changing a credit limit touch money,
so they are in ``sales.services``, which calls back into this module for the profile.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from prepaid.customers.models import (
    BlankCard,
    Card,
    CardBatch,
    Customer,
    KioskPin,
    NameKey,
    Note,
    Tag,
    sealed_columns,
)
from prepaid.lib import bulk, sealing
from prepaid.lib.codes import new_code, new_token
from prepaid.lib.phones import PhoneError, normalize_phone
from prepaid.lib.text import fold, has_visible, name_keys
from prepaid.lib.transactions import in_envelope, step, stepped
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business, Staff, Store
from prepaid.staff.refusals import Refusal

Author = Staff | ApiToken | None
WRITE_CHUNK = 2000  # customers per round of inserts in ``register_many``


CustomerError = Refusal  # what this module refuses: a Refusal, ``field`` names the field


class DuplicateCustomer(Refusal):
    """Another customer has this phone number or email; ``existing`` is that customer."""

    def __init__(self, existing: Customer, *, field: str) -> None:
        super().__init__(
            "duplicate_customer", field=field, name=existing.name, existing=existing.code
        )
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
    # Messages (docs/messages.md): "" is the shop's language; a negative low-balance
    # level is the shop's default.
    language: str | None = None
    email_receipts: bool | None = None
    low_balance_minor: int | None = None


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
    "language",
    "email_receipts",
    "low_balance_minor",
)


# What the audit trail keeps sealed with the customer's key: erasing the customer
# shreds it there too (the trail itself is append-only and hash-chained).
PERSONAL = frozenset({"name", "phone", "email", "address", "birthday", "notes"})


def snapshot(customer: Customer) -> dict[str, Any]:
    """The audited values, plain: to compare before and after (see ``sealed``)."""
    values = {name: getattr(customer, name) for name in AUDITED}
    values["birthday"] = customer.birthday.isoformat() if customer.birthday else None
    return values


def sealed(customer: Customer | NewCustomer, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as the audit trail keeps them: the personal ones sealed with the
    customer's key (``{"sealed": …}``), the rest (consent, limit, status) plain."""
    return {
        name: {"sealed": customer.seal(json.dumps(value), f"audit:{name}")}
        if name in PERSONAL and value not in (None, "")
        else value
        for name, value in values.items()
    }


def revealed(customer: Customer | None, values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Audit ``values`` with their sealed parts opened by ``customer``'s key, for the
    Activity page; "erased" (translated) once the customer is erased."""
    if not values:
        return values
    shown: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, dict) and set(value) == {"sealed"}:
            try:
                if customer is None:
                    raise sealing.Unreadable(name)
                value = json.loads(customer.unseal(value["sealed"], f"audit:{name}"))
            except sealing.Unreadable:
                value = gettext("(erased)")
        shown[name] = value
    return shown


def folded_name(name: str) -> str:
    """The ``search_name`` of a customer called ``name``."""
    return fold(name)[:120]


def region() -> str:
    business = Business.current()
    return business.region if business else "US"


def clean_phone(text: str) -> str:
    if not text.strip():
        return ""
    try:
        return normalize_phone(text, region())
    except PhoneError:
        raise Refusal("phone_not_valid", field="phone", phone=text) from None


FIRST_BIRTH_YEAR = 1900


def birthday_possible(day: dt.date) -> bool:
    """A birthday from 1900 to today: the rule for every way a customer comes in."""
    return day.year >= FIRST_BIRTH_YEAR and day <= dt.date.today()


def email_possible(email: str) -> bool:
    """Django's e-mail validator, as the back office's forms and the import use it."""
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _apply(customer: Customer, profile: Profile, *, by: Author) -> None:
    """Copy the given values onto the customer, checking each; consent is stamped."""
    if profile.name is not None:
        if not has_visible(profile.name):
            raise Refusal("name_required", field="name")
        customer.name = " ".join(profile.name.split())
    if profile.phone is not None:
        customer.phone = clean_phone(profile.phone)
    if profile.email is not None:
        customer.email = profile.email.strip().lower()
        if customer.email and not email_possible(customer.email):
            raise Refusal("email_not_valid", field="email", email=profile.email.strip())
    for name in ("address", "notes"):
        value = getattr(profile, name)
        if value is not None:
            setattr(customer, name, value.strip())
    if profile.birthday is not None:
        if not birthday_possible(profile.birthday):
            raise Refusal("birthday_not_valid", field="birthday")
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
    if profile.language is not None:
        customer.language = profile.language
    if profile.email_receipts is not None:
        customer.email_receipts = profile.email_receipts
    if profile.low_balance_minor is not None:
        customer.low_balance_minor = (
            profile.low_balance_minor if profile.low_balance_minor >= 0 else None
        )
    if customer.marketing_sms and not customer.phone:
        raise Refusal("sms_consent_needs_phone", field="marketing_sms")
    if customer.marketing_email and not customer.email:
        raise Refusal("email_consent_needs_email", field="marketing_email")


def with_phone(phone: str) -> QuerySet[Customer]:
    """Customers whose phone (E.164) is ``phone``: by its blind index, under every key."""
    return Customer.objects.filter(phone_index__in=sealing.blinds("phone", phone))


def with_email(email: str) -> QuerySet[Customer]:
    return Customer.objects.filter(email_index__in=sealing.blinds("email", email))


def _check_duplicates(customer: Customer) -> None:
    if customer.phone and (same := with_phone(customer.phone).exclude(pk=customer.pk).first()):
        raise DuplicateCustomer(same, field="phone")
    if customer.email and (same := with_email(customer.email).exclude(pk=customer.pk).first()):
        raise DuplicateCustomer(same, field="email")


def _save(customer: Customer) -> None:
    """Save with the search columns and name keys derived from the profile."""
    customer.search_name = folded_name(customer.name)
    _check_duplicates(customer)
    try:
        with step():
            customer.save()
    except IntegrityError:
        if not in_envelope():  # the envelope runs again from the start and says who
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


@stepped
def register(profile: Profile, *, by: Author, store: Store | None = None) -> Customer:
    """A new customer with a first card. Duplicate phone or email: nothing is saved.
    ``register_many`` is the bulk form, for imports."""
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
        after=sealed(customer, snapshot(customer)),
    )
    return customer


@stepped
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
            before=sealed(locked, {k: before[k] for k in changed}),
            after=sealed(locked, {k: after[k] for k in changed}),
        )
    return locked


def add_note(
    customer: Customer, text: str, *, kind: Note.Kind = Note.Kind.NOTE, by: Author
) -> Note:
    if not text.strip():
        raise Refusal("note_empty", field="text")
    note = Note(customer=customer, kind=kind, author=by if isinstance(by, Staff) else None)
    note.text = text.strip()  # sealed with the customer's key
    note.save()
    return note


@stepped
def issue_card(customer: Customer, *, replace: bool = False, by: Author) -> Card:
    """A new card for the customer. ``replace`` revokes every card they had, in the same
    step: a lost card stops working the moment its replacement exists."""
    card, revoked = _new_card(customer, replace=replace)
    audit.record(
        "card.replaced" if replace else "card.issued",
        f"customer:{customer.code}",
        by=by,
        after={"revoked": revoked, "card": card.hint},
    )
    return card


def _new_card(customer: Customer, *, replace: bool, token: str = "") -> tuple[Card, int]:
    """A card for the customer (with ``token``: a pre-printed card's; else a new token),
    and how many of their cards ``replace`` stopped in the same step."""
    if customer.status == Customer.Status.CLOSED:
        raise Refusal("account_closed")
    revoked = 0
    if replace:
        revoked = Card.objects.filter(customer=customer, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    card = Card(customer=customer)
    if token:
        card.token = token
    card.save()
    return card, revoked


def freeze_cards(customer: Customer, *, reason: str, by: Author = None) -> int:
    """Stop every card of the customer at once (a lost card reported by the customer
    themselves); the balance stays, and the shop issues a new card later. Answers how
    many were stopped."""
    now = timezone.now()
    frozen = Card.objects.filter(customer=customer, revoked_at__isnull=True)
    hints = list(frozen.values_list("hint", flat=True))
    frozen.update(revoked_at=now)
    audit.record(
        "card.reported_lost",
        f"customer:{customer.code}",
        by=by,
        after={"cards": hints, "reason": reason},
    )
    return len(hints)


def revoke_card(card: Card, *, by: Author) -> None:
    if card.revoked_at is None:
        Card.objects.filter(pk=card.pk).update(revoked_at=timezone.now())
        audit.record(
            "card.revoked", f"customer:{card.customer.code}", by=by, after={"card": card.hint}
        )


ERASED_NAME = "—"  # an erased customer's name: neutral, the same in every language


def erase_profile(customer: Customer, *, by: Author) -> None:
    """Everything personal about ``customer`` gone for good (``sales.services.erase``
    checks the balance first): the data key destroyed, so whatever was sealed with it
    (the profile, the notes, the cards' tokens, the audit trail's snapshots) can no
    longer be opened; the name replaced, consent withdrawn, the cards revoked, the
    kiosk PIN, the name's search keys and the blind indexes cleared. The code, the
    ledger and the audit trail's record of who did what stay."""
    now = timezone.now()
    Card.objects.filter(customer=customer).update(
        sealed_token="", revoked_at=Coalesce("revoked_at", Value(now))
    )
    Note.objects.filter(customer=customer).update(sealed_text="")
    NameKey.objects.filter(customer=customer).delete()
    KioskPin.objects.filter(customer=customer).delete()
    customer.tags.clear()
    erased = {
        "name": ERASED_NAME,
        "search_name": "",
        "sealed_key": "",
        "personal": "",
        "phone_index": None,
        "phone_tail": None,
        "email_index": None,
        "email_local": None,
        "marketing_sms": False,
        "marketing_sms_changed_at": now,
        "marketing_sms_changed_by": by if isinstance(by, Staff) else None,
        "marketing_email": False,
        "marketing_email_changed_at": now,
        "marketing_email_changed_by": by if isinstance(by, Staff) else None,
        "status": Customer.Status.CLOSED,
        "erased_at": now,
        "updated_at": now,
    }
    Customer.objects.filter(pk=customer.pk).update(**erased)
    for name, value in erased.items():
        setattr(customer, name, value)
    customer._personal, customer._data_key = None, None


def active_cards(customer: Customer) -> list[Card]:
    return list(customer.cards.filter(revoked_at__isnull=True).order_by("-created_at"))


# -- registering many at once (plain SQL: see ``lib.bulk``) ---------------------------


@dataclass
class NewCustomer:
    """A customer for ``register_many``, its values as ``_apply`` leaves them: the name's
    spaces collapsed, the phone in E.164, the email in lower case, the rest trimmed. An
    empty ``code`` gets a fresh one. ``register_many`` sets ``code``, ``search_name``,
    ``pk`` and the data key."""

    name: str
    code: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    birthday: dt.date | None = None
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    # What every new customer starts with (the model's defaults), for the audit entry.
    marketing_sms: bool = field(default=False, init=False)
    marketing_email: bool = field(default=False, init=False)
    credit_limit_minor: int = field(default=0, init=False)
    status: str = field(default=Customer.Status.ACTIVE, init=False)
    language: str = field(default="", init=False)
    email_receipts: bool = field(default=True, init=False)
    low_balance_minor: int | None = field(default=None, init=False)
    search_name: str = field(default="", init=False)
    pk: int = field(default=0, init=False)
    data_key: bytes = field(default_factory=sealing.new_data_key, init=False, repr=False)

    def snapshot(self) -> dict[str, Any]:
        """``snapshot`` of the customer once saved."""
        values = {name: getattr(self, name) for name in AUDITED}
        values["birthday"] = self.birthday.isoformat() if self.birthday else None
        return values

    def seal(self, plain: str, what: str) -> str:
        """As ``Customer.seal``, once ``code`` is set."""
        return sealing.seal(self.data_key, plain.encode(), f"{self.code}:{what}")

    def personal(self) -> dict[str, str]:
        values = {
            "phone": self.phone,
            "email": self.email,
            "address": self.address,
            "birthday": self.birthday.isoformat() if self.birthday else "",
            "notes": self.notes,
        }
        return {name: value for name, value in values.items() if value}


@transaction.atomic
def register_many(
    news: list[NewCustomer],
    *,
    by: Author,
    store: Store | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """``register`` for many, by plain SQL: the customers, their name keys, first cards,
    tags and audit entries, ``WRITE_CHUNK`` customers at a time (``progress`` hears the
    count done after each). Sets each one's ``code`` (when empty), ``search_name`` and
    ``pk``.

    The values must be clean already (see ``NewCustomer``): nothing is checked one by
    one. A phone, email or code that another customer has meanwhile is refused by the
    unique indexes: ``IntegrityError``, and the caller's transaction rolls back.
    """
    _fresh_codes(news)
    tags = _tags_named({tag for new in news for tag in new.tags})
    for new in news:
        new.search_name = folded_name(new.name)
    home: dict[str, object] = {"home_store_id": store.pk if store else None}
    for start in range(0, len(news), WRITE_CHUNK):
        chunk = news[start : start + WRITE_CHUNK]
        bulk.insert(Customer, [_customer_row(new) for new in chunk], same=home)
        ids = bulk.ids(Customer, "code", (new.code for new in chunk))
        for new in chunk:
            new.pk = ids[new.code]
        bulk.insert(
            NameKey,
            [{"customer_id": n.pk, "key": key} for n in chunk for key in name_keys(n.search_name)],
        )
        bulk.insert(Card, [_card_row(new, new_token()) for new in chunk])
        bulk.insert(
            Customer.tags.through,
            [{"customer_id": n.pk, "tag_id": tags[name]} for n in chunk for name in n.tags],
        )
        audit.record_many(
            "customer.registered",
            [(f"customer:{new.code}", sealed(new, new.snapshot())) for new in chunk],
            by=by,
            store=store,
        )
        if progress:
            progress(start + len(chunk), len(news))


def _fresh_codes(news: list[NewCustomer]) -> None:
    """New codes for the customers without one, unique among themselves and in the
    database: with 100,000 new codes a clash is rare, not impossible."""
    taken = {new.code for new in news if new.code}
    generated = [new for new in news if not new.code]
    for new in generated:
        while not new.code or new.code in taken:
            new.code = new_code()
        taken.add(new.code)
    clashes = set(bulk.ids(Customer, "code", (new.code for new in generated)))
    for new in generated:
        while new.code in clashes:
            new.code = new_code()
            clashes |= {new.code} & taken
        taken.add(new.code)


def _customer_row(new: NewCustomer) -> dict[str, object]:
    return {
        "code": new.code,
        "name": new.name,
        "sealed_key": sealing.wrap(new.data_key, new.code),
        **sealed_columns(new.code, new.data_key, new.personal()),
        "search_name": new.search_name,
    }


def _card_row(new: NewCustomer, token: str) -> dict[str, object]:
    """A card's row as ``Card.token`` sets it."""
    digest = sealing.digest(token)
    return {
        "customer_id": new.pk,
        "token_digest": digest,
        "hint": token[:6],
        "sealed_token": new.seal(token, f"card:{digest}"),
    }


def _tags_named(names: set[str]) -> dict[str, int]:
    """Tag ids by name, creating the tags that do not exist yet."""
    existing = bulk.ids(Tag, "name", names)
    Tag.objects.bulk_create(Tag(name=name) for name in sorted(names - existing.keys()))
    return bulk.ids(Tag, "name", names)


# -- pre-printed card stock ---------------------------------------------------------------

BATCH_MOST = 500  # cards one batch may hold


def generate_blanks(count: int, *, by: Author) -> CardBatch:
    """A batch of ``count`` pre-printed cards: new tokens, none a card's already."""
    if not 1 <= count <= BATCH_MOST:
        raise Refusal("card_count", field="count", most=BATCH_MOST)
    staff = by if isinstance(by, Staff) else None
    batch = CardBatch.objects.create(size=count, created_by=staff)
    tokens: dict[str, str] = {}
    while len(tokens) < count:
        for token in (new_token() for _ in range(count - len(tokens))):
            tokens[sealing.digest(token)] = token
        taken = set(
            Card.objects.filter(token_digest__in=tokens).values_list("token_digest", flat=True)
        ) | set(
            BlankCard.objects.filter(token_digest__in=tokens).values_list("token_digest", flat=True)
        )
        for digest in taken:
            del tokens[digest]
    BlankCard.objects.bulk_create(
        BlankCard(
            batch=batch,
            token_digest=digest,
            sealed_token=sealing.seal_record(token),
            hint=token[:6],
        )
        for digest, token in tokens.items()
    )
    audit.record("cards.generated", f"card_batch:{batch.pk}", by=by, after={"count": count})
    return batch


def link_blank(customer: Customer, token: str, *, replace: bool, by: Author) -> Card:
    """Make the pre-printed card of ``token`` the customer's: a ``Card`` with the same
    token, sealed under their key; the blank is used. ``replace`` stops the customer's
    other cards in the same step (one card per customer)."""
    blank = BlankCard.objects.select_for_update().filter(token_digest=sealing.digest(token)).first()
    if blank is None:
        raise Refusal("not_a_blank_card", field="card")
    if blank.used_at is not None or Card.objects.filter(token_digest=blank.token_digest).exists():
        raise Refusal("blank_card_used", field="card")
    card, revoked = _new_card(customer, replace=replace, token=token)
    BlankCard.objects.filter(pk=blank.pk).update(used_at=timezone.now(), card=card, sealed_token="")
    audit.record(
        "card.linked",
        f"customer:{customer.code}",
        by=by,
        after={"revoked": revoked, "card": card.hint, "batch": blank.batch_id},
    )
    return card


def reseal_blanks(current: str) -> int:
    """Move the unused blanks' tokens to the shop's ``current`` key (a key rotation)."""
    moved = 0
    for blank in BlankCard.objects.exclude(sealed_token=""):
        if sealing.record_key_id(blank.sealed_token) != current:
            token = sealing.open_record(blank.sealed_token)
            BlankCard.objects.filter(pk=blank.pk).update(sealed_token=sealing.seal_record(token))
            moved += 1
    return moved
