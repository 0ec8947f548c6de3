from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.sales"
    label = "sales"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from prepaid.ledger.verify import register
        from prepaid.sales.verify import audit_chain, data_keys, sale_lines

        register(sale_lines)
        register(audit_chain)
        register(data_keys)
