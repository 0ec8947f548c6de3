from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.programs"
    label = "programs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from prepaid.ledger.verify import register
        from prepaid.programs.verify import deferred_money

        register(deferred_money)
