from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _


class SetupForm(forms.Form):
    business = forms.CharField(label=_("Business name"), max_length=120)
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        min_length=3,
        help_text=_("ISO 4217 code, e.g. PHP, USD, EUR, CNY"),
    )
    region = forms.CharField(
        label=_("Country"),
        max_length=2,
        min_length=2,
        help_text=_("Two letters, e.g. PH, NL, CN; used for phone numbers"),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"))
    store = forms.CharField(label=_("First store"), max_length=120)
    owner = forms.CharField(label=_("Owner user name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=8)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        zones = sorted(zoneinfo.available_timezones())
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(zone, zone) for zone in zones]

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).strip().upper()

    def clean_region(self) -> str:
        return str(self.cleaned_data["region"]).strip().upper()
