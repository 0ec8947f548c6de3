"""The import of the old customer sheet, as an operation: the role table says who may
(``customers.import``), the importer writes the whole file in one transaction (new
customers and their opening balances in bulk, through ``ledger.services``), and in that
same transaction every customer it registered or changed gets its outbox event, as a
registration or an edit at the counter would.

Its exactly-once rule is the importer's own: each opening balance posts under the key
``opening:<code>``, so importing the same file again posts nothing twice.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.customers.services import NewCustomer
from prepaid.ledger.services import Actor
from prepaid.lib import bulk, sealing
from prepaid.operations import present
from prepaid.operations.models import Event, new_event_id
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
