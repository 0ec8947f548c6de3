"""A person's rights over their data: a copy of everything kept about them (``export``),
and erasure (``EraseCustomer``). The API and the back office both answer from here
(docs/privacy.md).

Erasure destroys the customer's data key (``customers.services.erase_profile``): what
was sealed with it can no longer be opened. A backup made before still holds the key
(sealed by the shop's): ``prepaid restore`` erases again (``erase_again``). What is
sealed under the shop's key instead is cleared here: the outbox events about the
customer and the answers kept under idempotency keys, which carry the customer's details
as the API gave them. On SQLite, deleted content is overwritten (``secure_delete``), the
write-ahead log is emptied and the name's full-text index is rewritten, so nothing
lingers in the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import connection, transaction
from django.utils import timezone

from prepaid.customers.models import Customer, KioskPin
from prepaid.customers.services import erase_profile, revealed
from prepaid.lib import sealing
from prepaid.operations import present
from prepaid.operations.envelope import Context, Done, Operation
from prepaid.operations.models import Event, Outcome
from prepaid.operations.money import find_customer
from prepaid.sales import services as sales
from prepaid.staff import audit
from prepaid.staff.models import AuditEvent, Business

ERASED_EVENT = "customer.erased"
PAGE = 500  # transactions read at a time for an export

# The apps above this one that keep a person's data register here (from their ready()):
# an erasure calls every scrubber with the person, in its transaction; an export adds
# each exporter's answer under its name (the messages sent: prepaid.messaging.log).
SCRUBBERS: list[Callable[[Customer], None]] = []
EXPORTERS: dict[str, Callable[[Customer], list[dict[str, Any]]]] = {}


@dataclass(frozen=True)
class EraseCustomer(Operation):
    """Erase a customer's personal data, with a reason (owner only): refused while the
    balance is not zero."""

    action: ClassVar[str] = "customers.erase"
    moves_money: ClassVar[bool] = False

    customer: str
    reason: str

    def perform(self, context: Context) -> Done:
        person = find_customer(self.customer)
        sales.erase(person, self.reason, by=context.actor.by)
        _scrub(person)
        data = {"code": person.code, "erased": True, "erased_at": person.erased_at}
        context.emit(ERASED_EVENT, data, customer=person)
        transaction.on_commit(_leave_no_trace)
        return Done(data, status=200)


def _scrub(person: Customer) -> None:
    """The copies sealed under the shop's key rather than the person's: the customer's
    events (their data is the API's answer, contact details and all) and the answers
    kept for replaying a key."""
    blank = sealing.seal_record(json.dumps({"code": person.code, "erased": True}))
    Event.objects.filter(customer=person).update(data=blank)
    Outcome.objects.filter(customer=person).update(body=blank)
    for scrubber in SCRUBBERS:
        scrubber(person)


def erased() -> list[str]:
    """The codes of the customers erased so far (read before a restore replaces them)."""
    return list(Customer.objects.filter(erased_at__isnull=False).values_list("code", flat=True))


def erase_again(codes: list[str]) -> int:
    """After a restore: erase again whoever had been erased in the database the backup
    replaced. A backup made before an erasure still holds the person's data
    key (sealed by the shop's key, which has not changed): so the restore puts them
    beyond use again, the ledger left as the backup has it. Answers how many."""
    again = 0
    for person in Customer.objects.filter(code__in=codes, erased_at__isnull=True):
        with transaction.atomic():
            erase_profile(person, by=None)
            audit.record(
                "customer.erased",
                f"customer:{person.code}",
                by=None,
                after={"reason": "erased again after a restore"},
            )
            _scrub(person)
        again += 1
    if again:
        _leave_no_trace()
    return again


def reseal_records(current: str) -> int:
    """Move the sealed answers and events to the shop's ``current`` key (a rotation,
    ``customers.keys``); answers how many moved."""
    moved = 0
    for model, column in ((Outcome, "body"), (Event, "data")):
        behind = model.objects.filter(**{f"{column}__startswith": sealing.RECORD}).exclude(
            **{f"{column}__startswith": f"{sealing.RECORD}{current}."}
        )
        while chunk := list(behind.order_by("pk")[:PAGE]):
            for row in chunk:
                text = sealing.open_record(getattr(row, column))
                setattr(row, column, sealing.seal_record(text))
            model.objects.bulk_update(chunk, [column])  # type: ignore[arg-type]
            moved += len(chunk)
    return moved


def _leave_no_trace() -> None:
    """SQLite: rewrite the name's full-text index without the erased name, and empty the
    write-ahead log, whose older frames still hold the pages as they were."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO customers_search(customers_search) VALUES ('optimize')")
    for _attempt in range(20):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cursor.fetchone()[0]
        if not busy:
            return


def export(person: Customer) -> dict[str, Any]:
    """Everything kept about ``person``, for an access request: the profile with its
    consents, cards, notes, tags, programs and every transaction, with the changes the
    audit trail records about them."""
    currency = Business.get().currency
    profile = present.customer(person, sales.balances(person), currency)
    profile.update(
        {
            "birthday": person.birthday,
            "tags": sorted(tag.name for tag in person.tags.all()),
            "home_store": person.home_store.name if person.home_store else None,
            "erased_at": person.erased_at,
        }
    )
    consents = {
        channel: {
            "given": getattr(person, f"marketing_{channel}"),
            "changed_at": getattr(person, f"marketing_{channel}_changed_at"),
        }
        for channel in ("sms", "email")
    }
    return {
        "exported_at": timezone.now(),
        "customer": profile,
        "consents": consents,
        "kiosk_pin": _kiosk_pin(person),
        "cards": [
            {"card": card.hint, "created_at": card.created_at, "revoked_at": card.revoked_at}
            for card in person.cards.order_by("created_at")
        ],
        "notes": [
            {
                "kind": note.kind,
                "text": note.text,
                "author": note.author.name if note.author else None,
                "created_at": note.created_at,
            }
            for note in person.timeline.select_related("customer", "author")
        ],
        "transactions": _transactions(person, currency),
        "changes": _changes(person),
        **{name: exporter(person) for name, exporter in EXPORTERS.items()},
    }


def _kiosk_pin(person: Customer) -> dict[str, Any]:
    """Whether the customer has a kiosk PIN (never the PIN nor its hash)."""
    held = KioskPin.objects.filter(customer=person).first()
    if held is None:
        return {"set": False}
    return {"set": True, "set_at": held.set_at, "locked": held.locked_at is not None}


def _transactions(person: Customer, currency: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    batches = present.batches().filter(customer=person).order_by("id")
    last = 0
    while page := list(batches.filter(pk__gt=last)[:PAGE]):
        found += [present.transaction(batch, currency) for batch in page]
        last = page[-1].pk
    return found


def _changes(person: Customer) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(subject=f"customer:{person.code}").select_related("staff")
    return [
        {
            "action": event.action,
            "at": event.created_at,
            "by": event.staff.name if event.staff else None,
            "before": revealed(person, event.before),
            "after": revealed(person, event.after),
        }
        for event in events.order_by("id")
    ]
