from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.operations"
    label = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The worker that delivers the outbox also summarises each finished day for the
        # reports (prepaid.reports.days): one process beside the server does both.
        from prepaid.operations import outbox
        from prepaid.reports import days

        outbox.register(
            outbox.Consumer(
                name="day summaries",
                take=lambda events, now: None,
                work=lambda now: days.summarise_finished(now, limit=31),
            )
        )
