"""Days in the shop's time zone, and their summaries.

A day is the shop's calendar day (``Business.time_zone``), not UTC's: a Manila shop's
1 March runs from 28 February 16:00 UTC to 1 March 16:00 UTC. ``summarise`` writes a
finished day's ``FlowDay`` and ``LiabilityDay`` rows once, in one transaction, and
``summarise_finished`` brings the summaries up to the last finished day, oldest first.
``keep_interim`` keeps today's ``Interim`` a few minutes behind the clock. The worker
beside the server calls both (see ``operations/apps.py``); nothing in the posting path
does.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from prepaid.ledger.models import Batch
from prepaid.reports.flows import Flows, Measure, Owed, flows, liability_change
from prepaid.reports.models import FlowDay, Interim, InterimFlow, LiabilityDay
from prepaid.staff.models import Business

R = TypeVar("R", FlowDay, InterimFlow)

# A day is summarised this long after it ends: a posting made just before midnight may
# commit a moment after it.
SETTLE = timedelta(minutes=5)
# Today's interim is brought forward when it is this far behind ``now - SETTLE``.
INTERIM_EVERY = timedelta(minutes=5)
EPOCH = datetime(2000, 1, 1, tzinfo=zoneinfo.ZoneInfo("UTC"))


def zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(Business.get().time_zone)


def bounds(day: date, tz: zoneinfo.ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The day's start and end (excluded), as aware datetimes in the shop's zone (``tz``:
    that zone, read once by a caller that asks for many days)."""
    tz = tz or zone()
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    following = day + timedelta(days=1)
    return start, datetime(following.year, following.month, following.day, tzinfo=tz)


def today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(zone()).date()


def is_finished(day: date, now: datetime | None = None) -> bool:
    """Whether ``day`` ended long enough ago to be summarised for good."""
    return bounds(day)[1] + SETTLE <= (now or timezone.now())


def first_day() -> date | None:
    """The day of the first posting, if any."""
    first = Batch.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return None if first is None else first.astimezone(zone()).date()


def summarised(day: date) -> LiabilityDay | None:
    return LiabilityDay.objects.filter(day=day).first()


def latest_summary(before: date) -> LiabilityDay | None:
    """The last summarised day before ``before``."""
    return LiabilityDay.objects.filter(day__lt=before).order_by("-day").first()


@transaction.atomic
def summarise(day: date) -> LiabilityDay:
    """Summarise ``day`` (finished; the day before it summarised, or none before it):
    what moved, and what was owed at its end."""
    if (known := summarised(day)) is not None:
        return known
    start, end = bounds(day)
    Interim.objects.filter(day__lte=day).delete()  # the summary replaces it
    previous = summarised(day - timedelta(days=1))
    base = owed_of(previous) if previous is not None else owed_before(start)
    owed = base + liability_change(start, end)
    FlowDay.objects.bulk_create(_rows(FlowDay, flows(start, end), day=day))
    return LiabilityDay.objects.create(
        day=day, paid=owed.paid, bonus=owed.bonus, credit=owed.credit, holders=owed.holders
    )


def summarise_finished(now: datetime | None = None, *, limit: int = 400) -> int:
    """Summarise every finished day not summarised yet, oldest first (at most ``limit``
    in one call: a long history is caught up over several rounds of the worker).
    Answers how many days it summarised."""
    first = first_day()
    if first is None:
        return 0
    last_done = LiabilityDay.objects.order_by("-day").values_list("day", flat=True).first()
    day = first if last_done is None else max(first, last_done + timedelta(days=1))
    done = 0
    while done < limit and is_finished(day, now):
        summarise(day)
        day += timedelta(days=1)
        done += 1
    return done


def owed_of(row: LiabilityDay | Interim) -> Owed:
    return Owed(row.paid, row.bonus, row.credit, row.holders)


def owed_before(moment: datetime) -> Owed:
    """What was owed just before ``moment``: the last summary before it, plus what moved
    since (everything, when nothing is summarised yet)."""
    day = moment.astimezone(zone()).date()
    kept = interim(day)
    if kept is not None and kept.until <= moment:
        return owed_of(kept) + liability_change(kept.until, moment)
    # The moment falls inside ``day``, which ends after it: only a summary of an earlier
    # day can be the base. (Asking for one before ``day + 1`` found ``day`` itself once it
    # was summarised, and then every statement summed the whole ledger from EPOCH.)
    previous = latest_summary(before=day)
    if previous is not None and bounds(previous.day)[1] <= moment:
        return owed_of(previous) + liability_change(bounds(previous.day)[1], moment)
    return Owed() + liability_change(EPOCH, moment)


def owed_at_end(day: date, now: datetime | None = None) -> Owed:
    """What was owed at the end of ``day`` (or now, for today)."""
    if (row := summarised(day)) is not None:
        return owed_of(row)
    end = min(bounds(day)[1], now or timezone.now())
    return owed_before(end)


# -- today so far ----------------------------------------------------------------------


def interim(day: date) -> Interim | None:
    return Interim.objects.filter(day=day).first()


def keep_interim(now: datetime | None = None) -> int:
    """Bring today's interim up to ``now - SETTLE`` when it is ``INTERIM_EVERY`` behind
    that (from the last interim, or from the day's start), and drop older days' ones.
    Answers 1 when it wrote one, else 0."""
    now = now or timezone.now()
    day = today(now)
    start = bounds(day)[0]
    until = now - SETTLE
    kept = interim(day)
    if until <= start or (kept is not None and until - kept.until < INTERIM_EVERY):
        return 0
    if (
        kept is None
        and summarised(day - timedelta(days=1)) is None
        and Batch.objects.filter(created_at__lt=start).exists()
    ):
        return 0  # the summaries are catching up; the interim starts from yesterday's
    with transaction.atomic():
        if kept is not None:
            owed, moved = owed_of(kept), interim_flows(kept)
            begin = kept.until
        else:
            owed, moved = owed_before(start), {}
            begin = start
        owed = owed + liability_change(begin, until)
        for key, measure in flows(begin, until).items():
            moved.setdefault(key, Measure()).add(measure)
        Interim.objects.filter(day__lte=day).delete()
        fresh = Interim.objects.create(
            day=day,
            until=until,
            paid=owed.paid,
            bonus=owed.bonus,
            credit=owed.credit,
            holders=owed.holders,
        )
        InterimFlow.objects.bulk_create(_rows(InterimFlow, moved, interim=fresh))
    return 1


def _rows(model: type[R], moved: Flows, **fixed: Any) -> list[R]:
    """``moved`` as rows of ``model`` (``FlowDay``, ``InterimFlow``), with ``fixed``."""
    return [
        model(
            **fixed,
            store_id=who[0],
            device_id=who[1],
            staff_id=who[2],
            api_token_id=who[3],
            kind=kind,
            key=key,
            count=measure.count,
            amount=measure.amount,
            bonus=measure.bonus,
            quantity=measure.quantity,
        )
        for (who, kind, key), measure in moved.items()
    ]


def interim_flows(kept: Interim) -> Flows:
    """The interim's rows, as ``flows`` answers them."""
    found: Flows = {}
    for row in kept.flows.all():
        who = (row.store_id, row.device_id, row.staff_id, row.api_token_id)
        found[(who, row.kind, row.key)] = Measure(row.count, row.amount, row.bonus, row.quantity)
    return found
