from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.programs"
    label = "programs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from prepaid.ledger.verify import register
        from prepaid.programs import services
        from prepaid.programs.verify import deferred_money
        from prepaid.sales.services import AFTER_REVERSAL, BEFORE_REVERSAL

        register(deferred_money)
        if services.refuse_used_pass not in BEFORE_REVERSAL:
            BEFORE_REVERSAL.append(services.refuse_used_pass)
        if services.give_back_recognised not in AFTER_REVERSAL:
            AFTER_REVERSAL.append(services.give_back_recognised)
