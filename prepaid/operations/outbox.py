"""The outbox: what leaves the process (webhooks; later e-mail and SMS), at least once.

Every operation writes its events (``models.Event``) in its own transaction
(``Context.emit``): nothing exists for an operation that rolled back. A worker — ``prepaid
webhooks``, which ``prepaid serve`` starts — then, over and over:

1. **dispatches** (``dispatch``): takes the undispatched events in id order and, in one
   transaction, hands them to every registered consumer's ``take`` and sets their
   ``dispatched_at``. ``take`` only writes the consumer's own rows (a webhook delivery
   per subscribed endpoint…), no input or output. A crash before the commit leaves the
   events undispatched, to be taken again; after it, the consumers' rows exist: nothing
   is lost, nothing is handed over twice. One dispatcher at a time (PostgreSQL: a
   transaction-scoped advisory lock; SQLite has one writer anyway), so consumers see
   each customer's events in id order, whatever the number of workers.
2. **works** (``Consumer.work``): each consumer sends what is due, outside any
   transaction, so a slow receiver holds no lock and never slows a sale.

A consumer registers once, from its app's ``ready()`` (``register``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from prepaid.operations.models import Event

logger = logging.getLogger("prepaid.outbox")

# The events operations emit, with what each means: what a webhook endpoint may subscribe
# to. A new kind of event is added here with the operation that emits it
# (tests/webhooks/test_outbox.py checks that every type emitted is listed).
EVENT_TYPES: dict[str, str | Promise] = {
    "customer.created": _("A customer was registered"),
    "customer.updated": _(
        "A customer's details, consent or credit limit changed, or the account was closed"
    ),
    "customer.erased": _(
        "A customer's personal data was erased on their request; forget it on your side too"
    ),
    "card.issued": _("A card was issued"),
    "card.replaced": _("A card was replaced; the customer's old cards were revoked"),
    "top_up.created": _("Money was paid in"),
    "sale.created": _("A sale was charged to a balance"),
    "refund.created": _("Paid money was handed back"),
    "reversal.created": _("A transaction was reversed"),
    "punch_card.sold": _("A customer bought a punch card"),
    "punch_card.redeemed": _("Uses of a pass or a punch card were redeemed"),
    "pass.sold": _("A customer bought a pass"),
    "points.redeemed": _("A customer's points became bonus money"),
    "day.closed": _("A day or a counter's shift was closed, or counted again"),
    "day.approved": _("A day close was approved"),
    "day.returned": _("A day close was sent back to be counted again"),
}

DISPATCH_BATCH = 500


@dataclass(frozen=True)
class Consumer:
    """What takes events out of the outbox.

    ``take(events, now)`` runs inside the dispatching transaction: it writes the
    consumer's own rows for those events and nothing else (no network, no files).
    ``work(now)`` runs outside any transaction: it sends what is due and answers how
    many things it handled (0: nothing was due).
    """

    name: str
    take: Callable[[Sequence[Event], datetime], None]
    work: Callable[[datetime | None], int]


_CONSUMERS: dict[str, Consumer] = {}


def register(consumer: Consumer) -> None:
    """Add ``consumer`` (again under the same name: replaced, for reloads and tests)."""
    _CONSUMERS[consumer.name] = consumer


def consumers() -> list[Consumer]:
    return list(_CONSUMERS.values())


def dispatch(*, now: datetime | None = None, limit: int = DISPATCH_BATCH) -> int:
    """Hand the oldest undispatched events (at most ``limit``) to every consumer, in one
    transaction; answers how many. See the module docstring."""
    # A cheap read first, outside any transaction: on SQLite a write transaction takes
    # the database's one write lock, which an idle worker polling every second should not.
    if not Event.objects.filter(dispatched_at__isnull=True).exists():
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        if not _only_dispatcher():
            return 0  # another worker is dispatching right now
        events = list(Event.objects.filter(dispatched_at__isnull=True).order_by("id")[:limit])
        for consumer in _CONSUMERS.values():
            consumer.take(events, now)
        Event.objects.filter(pk__in=[event.pk for event in events]).update(dispatched_at=now)
    return len(events)


def _only_dispatcher() -> bool:
    """Whether this transaction is the only one dispatching (PostgreSQL). Two dispatchers
    taking alternate batches could commit a customer's later event before the earlier
    one, and a webhook could leave before the event it follows."""
    if connection.vendor != "postgresql":
        return True  # SQLite: this IMMEDIATE transaction is the only writer
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", ["outbox"])
        (locked,) = cursor.fetchone()
    return bool(locked)


def work_once(*, now: datetime | None = None) -> int:
    """Dispatch every waiting event, then let each consumer send what is due: one round
    of the worker. Answers how many things were handled (0: nothing to do)."""
    handled = 0
    while dispatched := dispatch(now=now):
        handled += dispatched
    for consumer in _CONSUMERS.values():
        handled += consumer.work(now)
    return handled


def run(stop: threading.Event, *, poll_seconds: float, alive: Callable[[], bool]) -> None:
    """The worker's loop: a round (``work_once``), then, when it found nothing to do, a
    pause of ``poll_seconds``, until ``stop`` is set or ``alive()`` says no. A database
    that goes away (a PostgreSQL restart, a busy SQLite) or a bug costs one round, not
    the worker."""
    while not stop.is_set() and alive():
        handled = 0
        try:
            close_old_connections()
            handled = work_once()
        except DatabaseError:
            logger.warning("outbox: the database failed this round; trying again", exc_info=True)
            connection.close()
        except Exception:
            logger.exception("outbox: a round failed; trying again")
        if not handled:
            stop.wait(poll_seconds)
