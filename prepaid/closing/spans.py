"""Where a close counts (a store's day, or one counter's shift) and which span of time
it covers.

A close of day D covers D in the shop's time zone, from its start to its end, with two
adjustments that keep every moment in exactly one close of a place:

1. A close made before D has ended stops ``SETTLING`` before the moment it was made. A
   posting is dated when it starts and is seen when it commits; one still on its way
   when the close is made is dated within that minute, so it belongs to the next close,
   and the closed span never gains a transaction after its digest was taken.
2. When the close of the day before D stopped early (closed at 21:04, before
   midnight), D's close starts at that moment, so the evening's postings are not lost.

The open span of a place is what its next close would cover if it were made now: the
X-report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from prepaid.closing.models import DayClose
from prepaid.lib.numbers import whole_number
from prepaid.reports import days
from prepaid.reports.statements import Scope
from prepaid.staff.models import Device, Store

# How long a posting may take from its date (taken when it starts) to its commit: more
# than the longest a writer waits for SQLite's lock, and more than any real posting on
# PostgreSQL. A close stops this long before it is made.
SETTLING = timedelta(seconds=max(60, 2 * settings.SQLITE_BUSY_TIMEOUT_SECONDS))


@dataclass(frozen=True)
class Place:
    """A store's day (no ``device``) or one counter's shift."""

    store: Store
    device: Device | None = None

    @classmethod
    def of(cls, close: DayClose) -> Place:
        return cls(close.store, close.device)

    @property
    def scope(self) -> Scope:
        """Whose postings count: the counter's, or everything booked at the store."""
        if self.device is not None:
            return Scope(device=self.device.pk)
        return Scope(store=self.store.pk)

    @property
    def name(self) -> str:
        return self.device.name if self.device is not None else self.store.name

    @property
    def token(self) -> str:
        """How a form names the place: ``store:3`` or ``counter:7``."""
        if self.device is not None:
            return f"counter:{self.device.pk}"
        return f"store:{self.store.pk}"

    def closes(self) -> QuerySet[DayClose]:
        found = DayClose.objects.filter(store=self.store)
        if self.device is not None:
            return found.filter(device=self.device)
        return found.filter(device__isnull=True)


def place_of(token: str) -> Place | None:
    """The place a form names (``store:3``, ``counter:7``), or None."""
    kind, _, text = token.partition(":")
    number = whole_number(text)
    if number is None:
        return None
    if kind == "store":
        store = Store.objects.filter(pk=number).first()
        return Place(store) if store is not None else None
    if kind == "counter":
        device = Device.objects.select_related("store").filter(pk=number).first()
        return Place(device.store, device) if device is not None else None
    return None


@dataclass(frozen=True)
class Span:
    day: date
    starts_at: datetime
    ends_at: datetime

    @property
    def whole_day(self) -> bool:
        start, end = days.bounds(self.day)
        return self.starts_at == start and self.ends_at == end

    @property
    def started_early(self) -> bool:
        """It starts before its day: the day before was closed before midnight."""
        return self.starts_at < days.bounds(self.day)[0]

    @property
    def ended_early(self) -> bool:
        """It stops before its day ends: closed (or read) before midnight."""
        return self.ends_at < days.bounds(self.day)[1]


def span(place: Place, day: date, now: datetime | None = None) -> Span:
    """What a close of ``place`` for ``day`` covers, made at ``now`` (see the module
    docstring)."""
    now = now or timezone.now()
    start, end = _start(place, day), days.bounds(day)[1]
    return Span(day, start, max(start, min(end, now - SETTLING)))


def _start(place: Place, day: date) -> datetime:
    """Where a close of ``day`` starts: the day's start, or the moment the close of the
    day before stopped, when that was before."""
    start = days.bounds(day)[0]
    before = place.closes().filter(day=day - timedelta(days=1)).first()
    if before is not None and before.ends_at < start:
        return before.ends_at
    return start


def open_span(place: Place, now: datetime | None = None) -> Span:
    """What has not been closed yet today: the running figures of the X-report."""
    now = now or timezone.now()
    today = days.today(now)
    closed = place.closes().filter(day=today).first()
    start = closed.ends_at if closed is not None else _start(place, today)
    return Span(today, start, max(start, now))
