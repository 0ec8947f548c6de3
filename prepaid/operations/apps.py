from __future__ import annotations

from datetime import datetime

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
