"""Committing a plan: the whole file in one transaction, or nothing.

New customers — nearly every row of a first import — are written in bulk by
``_register_many`` and ``_open_new_wallets``, which keep what
``customers.services.register`` and ``ledger.services.post`` keep (search columns, name
keys, a first card, the audit entry; one batch and transfer per customer, cached totals
equal to them). Existing customers go one by one through ``customers.services.update``
and ``ledger.services.post``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from prepaid.customers import services as customers
from prepaid.customers.models import Card, Customer, NameKey, Tag
from prepaid.ledger import services as ledger
from prepaid.ledger.errors import LedgerError
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.lib.codes import new_code, new_token
from prepaid.lib.phones import searchable_digits
from prepaid.lib.text import name_keys
from prepaid.sales.importing import bulk, planning
from prepaid.sales.importing.cleaning import Rules, Values
from prepaid.sales.importing.mapping import Field, Mapping
from prepaid.sales.importing.planning import Action, Plan, Row, opening_key, opening_request, plan
from prepaid.sales.importing.problems import ImportProblem
from prepaid.sales.importing.reading import Progress, Sheet
from prepaid.staff import audit
from prepaid.staff.models import AuditEvent

T = TypeVar("T")
WRITE_CHUNK = 2000


class RowErrors(ImportProblem):
    """Rows of the plan have errors; the plan lists them. Nothing has been written."""

    def __init__(self, planned: Plan) -> None:
        count = len(planned.error_rows)
        super().__init__(
            _("%(count)s rows have errors; nothing was imported. Fix them and try again.")
            % {"count": count}
        )
        self.plan = planned


@dataclass(frozen=True)
class Result:
    created: int
    updated: int
    skipped: int
    openings: int
    opening_minor: int


def commit(
    sheet: Sheet,
    mapping: Mapping,
    *,
    actor: ledger.Actor,
    expected: str | None = None,
    progress: Progress | None = None,
) -> Result:
    """Import the sheet: all rows in one transaction, or nothing.

    1. Plan again (the database may have changed since the preview); any row error →
       ``RowErrors``; a plan other than the previewed one (``expected`` digest) →
       ``ImportProblem``.
    2. In one transaction: update the existing customers, register the new ones, post
       the opening balances, record the import in the audit trail.
    3. Anything refused on the way (a phone number registered meanwhile at the counter,
       a key posted by a concurrent import) rolls all of it back: ``ImportProblem``.
    """
    planned = plan(sheet, mapping, progress=progress)
    if planned.error_rows:
        raise RowErrors(planned)
    if expected is not None and expected != planned.digest:
        raise ImportProblem(
            _("The customers changed since the preview. Check the preview again, then import.")
        )
    try:
        with transaction.atomic():
            return _write(planned, actor, progress)
    except customers.CustomerError as error:
        raise ImportProblem(_("Nothing was imported: %(reason)s") % {"reason": error}) from error
    except (IntegrityError, LedgerError) as error:
        raise ImportProblem(
            _(
                "Nothing was imported: the same customers were changed elsewhere while "
                "importing. Please try again."
            )
        ) from error


def _write(planned: Plan, actor: ledger.Actor, progress: Progress | None) -> Result:
    by = actor.staff or actor.api_token
    note = f"import {planned.name}"[:255]
    updates = [row for row in planned.rows if row.action == Action.UPDATE]
    for row in updates:
        if row.changes and row.customer is not None:
            row.customer = customers.update(row.customer, _profile(row), by=by)
    creates = [row for row in planned.rows if row.action == Action.CREATE]
    news = _register_many(creates, actor, planned.rules, progress)
    _open_new_wallets([new for new in news if new.opening_minor], actor, planned.rules, note)
    for row in updates:
        if row.post_opening and row.customer is not None:
            _post_opening(row.customer, row.values.opening_minor, actor, planned.rules, note)
    result = Result(
        created=len(creates),
        updated=len(updates),
        skipped=planned.count(Action.SKIP),
        openings=len(planned.openings),
        opening_minor=planned.opening_minor,
    )
    after: dict[str, Any] = {"file": planned.name, **result.__dict__}
    audit.record("customers.imported", "customers", by=by, store=actor.store, after=after)
    return result


def _profile(row: Row) -> customers.Profile:
    """Only what changes: ``update`` leaves the fields given as None alone."""
    values, changes = row.values, set(row.changes)

    def given(name: Field, value: T) -> T | None:
        return value if name in changes else None

    return customers.Profile(
        name=given(Field.NAME, values.name),
        phone=given(Field.PHONE, values.phone),
        email=given(Field.EMAIL, values.email),
        address=given(Field.ADDRESS, values.address),
        birthday=given(Field.BIRTHDAY, values.birthday),
        notes=given(Field.NOTES, values.notes),
        tags=given(Field.TAGS, values.tags),
    )


# -- registering in bulk (plain SQL: see ``bulk``) -------------------------------------


@dataclass
class _New:
    """A customer being registered in bulk: what ``register`` would save."""

    code: str
    name: str
    phone: str
    email: str
    address: str
    birthday: dt.date | None
    notes: str
    search_name: str
    search_phone: str
    tags: list[str]
    opening_minor: int
    marketing_sms: bool = False
    marketing_email: bool = False
    credit_limit_minor: int = 0
    status: str = Customer.Status.ACTIVE
    pk: int = 0

    def snapshot(self) -> dict[str, Any]:
        """``customers.services.snapshot`` of the customer once saved."""
        values = {name: getattr(self, name) for name in customers.AUDITED}
        values["birthday"] = self.birthday.isoformat() if self.birthday else None
        return values


def _new(values: Values, region: str) -> _New:
    return _New(
        code=values.code,
        name=values.name,
        phone=values.phone,
        email=values.email,
        address=values.address,
        birthday=values.birthday,
        notes=values.notes,
        search_name=planning.folded_name(values.name),
        search_phone=searchable_digits(values.phone, region),
        tags=values.tags,
        opening_minor=values.opening_minor,
    )


def _fresh_codes(news: list[_New]) -> None:
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


def _register_many(
    rows: list[Row], actor: ledger.Actor, rules: Rules, progress: Progress | None
) -> list[_New]:
    """``register`` for many: customers, name keys, first cards, tags and audit entries.

    Belongs in ``customers.services`` (as ``register_many``) beside ``register``, sharing
    its checks; here until that module can take it.
    """
    news = [_new(row.values, rules.region) for row in rows]
    _fresh_codes(news)
    tags = _tags_named({tag for new in news for tag in new.tags})
    for start in range(0, len(news), WRITE_CHUNK):
        chunk = news[start : start + WRITE_CHUNK]
        bulk.insert(
            Customer, [_customer_row(new) for new in chunk], same={"home_store_id": actor.store.pk}
        )
        ids = bulk.ids(Customer, "code", (new.code for new in chunk))
        for new in chunk:
            new.pk = ids[new.code]
        bulk.insert(
            NameKey,
            [{"customer_id": n.pk, "key": key} for n in chunk for key in name_keys(n.search_name)],
        )
        bulk.insert(Card, [{"customer_id": new.pk, "token": new_token()} for new in chunk])
        bulk.insert(
            Customer.tags.through,
            [{"customer_id": n.pk, "tag_id": tags[name]} for n in chunk for name in n.tags],
        )
        bulk.insert(
            AuditEvent,
            [{"subject": f"customer:{new.code}", "after": new.snapshot()} for new in chunk],
            same={**_actor_ids(actor), "action": "customer.registered"},
        )
        if progress:
            progress("write", start + len(chunk), len(news))
    return news


def _customer_row(new: _New) -> dict[str, object]:
    return {
        "code": new.code,
        "name": new.name,
        "phone": new.phone,
        "email": new.email,
        "address": new.address,
        "birthday": new.birthday,
        "notes": new.notes,
        "search_name": new.search_name,
        "search_phone": new.search_phone,
    }


def _tags_named(names: set[str]) -> dict[str, int]:
    """Tag ids by name, creating the tags that do not exist yet."""
    existing = bulk.ids(Tag, "name", names)
    Tag.objects.bulk_create(Tag(name=name) for name in sorted(names - existing.keys()))
    return bulk.ids(Tag, "name", names)


def _actor_ids(actor: ledger.Actor) -> dict[str, object]:
    """Who and where, as every audit entry, batch and transfer records them."""
    return {
        "staff_id": actor.staff.pk if actor.staff else None,
        "api_token_id": actor.api_token.pk if actor.api_token else None,
        "store_id": actor.store.pk,
    }


def _open_new_wallets(news: list[_New], actor: ledger.Actor, rules: Rules, note: str) -> None:
    """Opening balances of customers registered in this transaction, in bulk, through the
    ledger's one writer (``ledger.services.open_wallets``)."""
    ledger.open_wallets(
        [
            ledger.Opening(
                customer_id=new.pk,
                amount=new.opening_minor,
                floor=-new.credit_limit_minor,
                key=opening_key(new.code),
                request=opening_request(new.code, new.opening_minor, rules.currency),
            )
            for new in news
        ],
        actor=actor,
        unit=rules.currency,
        note=note,
    )


def _post_opening(
    customer: Customer, amount: int, actor: ledger.Actor, rules: Rules, note: str
) -> None:
    """An existing customer's opening balance, through the ledger's one writer."""
    wallet = ledger.customer_account(customer, Account.Kind.WALLET, unit=rules.currency)
    opening = ledger.house_account(Account.Kind.OPENING, store=actor.store, unit=rules.currency)
    ledger.post(
        opening_key(customer.code),
        [ledger.Leg(opening, wallet, amount, Transfer.Code.OPENING)],
        code=Batch.Code.OPENING,
        actor=actor,
        customer=customer,
        note=note,
        request=opening_request(customer.code, amount, rules.currency),
    )
