"""The owner's money: statements, what is owed over time and how old it is, dormant
balances, the expected burn-down, exports. Read by owners, managers and accountants;
every figure comes from ``prepaid.reports``, which reads the ledger."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from prepaid.backoffice.forms import LiabilitySpanForm, ReportSpanForm
from prepaid.backoffice.permissions import StaffRequest, requires
from prepaid.closing.exports import closes_between, closes_section
from prepaid.closing.figures import corrections_of_days
from prepaid.customers.models import Customer
from prepaid.lib.money import from_minor
from prepaid.lib.numbers import whole_number
from prepaid.reports import balances, days, programs, spreadsheets
from prepaid.reports.statements import Scope, liability_series, statement
from prepaid.staff.models import Business
from prepaid.web.people import allowed


@requires("reports.read")
def reports_home(request: StaffRequest) -> HttpResponse:
    context = {"can_reconcile": allowed(request.staff, "reconcile")}
    return render(request, "backoffice/reports/home.html", context)


def _asked(request: StaffRequest) -> tuple[ReportSpanForm, dt.date, dt.date, Scope]:
    form = ReportSpanForm(request.GET or None)
    first, last = form.span(days.today())
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    scope = Scope(
        store=data["store"].pk if data.get("store") else None,
        device=data["counter"].pk if data.get("counter") else None,
        staff=data["staff"].pk if data.get("staff") else None,
    )
    return form, first, last, scope


@requires("reports.read")
def statement_page(request: StaffRequest) -> HttpResponse:
    form, first, last, scope = _asked(request)
    context = {
        "form": form,
        "statement": statement(first, last, scope),
        "corrections": corrections_of_days(first, last, scope),
        "programs": programs.figures(first, last, store=scope.store)
        if scope.device is None and scope.staff is None and scope.token is None
        else None,
        "query": request.GET.urlencode(),
        "can_export": allowed(request.staff, "reports.export"),
    }
    return render(request, "backoffice/reports/statement.html", context)


@requires("reports.export")
def statement_export(request: StaffRequest, file_format: str) -> HttpResponse:
    """The statement on screen as a workbook (one sheet per section) or a CSV."""
    _form, first, last, scope = _asked(request)
    found = statement(first, last, scope)
    made = spreadsheets.statement_file(found, export_format(file_format), by=request.staff)
    return download(made)


@requires("reports.export")
def month_export(request: StaffRequest) -> HttpResponse:
    """A whole month in one workbook: each day, the month's statement, what was owed."""
    _form, first, _last, scope = _asked(request)
    month = first.replace(day=1)
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    closes = closes_between(month, following - dt.timedelta(days=1), scope.store)
    more = [closes_section(closes, Business.get().currency)]
    made = spreadsheets.month_workbook(month, scope, by=request.staff, more=more)
    return download(made)


def export_format(file_format: str) -> str:
    if file_format not in ("xlsx", "csv"):
        raise Http404
    return file_format


def download(made: spreadsheets.File) -> HttpResponse:
    response = HttpResponse(made.content, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response


def _liability_span(request: StaffRequest) -> tuple[LiabilitySpanForm, dt.date, dt.date]:
    """The days asked for; by default the last 90, from the shop's first posting on."""
    form = LiabilitySpanForm(request.GET or None)
    return form, *form.span(days.today(), since=days.first_day())


@requires("reports.read")
def liability_page(request: StaffRequest) -> HttpResponse:
    form, first, last = _liability_span(request)
    series = liability_series(first, last)
    currency = Business.get().currency
    chart = {
        "days": [row.day.isoformat() for row in series],
        "paid": [float(from_minor(row.owed.paid, currency)) for row in series],
        "bonus": [float(from_minor(row.owed.bonus, currency)) for row in series],
        "credit": [float(from_minor(row.owed.credit, currency)) for row in series],
        "labels": [_("Paid"), _("Bonus"), _("Credit")],
    }
    context: dict[str, Any] = {
        "form": form,
        "series": list(reversed(series)),  # newest first in the table
        "chart": json.dumps(chart),
        "first": first,
        "last": last,
        "query": request.GET.urlencode(),
        "can_export": allowed(request.staff, "reports.export"),
    }
    return render(request, "backoffice/reports/liability.html", context)


@requires("reports.export")
def liability_export(request: StaffRequest, file_format: str) -> HttpResponse:
    _form, first, last = _liability_span(request)
    series = liability_series(first, last)
    made = spreadsheets.liability_file(series, export_format(file_format), by=request.staff)
    return download(made)


DORMANT_DAYS = balances.DORMANT_DAYS


def _dormant_days(request: StaffRequest) -> int:
    asked = request.GET.get("days", "")
    return number if (number := whole_number(asked)) in DORMANT_DAYS else 90


@requires("reports.read")
def balances_page(request: StaffRequest) -> HttpResponse:
    """How old the money is (aging), how much is likely to be used (burn-down), and who
    holds money without coming back (dormant)."""
    seen = balances.standing()
    aged = seen.aging
    days = _dormant_days(request)
    # As computed with the aging (a computation before dormant balances were kept: now).
    quiet = seen.dormant.get(days) or balances.dormant(days)
    people = {
        c.pk: c for c in Customer.objects.filter(pk__in=[q.customer_id for q in quiet.largest])
    }
    total = aged.total or 1
    context = {
        "aging": [
            (label, amount, round(100 * amount / total))
            for label, amount in zip(aging_labels(), aged.amounts, strict=True)
        ],
        "aging_total": aged.total,
        "burn": seen.burn,
        "seen": seen,
        "dormant": quiet,
        "quiet": [(people.get(q.customer_id), q) for q in quiet.largest],
        "dormant_days": DORMANT_DAYS,
        "can_export": allowed(request.staff, "reports.export"),
        "query": request.GET.urlencode(),
    }
    return render(request, "backoffice/reports/balances.html", context)


@require_POST
@requires("reports.read")
def balances_recompute(request: StaffRequest) -> HttpResponse:
    """Compute the aging and the burn-down now (the worker does it once a day)."""
    balances.record()
    query = request.POST.get("query", "")
    return redirect(reverse("report_balances") + (f"?{query}" if query else ""))


def aging_labels() -> list[str]:
    return [
        _("0–30 days"),
        _("31–90 days"),
        _("91–180 days"),
        _("181–365 days"),
        _("More than 365 days"),
    ]


@requires("reports.export")
def balances_export(request: StaffRequest, file_format: str) -> HttpResponse:
    made = spreadsheets.balances_file(
        balances.standing(),
        aging_labels(),
        balances.dormant(_dormant_days(request), show=10_000),
        export_format(file_format),
        by=request.staff,
    )
    return download(made)
