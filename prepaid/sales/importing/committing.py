"""Committing a plan: the whole file in one transaction, or nothing.

New customers — nearly every row of a first import — are written in bulk by
``customers.services.register_many`` and ``ledger.services.open_many`` (through
``_open_new_accounts``), which keep what ``customers.services.register`` and
``ledger.services.post`` keep (search columns, name keys, a first card, the audit entry;
one batch and transfer per customer, cached totals equal to them). Existing customers go
one by one through ``customers.services.update`` and ``ledger.services.post``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.sales.importing.cleaning import Rules, Values
from prepaid.sales.importing.mapping import Field, Mapping
from prepaid.sales.importing.planning import Action, Plan, Row, opening_key, opening_request, plan
from prepaid.sales.importing.problems import ImportProblem
from prepaid.sales.importing.reading import Progress, Sheet
from prepaid.staff import audit
from prepaid.staff.refusals import Refusal

T = TypeVar("T")


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


# Hears (new customer, opening balance) for each registered customer, and the changed ones.
Registered = Callable[[list[tuple[customers.NewCustomer, int]], list[Customer]], None]


def commit(
    sheet: Sheet,
    mapping: Mapping,
    *,
    actor: ledger.Actor,
    expected: str | None = None,
    progress: Progress | None = None,
    registered: Registered | None = None,
) -> Result:
    """Import the sheet: all rows in one transaction, or nothing.

    1. Plan again (the database may have changed since the preview); any row error →
       ``RowErrors``; a plan other than the previewed one (``expected`` digest) →
       ``ImportProblem``.
    2. In one transaction: update the existing customers, register the new ones, post
       the opening balances, record the import in the audit trail; ``registered`` hears
       which customers were registered and which changed, in the same transaction (the
       operation envelope writes their outbox events).
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
            return _write(planned, actor, progress, registered)
    except Refusal as error:
        raise ImportProblem(_("Nothing was imported: %(reason)s") % {"reason": error}) from error
    except IntegrityError as error:
        raise ImportProblem(
            _(
                "Nothing was imported: the same customers were changed elsewhere while "
                "importing. Please try again."
            )
        ) from error


def _write(
    planned: Plan, actor: ledger.Actor, progress: Progress | None, registered: Registered | None
) -> Result:
    by = actor.staff or actor.api_token
    note = f"import {planned.name}"[:255]
    updates = [row for row in planned.rows if row.action == Action.UPDATE]
    for row in updates:
        if row.changes and row.customer is not None:
            row.customer = customers.update(row.customer, _profile(row), by=by)
    creates = [row for row in planned.rows if row.action == Action.CREATE]
    news = [_new(row.values, planned.rules.region) for row in creates]
    written = functools.partial(progress, "write") if progress else None
    customers.register_many(news, by=by, store=actor.store, progress=written)
    openings = [(new, row.values.opening_minor) for new, row in zip(news, creates, strict=True)]
    _open_new_accounts(openings, actor, planned.rules, note)
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
    if registered is not None:
        changed = [row.customer for row in updates if row.changes and row.customer is not None]
        registered(openings, changed)
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


def _new(values: Values, region: str) -> customers.NewCustomer:
    return customers.NewCustomer(
        code=values.code,
        name=values.name,
        phone=values.phone,
        email=values.email,
        address=values.address,
        birthday=values.birthday,
        notes=values.notes,
        tags=values.tags,
    )


def _open_new_accounts(
    openings: list[tuple[customers.NewCustomer, int]], actor: ledger.Actor, rules: Rules, note: str
) -> None:
    """The accounts of the customers registered in this transaction, wallets with their
    opening balance (customer, amount; 0 for none), in bulk, through the ledger's one
    writer (``ledger.services.open_many``)."""
    ledger.open_many(
        [
            ledger.Opening(
                customer_id=new.pk,
                floor=-new.credit_limit_minor,
                amount=amount,
                key=opening_key(new.code) if amount else "",
                request=opening_request(new.code, amount, rules.currency) if amount else None,
            )
            for new, amount in openings
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
