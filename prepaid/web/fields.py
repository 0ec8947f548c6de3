"""Form fields the counter and the back office share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from prepaid.lib.money import AmountTooLarge, MoneyError, to_minor, too_large
from prepaid.staff.models import Business


class MoneyField(forms.DecimalField):
    """An amount typed in the shop's money, cleaned to **minor units** (an ``int``; None
    when left empty): more decimals than the currency has, or more than the ceiling of
    every amount, is the field's error, never rounded."""

    def clean(self, value: Any) -> int | None:
        amount = super().clean(value)
        if amount is None:
            return None
        business = Business.get()
        try:
            return to_minor(amount, business.currency)
        except AmountTooLarge as error:
            raise ValidationError(too_large(business.currency, region=business.region)) from error
        except MoneyError as error:
            raise ValidationError(
                _("Enter an amount with at most the currency's decimals.")
            ) from error
