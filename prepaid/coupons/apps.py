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

        from prepaid.coupons import services
        from prepaid.sales.services import AFTER_REVERSAL, BEFORE_REVERSAL

        if services.refuse_used_gift not in BEFORE_REVERSAL:
            BEFORE_REVERSAL.append(services.refuse_used_gift)
        if services.withdraw_gifts not in AFTER_REVERSAL:
            AFTER_REVERSAL.append(services.withdraw_gifts)

        from prepaid.catalog.tiers import ON_UPGRADE

        if services.welcome not in ON_UPGRADE:
            ON_UPGRADE.append(services.welcome)
