"""The Coupons page: issue a series (owners, managers), list coupons with how often each
was taken, download a series as CSV, print it as a sheet of QR codes, withdraw one.

A coupon's QR holds its code and nothing else: the counter's Coupon field takes it as
typed text from a USB scanner, and a person can read it aloud from under the QR.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from prepaid.backoffice.permissions import StaffRequest, requires
from prepaid.catalog.models import Product
from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon
from prepaid.lib.money import AmountTooLarge, MoneyError, from_minor, to_minor, too_large
from prepaid.staff import audit
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal
from prepaid.web.fields import MoneyField

STATES = ("unused", "used", "withdrawn")
PER_PAGE = 100
SHEET = 10  # coupons on one A4 sheet, as customer cards


class CouponForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Coupon.Kind.choices)
    value = forms.DecimalField(
        label=gettext_lazy("Value"),
        min_value=Decimal("0.01"),
        max_digits=14,
        help_text=gettext_lazy(
            "Amount off: the money. Percent off: a whole percent. Free product: how many units."
        ),
    )
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        queryset=Product.objects.filter(active=True),
        required=False,
        help_text=gettext_lazy(
            "Free product: the product given. Otherwise: only this product's lines (empty:"
            " the whole sale)."
        ),
    )
    min_spend = MoneyField(
        label=gettext_lazy("Minimum spend"), min_value=0, max_digits=14, required=False
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"), required=False, widget=forms.DateInput({"type": "date"})
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        required=False,
        widget=forms.DateInput({"type": "date"}),
        help_text=gettext_lazy("The last day it is taken. Empty: no end"),
    )
    uses = forms.IntegerField(
        label=gettext_lazy("Uses of each code"),
        min_value=1,
        initial=1,
        required=False,
        help_text=gettext_lazy("1: single use. Empty: no limit"),
    )
    per_customer = forms.IntegerField(
        label=gettext_lazy("Uses per customer"),
        min_value=1,
        required=False,
        help_text=gettext_lazy("Empty: no limit"),
    )
    count = forms.IntegerField(
        label=gettext_lazy("How many codes"), min_value=1, max_value=coupons.MAX_COUNT, initial=1
    )
    series = forms.CharField(
        label=gettext_lazy("Series"),
        max_length=80,
        required=False,
        help_text=gettext_lazy("A name for these codes, e.g. Flyer March"),
    )

    def terms(self, currency: str) -> coupons.Terms | None:
        """The coupon's terms, or None with the errors added to the form."""
        data = self.cleaned_data
        kind = Coupon.Kind(data["kind"])
        try:
            if kind == Coupon.Kind.AMOUNT:
                value = to_minor(data["value"], currency)
            else:
                value = int(data["value"])
                if value != data["value"]:
                    raise MoneyError("not whole")
        except AmountTooLarge:
            self.add_error("value", too_large(currency))
            return None
        except MoneyError:
            self.add_error(
                "value", _("Enter a whole number, or money with the currency's decimals.")
            )
            return None
        return coupons.Terms(
            kind,
            value,
            product=data["product"],
            min_spend_minor=data["min_spend"] or 0,
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            uses=data["uses"],
            per_customer=data["per_customer"],
        )


def _in_state(found: QuerySet[Coupon], state: str) -> QuerySet[Coupon]:
    used_up = Q(uses_allowed__isnull=False) & Q(used__gte=F("uses_allowed"))
    if state == "withdrawn":
        return found.filter(withdrawn_at__isnull=False)
    if state == "used":
        return found.filter(withdrawn_at__isnull=True).filter(used_up)
    if state == "unused":
        return found.filter(withdrawn_at__isnull=True).exclude(used_up)
    return found


@requires("coupons.issue")
def coupon_list(request: StaffRequest) -> HttpResponse:
    """The list (by state and series), and the form that issues a series."""
    currency = Business.get().currency
    form = CouponForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        terms = form.terms(currency)
        if terms is not None:
            try:
                made = coupons.issue(
                    terms,
                    count=form.cleaned_data["count"],
                    series=form.cleaned_data["series"],
                    by=request.staff,
                )
            except Refusal as refusal:
                field = refusal.field if refusal.field in form.fields else None
                form.add_error(field, refusal.message())
            else:
                messages.success(
                    request,
                    _("%(count)s coupons issued in the series “%(series)s”.")
                    % {"count": len(made), "series": made[0].series},
                )
                return redirect(f"{request.path}?series={made[0].series}")
    state = request.GET.get("state", "")
    series = request.GET.get("series", "")
    found = coupons.counted(Coupon.objects.select_related("product", "customer"))
    if series:
        found = found.filter(series=series)
    found = _in_state(found, state)
    page = Paginator(found.order_by("-id"), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "state": state,
        "states": STATES,
        "series": series,
        "all_series": Coupon.objects.values_list("series", flat=True).distinct().order_by("series"),
    }
    return render(request, "backoffice/coupons.html", context)


def _chosen(request: StaffRequest) -> list[Coupon]:
    """A series (``?series=``), or codes (``?code=`` repeated), oldest first."""
    found = Coupon.objects.select_related("product").order_by("id")
    if series := request.GET.get("series"):
        return list(found.filter(series=series))
    return list(found.filter(code__in=request.GET.getlist("code")))


@requires("coupons.issue")
def coupon_export(request: StaffRequest) -> HttpResponse:
    """A series' codes as CSV (for a mail merge, a print shop, a spreadsheet); audited."""
    chosen = _chosen(request)
    currency = Business.get().currency
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["code", "kind", "value", "product", "min_spend", "valid_from",
                     "valid_until", "uses", "per_customer", "series"])  # fmt: skip
    for item in chosen:
        value: Any = (
            from_minor(item.value, currency) if item.kind == Coupon.Kind.AMOUNT else item.value
        )
        writer.writerow([
            item.code, item.kind, value, item.product.name if item.product else "",
            from_minor(item.min_spend_minor, currency), item.valid_from or "",
            item.valid_until or "", item.uses_allowed or "", item.per_customer or "", item.series,
        ])  # fmt: skip
    audit.record(
        "coupons.exported",
        f"coupons:{request.GET.get('series', '')}",
        by=request.staff,
        after={"count": len(chosen)},
    )
    response = HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="coupons.csv"'
    return response


@requires("coupons.issue")
def coupon_print(request: StaffRequest) -> HttpResponse:
    """A series as A4 sheets of ten, each coupon with its QR (its code), what it gives
    and until when."""
    printed = [
        (item, segno.make(item.code, error="m", micro=False).svg_inline(scale=3, border=2))
        for item in _chosen(request)
    ]
    return render(request, "backoffice/coupon_sheet.html", {"printed": printed})


@require_POST
@requires("coupons.issue")
def coupon_withdraw(request: StaffRequest, coupon_id: int) -> HttpResponse:
    coupon = get_object_or_404(Coupon, pk=coupon_id)
    coupons.withdraw(coupon, by=request.staff)
    messages.success(request, _("Coupon %(code)s was withdrawn.") % {"code": coupon.code})
    return redirect("coupons")
