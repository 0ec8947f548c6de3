from __future__ import annotations

from datetime import date, datetime

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.operations"
    label = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The worker that delivers the outbox also keeps the reports' summaries: one
        # process beside the server does both.
        from prepaid.operations import outbox

        outbox.register(
            outbox.Consumer(
                name="day summaries", take=lambda events, now: None, work=reports_chores
            )
        )
        outbox.register(
            outbox.Consumer(name="expiry", take=lambda events, now: None, work=expiry_chore)
        )
        # A key rotation moves the sealed answers and events too.
        from prepaid.lib import sealing
        from prepaid.operations.privacy import reseal_records

        if reseal_records not in sealing.RESEALERS:
            sealing.RESEALERS.append(reseal_records)


def reports_chores(now: datetime | None) -> int:
    """The reports' round of the worker: summarise each finished day (prepaid.reports.
    days), keep today's interim a few minutes behind the clock, store the aging and the
    burn-down once a day (reports.balances). Answers how many days it summarised: the
    interim and the daily aging are upkeep, not work that calls for another round."""
    from prepaid.reports import balances, days

    summarised = days.summarise_finished(now, limit=31)
    days.keep_interim(now)
    balances.keep_outlook(now)
    return summarised


EXPIRY_EVERY = 600.0  # seconds between the worker's looks for punch cards that have ended
_last_expiry: list[float] = []  # when this process last looked (monotonic clock)
_last_review: list[date] = []  # the day this process last reviewed the tiers


def expiry_chore(now: datetime | None) -> int:
    """Every ten minutes (the worker goes round every second; the cards that ended long
    ago stay in the look-up): post the punch cards and passes that have ended and the
    bonus (and paid money) that has expired, as ``prepaid expire`` does. A round given
    its own ``now`` (tests, a catch-up) always looks. Upkeep like the reports' interim:
    answers 0, so the worker does not go round again for it."""
    import time

    from django.utils import timezone

    from prepaid.catalog import tiers
    from prepaid.operations.programs import earn_due, expire_balances, expire_due

    if now is None and _last_expiry and time.monotonic() - _last_expiry[0] < EXPIRY_EVERY:
        return 0
    _last_expiry[:] = [time.monotonic()]
    expire_due(now)
    earn_due(now)
    expire_balances(now)
    day = (now or timezone.now()).date()
    if now is not None or _last_review[:1] != [day]:
        _last_review[:] = [day]
        tiers.review(now)  # once a day: every member's figure added up again
    return 0
