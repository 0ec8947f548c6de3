"""The import of the old customer sheet, as an operation: the role table says who may
(``customers.import``), the importer writes the whole file in one transaction (new
customers and their opening balances in bulk, through ``ledger.services``), and in that
same transaction every customer it registered or changed gets its outbox event, as a
registration or an edit at the counter would.

Its exactly-once rule is the importer's own: each opening balance posts under the key
``opening:<code>``, so importing the same file again posts nothing twice.

Opening balances are money with no cash behind it. The shop's own old sheet is imported
on its first day (``first_day``); an import with opening balances on any later day is a
way to give a customer money, so the back office's import (``ImportSheet``) then waits
for a second person's approval (docs/security.md, "Four eyes"), the sheet kept with the
request until it is decided.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.customers.services import NewCustomer
from prepaid.ledger.services import Actor
from prepaid.lib import bulk, sealing
from prepaid.operations import present
from prepaid.operations.envelope import Context, Done, Gate, Operation
from prepaid.operations.models import Approval, Event, new_event_id
from prepaid.reports import days
from prepaid.sales import importing
from prepaid.sales import services as sales
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal
from prepaid.staff.roles import may


def commit(
    sheet: importing.Sheet,
    mapping: importing.Mapping,
    *,
    actor: Actor,
    expected: str | None = None,
    progress: importing.Progress | None = None,
) -> importing.Result:
    """Import the sheet (see ``sales.importing.commit``) with its events."""
    if not may(actor.role, "customers.import"):
        raise Refusal("permission_denied")
    return importing.commit(
        sheet, mapping, actor=actor, expected=expected, progress=progress, registered=_events
    )


def _events(news: list[tuple[NewCustomer, int]], changed: list[Customer]) -> None:
    """``customer.created`` for each new customer (its opening balance as its balance),
    ``customer.updated`` for each changed one; in bulk, like the customers themselves."""
    currency = Business.get().currency
    now = timezone.now()
    rows = [
        {
            "uid": new_event_id(),
            "type": "customer.created",
            "customer_id": new.pk,
            "data": _json(
                present.customer(
                    new,
                    sales.Balances(opening, 0, new.credit_limit_minor),
                    currency,
                    created_at=now,
                )
            ),
        }
        for new, opening in news
    ]
    rows += [
        {
            "uid": new_event_id(),
            "type": "customer.updated",
            "customer_id": person.pk,
            "data": _json(present.customer(person, sales.balances(person), currency)),
        }
        for person in changed
    ]
    bulk.insert(Event, rows, same={"created_at": now})


def _json(data: object) -> str:
    return sealing.seal_record(json.dumps(data, cls=DjangoJSONEncoder))


def first_day() -> dt.date:
    """The shop's first day: the calendar day, in its time zone, of its first
    transaction; until there is one, today. Opening balances imported on that day are
    posted at once; on any later day they wait for approval."""
    return days.first_day() or days.today()


@dataclass(frozen=True)
class ImportSheet(Operation):
    """Import the sheet (as ``Sheet.to_json`` wrote it) under the chosen columns
    (``mapping``: field, column), as previewed (``expected``: the preview's digest),
    with its opening balances at the actor's store."""

    action: ClassVar[str] = "customers.import"
    moves_money: ClassVar[bool] = False

    sheet: str
    mapping: tuple[tuple[str, int], ...]
    expected: str = ""

    def gate(self, context: Context) -> Gate | None:
        if days.today() <= first_day():
            return None
        planned = importing.plan(self._sheet(), self._mapping())
        if planned.opening_minor <= 0:
            return None
        return Gate(Approval.Kind.OPENING, planned.opening_minor, reason=planned.name)

    def perform(self, context: Context) -> Done:
        try:
            result = commit(
                self._sheet(), self._mapping(), actor=context.actor, expected=self.expected or None
            )
        except importing.ImportProblem as problem:
            raise Refusal("validation_error", detail=str(problem)) from problem
        return Done(dict(result.__dict__), status=200)

    def _sheet(self) -> importing.Sheet:
        return importing.Sheet.from_json(self.sheet)

    def _mapping(self) -> importing.Mapping:
        return {importing.Field(field): column for field, column in self.mapping}
