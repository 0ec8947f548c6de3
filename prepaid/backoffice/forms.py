from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from prepaid.staff.models import Business, Store


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


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas")
    )
    home_store = forms.ModelChoiceField(
        label=_("Home store"), queryset=Store.objects.filter(active=True), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    marketing_sms = forms.BooleanField(label=_("Agrees to marketing by SMS"), required=False)
    marketing_email = forms.BooleanField(label=_("Agrees to marketing by email"), required=False)
    credit_limit = forms.DecimalField(
        label=_("Credit limit"),
        min_value=0,
        decimal_places=3,
        initial=0,
        required=False,
        help_text=_("How far below zero the paid balance may go"),
    )

    def tag_list(self) -> list[str]:
        return [tag for tag in str(self.cleaned_data.get("tags") or "").split(",") if tag.strip()]


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[])
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        from prepaid.customers.models import Note

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["kind"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = Note.Kind.choices


class SettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    """What an owner may change after set-up. The currency is fixed: every amount in the
    ledger is in its minor unit."""

    class Meta:
        model = Business
        fields = ("name", "spend_order", "time_zone")
        widgets = {"spend_order": forms.RadioSelect}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        zones = sorted(zoneinfo.available_timezones())
        self.fields["time_zone"].widget = forms.Select(choices=[(zone, zone) for zone in zones])
