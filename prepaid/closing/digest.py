"""The digest of a closed span's transactions, and ``prepaid verify``'s check of it.

The digest is SHA-256 (hex) of the UTF-8 text of one JSON array, written without spaces
(``separators=(",", ":")``): the batches of the place booked in the span
(``starts_at`` ≤ ``created_at`` < ``ends_at``; a store's: every batch at the store; a
counter's: every batch made at that counter), in id order, each as

    [id, key, code, created_at, reverses, customer, transfers]

with ``created_at`` in UTC as ISO 8601 with microseconds
(``"2026-03-01T02:15:00.123456+00:00"``), ``reverses`` and ``customer`` as ids or
``null``, and ``transfers`` the batch's transfers in id order, each as

    [id, debit_account, credit_account, amount, code]

An empty span is the digest of ``[]``. A batch or transfer changed, removed, added or
moved in time after the close gives another digest: ``verify`` recomputes the digest of
every close and reports each one that differs.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from prepaid.closing.models import DayClose
from prepaid.closing.spans import Place
from prepaid.ledger.models import Batch, Transfer
from prepaid.ledger.verify import Violation


def digest(place: Place, starts_at: datetime, ends_at: datetime) -> tuple[str, int]:
    """The digest of the place's batches in the span, and how many there are."""
    where = place.scope.filters()  # the counter's batches, or the store's
    span = {"created_at__gte": starts_at, "created_at__lt": ends_at}
    batches = (
        Batch.objects.filter(**where, **span)
        .order_by("id")
        .values_list("id", "key", "code", "created_at", "reverses_id", "customer_id")
    )
    transfers: dict[int, list[list[Any]]] = defaultdict(list)
    rows = (
        Transfer.objects.filter(**{f"batch__{name}": value for name, value in where.items()})
        .filter(**{f"batch__{name}": value for name, value in span.items()})
        .order_by("id")
        .values_list("batch_id", "id", "debit_account_id", "credit_account_id", "amount", "code")
    )
    for batch_id, *transfer in rows:
        transfers[batch_id].append(transfer)
    document = [
        [pk, key, code, _moment(created_at), reverses, customer, transfers[pk]]
        for pk, key, code, created_at, reverses, customer in batches
    ]
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), len(document)


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def closed_days() -> list[Violation]:
    """Every close's transactions still have the digest it was closed with."""
    problems = []
    for close in DayClose.objects.select_related("store", "device").order_by("id"):
        found, count = digest(Place.of(close), close.starts_at, close.ends_at)
        if found != close.digest:
            where = close.device.name if close.device else close.store.name
            problems.append(
                Violation(
                    "close",
                    f"Z{close.number} of {where} ({close.day}): its {close.transaction_count}"
                    f" transactions had the digest {close.digest}; the {count} found now"
                    f" have {found}",
                )
            )
    return problems
