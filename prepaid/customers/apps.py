from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.customers"
    label = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from prepaid.customers import services
        from prepaid.lib import sealing

        if services.reseal_blanks not in sealing.RESEALERS:  # a key rotation moves them
            sealing.RESEALERS.append(services.reseal_blanks)
