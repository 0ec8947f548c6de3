from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from prepaid.lib.money import from_minor
from prepaid.staff.models import Business, Device, ExpiryRules, Staff, Store
from prepaid.web.fields import MoneyField


class SetupForm(forms.Form):
    setup_code = forms.CharField(
        label=_("Set-up code"),
        max_length=40,
        help_text=_(
            "Printed by “prepaid serve” where it was started, and kept in the file"
            " setup-code in the data folder. It shows that you run this machine."
        ),
    )
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
    credit_limit = MoneyField(
        label=_("Credit limit"),
        min_value=0,
        initial=0,
        required=False,
        help_text=_("How far below zero the paid balance may go"),
    )
    language = forms.ChoiceField(
        label=_("Language of messages"),
        choices=[("", _("The shop's language")), *settings.LANGUAGES],
        required=False,
    )
    email_receipts = forms.TypedChoiceField(
        label=_("Receipts and balance notices by email"),
        choices=[("1", _("Yes")), ("0", _("No"))],
        coerce=lambda value: value == "1",
        empty_value=None,
        required=False,
        initial="1",
        widget=forms.RadioSelect,
        help_text=_("Sent when the customer has an email address"),
    )
    low_balance = MoneyField(
        label=_("Low-balance notice below"),
        min_value=0,
        required=False,
        help_text=_("Empty: the shop's setting; 0: no notices for this customer"),
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
        field.choices = [c for c in Note.Kind.choices if c[0] != Note.Kind.TIER]  # the shop's


class SettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    """What an owner may change after set-up. The currency is fixed: every amount in the
    ledger is in its minor unit."""

    MONEY = (
        "top_up_minimum",
        "top_up_maximum",
        "first_top_up_bonus",
        "points_every",
        "point_value",
        "approval_above",
        "low_balance",
    )

    top_up_minimum = MoneyField(
        label=_("Smallest top-up"), min_value=0, required=False, help_text=_("Empty: no minimum")
    )
    top_up_maximum = MoneyField(
        label=_("Largest top-up"), min_value=0, required=False, help_text=_("Empty: no maximum")
    )
    first_top_up_bonus = MoneyField(
        label=_("First top-up bonus"),
        min_value=0,
        required=False,
        help_text=_("Added to a new customer's first top-up; 0 for none"),
    )

    points_every = MoneyField(
        label=_("A point for every"),
        min_value=Decimal("0.01"),
        required=False,
        help_text=_("Paid money spent (bonus never earns points). Empty: no points"),
    )
    point_value = MoneyField(
        label=_("A point is worth"),
        min_value=0,
        required=False,
        help_text=_("Bonus money a point gives when redeemed; 0: points are not redeemed"),
    )

    low_balance = MoneyField(
        label=_("Low-balance notice below"),
        min_value=0,
        required=False,
        help_text=_(
            "A customer whose balance falls below this after a sale gets a notice by email"
            " (and by SMS, if they agreed to SMS). Empty: no notices"
        ),
    )

    approval_above = MoneyField(
        label=_("Approve refunds and reversals above"),
        min_value=0,
        required=False,
        help_text=_(
            "A manager's or cashier's refund or reversal of more than this waits for the"
            " owner or another manager to approve it. Empty: none waits"
        ),
    )

    class Meta:
        model = Business
        fields = (
            "name",
            "spend_order",
            "time_zone",
            "counter_idle_minutes",
            "bonus_expiry_days",
            "expiry_rules",
            "paid_expiry_days",
            "points_expiry_days",
            "punch_card_refunds",
            "tier_basis",
            "tier_window",
            "approval_credit_raises",
            "approval_bonus_percent",
            "privacy_notice",
            "language",
            "reminder_days",
        )
        widgets = {
            "privacy_notice": forms.Textarea(attrs={"rows": 4}),
            "spend_order": forms.RadioSelect,
            "expiry_rules": forms.RadioSelect,
            "tier_basis": forms.RadioSelect,
            "tier_window": forms.RadioSelect,
        }
        help_texts = {
            "spend_order": _(
                "Which balance a sale uses first. Proportional is the usual choice for shops"
                " that give bonuses: a refund of the paid balance then cannot keep bonus that"
                " was given for it."
            )
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        zones = sorted(zoneinfo.available_timezones())
        self.fields["time_zone"].widget = forms.Select(choices=[(zone, zone) for zone in zones])
        for name in ("expiry_rules", "tier_basis", "tier_window", "language"):
            self.fields[name].required = False
        business = self.instance
        for name in self.MONEY:
            minor = getattr(business, f"{name}_minor", None)
            if minor is not None and business.currency:
                self.initial[name] = from_minor(minor, business.currency)

    # The page in parts an owner looks for; every field is in one (a test holds to it).
    SECTIONS = (
        (_("About the shop"), ("name", "time_zone", "privacy_notice")),
        (
            _("The counter and top-ups"),
            (
                "counter_idle_minutes",
                "spend_order",
                "top_up_minimum",
                "top_up_maximum",
                "first_top_up_bonus",
            ),
        ),
        (
            _("What expires"),
            (
                "bonus_expiry_days",
                "expiry_rules",
                "paid_expiry_days",
                "points_expiry_days",
                "punch_card_refunds",
            ),
        ),
        (_("Tiers and points"), ("tier_basis", "tier_window", "points_every", "point_value")),
        (
            _("Four eyes"),
            ("approval_above", "approval_credit_raises", "approval_bonus_percent"),
        ),
        (_("Messages to customers"), ("language", "low_balance", "reminder_days")),
    )

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(str(title), [self[name] for name in names]) for title, names in self.SECTIONS]

    def clean_counter_idle_minutes(self) -> int:
        minutes = int(self.cleaned_data["counter_idle_minutes"])
        if not 1 <= minutes <= 720:
            raise forms.ValidationError(_("Between 1 and 720 minutes."))
        return minutes

    def _kept(self, name: str) -> str:
        """A choice left out (an older form, a script) stays as it is."""
        return str(self.cleaned_data.get(name) or getattr(self.instance, name))

    def clean_expiry_rules(self) -> str:
        return self._kept("expiry_rules")

    def clean_tier_basis(self) -> str:
        return self._kept("tier_basis")

    def clean_tier_window(self) -> str:
        return self._kept("tier_window")

    def clean_language(self) -> str:
        return self._kept("language")

    def clean_bonus_expiry_days(self) -> int | None:
        days = self.cleaned_data.get("bonus_expiry_days")
        if days is not None and not 1 <= days <= 3650:
            raise forms.ValidationError(_("Between 1 and 3650 days, or empty."))
        return days

    def clean_points_expiry_days(self) -> int | None:
        days = self.cleaned_data.get("points_expiry_days")
        if days is not None and not 1 <= days <= 3650:
            raise forms.ValidationError(_("Between 1 and 3650 days, or empty."))
        return days

    def clean_approval_bonus_percent(self) -> int | None:
        percent = self.cleaned_data.get("approval_bonus_percent")
        if percent is not None and not 0 <= percent <= 1000:
            raise forms.ValidationError(_("Between 0 and 1000 percent, or empty."))
        return percent

    def clean_reminder_days(self) -> int | None:
        days = self.cleaned_data.get("reminder_days")
        if days is not None and not 1 <= days <= 365:
            raise forms.ValidationError(_("Between 1 and 365 days, or empty."))
        return days

    def clean_paid_expiry_days(self) -> int | None:
        days = self.cleaned_data.get("paid_expiry_days")
        if days is not None and not 1 <= days <= 36500:
            raise forms.ValidationError(_("Between 1 and 36500 days, or empty."))
        return days

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        business = self.instance
        if data.get("paid_expiry_days") and data.get("expiry_rules") != ExpiryRules.PAID_MAY_EXPIRE:
            self.add_error(
                "paid_expiry_days",
                _("Paid money expires only under rules that let it: choose them first."),
            )
        for name in self.MONEY:
            if name not in data:
                continue  # its own error is on the form
            minor = data[name]
            if name in ("first_top_up_bonus", "point_value"):
                minor = minor or 0
            setattr(business, f"{name}_minor", minor)
        smallest, largest = business.top_up_minimum_minor, business.top_up_maximum_minor
        if smallest is not None and largest is not None and smallest > largest:
            self.add_error("top_up_maximum", _("The largest top-up is below the smallest."))
        return data


DAY = forms.DateInput(attrs={"type": "date"})
FROM = pgettext_lazy("first day of a report", "From")
TO = pgettext_lazy("last day of a report", "To")


class DayForm(forms.Form):
    """One of the shop's days (the day's exceptions)."""

    day = forms.DateField(label=_("Day"), required=False, widget=DAY)

    def clean_day(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("day")
        if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2999, 12, 31):
            raise forms.ValidationError(_("Choose a day from 2000 to 2999."))
        return day


class ReportSpanForm(forms.Form):
    """Which days (the shop's), and whose postings: the chain, or one store, counter or
    staff member. A preset fills the dates in; dates typed win."""

    PRESETS = (
        ("today", _("Today")),
        ("yesterday", _("Yesterday")),
        ("this_week", _("This week")),
        ("this_month", _("This month")),
        ("last_month", _("Last month")),
    )

    start = forms.DateField(label=FROM, required=False, widget=DAY)
    end = forms.DateField(label=TO, required=False, widget=DAY)
    preset = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False)
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.all(), required=False, empty_label=_("All stores")
    )
    counter = forms.ModelChoiceField(
        label=_("Counter"),
        queryset=Device.objects.filter(kind=Device.Kind.COUNTER),
        required=False,
        empty_label=_("All counters"),
    )
    staff = forms.ModelChoiceField(
        label=_("Staff"), queryset=Staff.objects.all(), required=False, empty_label=_("Everyone")
    )

    def span(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The first and last day asked for (today when nothing is asked)."""
        data = self.cleaned_data if self.is_valid() else {}
        start, end = data.get("start"), data.get("end")
        if start is not None or end is not None:
            first = start if start is not None else end
            last = end if end is not None else start
            assert first is not None and last is not None
            return (first, last) if first <= last else (last, first)
        return preset_span(data.get("preset") or "today", today)


def preset_span(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if preset == "yesterday":
        yesterday = today - dt.timedelta(days=1)
        return yesterday, yesterday
    if preset == "this_week":
        return today - dt.timedelta(days=today.weekday()), today
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    return today, today


class LiabilitySpanForm(forms.Form):
    """Which days of what was owed: a recent stretch, or any dates (chain-wide: a balance
    is spent in every store)."""

    PRESETS = (
        ("30", _("The last 30 days")),
        ("90", _("The last 90 days")),
        ("365", _("The last 365 days")),
        ("year", _("This year")),
    )

    start = forms.DateField(label=FROM, required=False, widget=DAY)
    end = forms.DateField(label=TO, required=False, widget=DAY)
    preset = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False, initial="90")

    def span(self, today: dt.date, *, since: dt.date | None) -> tuple[dt.date, dt.date]:
        """The days asked for: typed dates win; else the preset (90 days by default), not
        before ``since`` (the shop's first day) when it starts later."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        start, end = data.get("start"), data.get("end")
        if start is not None or end is not None:
            first = start if start is not None else end
            last = end if end is not None else start
            assert first is not None and last is not None
            return (first, last) if first <= last else (last, first)
        preset = data.get("preset") or "90"
        first = (
            today.replace(month=1, day=1)
            if preset == "year"
            else today - dt.timedelta(days=int(preset) - 1)
        )
        if since is not None:
            first = min(max(first, since), today)
        return first, today


class AmountForm(forms.Form):
    """An amount typed in a form whose other fields the operation itself checks (the
    customer page's refund: its method and reason are refusals of ``Refund``)."""

    amount = MoneyField(label=_("Amount"))
