from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The webhooks take their share of every event the outbox dispatches.
        from prepaid.operations import outbox
        from prepaid.webhooks import worker

        outbox.register(worker.CONSUMER)
