from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.coupons"
    label = "coupons"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from prepaid.coupons.verify import coupon_discounts, coupon_uses
        from prepaid.ledger.verify import register

        register(coupon_uses)
        register(coupon_discounts)
