from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.closing"
    label = "closing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # ``prepaid verify`` recomputes the digest of every closed day.
        from prepaid.closing.digest import closed_days
        from prepaid.ledger.verify import register

        register(closed_days)
