"""Day closes (Z-reports), the running X-report, and providers' settlement files, in the
back office.

Closing: pick a store or a counter and a day → the page shows that span's figures and,
per payment method, what should have come in → count the cash (a total, or notes and
coins), enter what each provider settled, explain any difference → Close. An owner or
an accountant then approves the close, or sends it back to be counted again. The
figures come from ``prepaid.closing``; every change runs as an operation (its key is
made when the form is drawn, so a second click changes nothing).

Reconciling: upload a provider's file for a payment method and its days → confirm the
columns → see what matched our top-ups and refunds, what is left on our side and on
theirs → explain each line left over with a note.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from prepaid.backoffice.forms import DAY
from prepaid.backoffice.permissions import StaffRequest, perform, requires
from prepaid.backoffice.reports import download, export_format
from prepaid.closing import denominations, settlements
from prepaid.closing.exports import closes_section, settlement_sections
from prepaid.closing.figures import Channel, channels, corrections, figures
from prepaid.closing.models import DayClose, Settlement
from prepaid.closing.operations import CloseDay, DecideClose, may_close
from prepaid.closing.running import Running, running
from prepaid.closing.spans import Place, Span, place_of, span
from prepaid.ledger.models import PaymentMethod
from prepaid.lib.money import (
    exponent,
    from_minor,
)
from prepaid.lib.numbers import whole_number
from prepaid.reports import days, spreadsheets
from prepaid.sales import importing
from prepaid.staff.models import Business, Device, Store
from prepaid.staff.refusals import Refusal
from prepaid.web.fields import MoneyField
from prepaid.web.people import allowed

PAGE_SIZE = 50


# -- where and when -------------------------------------------------------------------


def places() -> list[Place]:
    """Every active store, each followed by its counters."""
    found: list[Place] = []
    counters = Device.objects.filter(revoked_at__isnull=True, kind=Device.Kind.COUNTER)
    counters = counters.order_by("name")
    by_store: dict[int, list[Device]] = {}
    for device in counters:
        by_store.setdefault(device.store_id, []).append(device)
    for store in Store.objects.filter(active=True).order_by("name"):
        found.append(Place(store))
        found.extend(Place(store, device) for device in by_store.get(store.pk, []))
    return found


class PlaceForm(forms.Form):
    """Which store or counter, and (for a close) which day."""

    place = forms.ChoiceField(label=gettext_lazy("Store or counter"))
    day = forms.DateField(label=gettext_lazy("Day"), widget=DAY, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(p.token, _label(p)) for p in places()]
        self.fields["place"].choices = choices  # type: ignore[attr-defined]


def _label(place: Place) -> str:
    if place.device is None:
        return _("%(store)s: the whole store") % {"store": place.store.name}
    return _("%(store)s: counter %(counter)s") % {
        "store": place.store.name,
        "counter": place.device.name,
    }


def _asked_place(request: StaffRequest) -> tuple[PlaceForm, Place | None, dt.date]:
    form = PlaceForm(request.GET or None)
    place = None
    day = days.today()
    if form.is_bound and form.is_valid():
        place = place_of(form.cleaned_data["place"])
        day = form.cleaned_data["day"] or day
    elif not form.is_bound:
        first = next(iter(places()), None)
        place = first
        if first is not None:
            form = PlaceForm(initial={"place": first.token, "day": day})
    return form, place, day


# -- running operations -----------------------------------------------------------------


def _key(request: StaffRequest) -> str:
    return request.POST.get("key", "").strip()[:64] or uuid.uuid4().hex


# -- the list ---------------------------------------------------------------------------


@requires("reports.read")
def close_list(request: StaffRequest) -> HttpResponse:
    closes = DayClose.objects.select_related(
        "store", "device", "closed_by", "decided_by"
    ).prefetch_related("lines")  # each row shows its difference
    store = request.GET.get("store", "")
    if (store_id := whole_number(store)) is not None:
        closes = closes.filter(store_id=store_id)
    page = Paginator(closes.order_by("-day", "-number"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    form, _place, _day = _asked_place(request)
    context = {
        "page": page,
        "form": form,
        "stores": Store.objects.order_by("name"),
        "store": store,
        "waiting": DayClose.objects.filter(state=DayClose.State.SUBMITTED).count(),
        "can_close": allowed(request.staff, "day.close"),
        "can_approve": allowed(request.staff, "day.approve"),
        "can_export": allowed(request.staff, "reports.export"),
    }
    return render(request, "backoffice/closing/list.html", context)


@requires("reports.export")
def close_export(request: StaffRequest, file_format: str) -> HttpResponse:
    """The closes listed (every store's, or one's) as a workbook or a CSV; audited."""
    closes = DayClose.objects.all()
    store = request.GET.get("store", "")
    if (store_id := whole_number(store)) is not None:
        closes = closes.filter(store_id=store_id)
    section = closes_section(closes, Business.get().currency)
    made = spreadsheets.sections_file(
        [section],
        export_format(file_format),
        "day-closes" + (f"-store-{store_id}" if store_id is not None else ""),
        kind="day_closes",
        by=request.staff,
        asked={"store": store or "all"},
    )
    return download(made)


# -- the X-report -------------------------------------------------------------------------


@requires("reports.read")
def x_report(request: StaffRequest) -> HttpResponse:
    """What the next close of a place would cover, if it were made now; closes nothing."""
    form, place, _day = _asked_place(request)
    if place is None:
        return render(request, "backoffice/closing/x_report.html", {"form": form})
    context = {"form": form, **running_figures(running(place))}
    return render(request, "backoffice/closing/x_report.html", context)


def running_figures(found: Running) -> dict[str, Any]:
    """The figures of a span as the X-report and the close form show them."""
    return {
        "place": found.place,
        "place_label": _label(found.place),
        "span": found.span,
        "statement": found.statement,
        "channels": found.channels,
        "corrections": found.corrections,
    }


# -- closing a day ------------------------------------------------------------------------


class CloseForm(forms.Form):
    """The count: the float, the cash (total or notes and coins), what each provider
    settled, and why anything differs. Its fields depend on the channels and currency."""

    key = forms.CharField(widget=forms.HiddenInput, required=False)
    opening_float = MoneyField(
        label=gettext_lazy("Opening float"),
        help_text=gettext_lazy("Cash put in the drawer before the day began."),
        min_value=0,
        max_digits=14,
        initial=0,
    )
    counted = MoneyField(
        label=gettext_lazy("Cash counted"),
        help_text=gettext_lazy("The total in the drawer; or count the notes and coins."),
        min_value=0,
        max_digits=14,
        required=False,
    )

    def __init__(self, *args: Any, channels: list[Channel], currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channels = channels
        self.currency = currency
        self.matched: dict[str, int | None] = {}
        self.kinds = denominations.of(currency)
        self.decimals = exponent(currency)
        for kind in self.kinds:
            self.fields[f"count_{kind.value_minor}"] = forms.IntegerField(
                label=_money_text(kind.value_minor, currency),
                min_value=0,
                max_value=denominations.MAX_COUNT,
                required=False,
                widget=forms.NumberInput(
                    attrs={
                        "inputmode": "numeric",
                        "placeholder": "0",
                        "aria-label": _("How many of %(value)s")
                        % {"value": _money_text(kind.value_minor, currency)},
                    }
                ),
            )
        for channel in channels:
            code = channel.method.code
            if not channel.is_cash:
                settled = _("Settled by %(method)s") % {"method": channel.method.label}
                self.fields[f"settled_{code}"] = MoneyField(
                    label=settled,
                    max_digits=14,
                    required=False,
                    widget=forms.NumberInput(attrs={"aria-label": settled, "step": "any"}),
                )
            why = _("Why %(method)s differs") % {"method": channel.method.label}
            self.fields[f"explain_{code}"] = forms.CharField(
                label=why,
                max_length=500,
                required=False,
                widget=forms.TextInput(attrs={"aria-label": why}),
            )

    def count_fields(self) -> list[forms.BoundField]:
        return [self[f"count_{kind.value_minor}"] for kind in self.kinds]

    def rows(self) -> list[dict[str, Any]]:
        """A row per channel for the template: the channel and its two fields."""
        return [
            {
                "channel": channel,
                "settled": None if channel.is_cash else self[f"settled_{channel.method.code}"],
                "explain": self[f"explain_{channel.method.code}"],
                "matched": self.matched.get(channel.method.code),
            }
            for channel in self.channels
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}  # the amounts are in minor units (MoneyField)
        pieces = denominations.total(dict(self.counts()))
        typed = data.get("counted")
        if pieces and typed is not None and pieces != typed:
            self.add_error(
                "counted",
                _("The notes and coins add up to %(total)s; leave the total empty or fix it.")
                % {"total": _money_text(pieces, self.currency)},
            )
        return data

    def counts(self) -> tuple[tuple[int, int], ...]:
        data = getattr(self, "cleaned_data", {})
        return tuple(
            (kind.value_minor, data[f"count_{kind.value_minor}"])
            for kind in self.kinds
            if data.get(f"count_{kind.value_minor}")
        )

    def operation(self, place: Place, day: dt.date, close: int | None) -> CloseDay:
        data = self.cleaned_data
        settled = tuple(
            (c.method.code, data[f"settled_{c.method.code}"])
            for c in self.channels
            if not c.is_cash and data.get(f"settled_{c.method.code}") is not None
        )
        explanations = tuple(
            (c.method.code, data[f"explain_{c.method.code}"])
            for c in self.channels
            if data.get(f"explain_{c.method.code}", "").strip()
        )
        return CloseDay(
            place=place.token,
            day=day,
            opening_float_minor=data.get("opening_float") or 0,
            counted_minor=data.get("counted"),
            denominations=self.counts(),
            settled=settled,
            explanations=explanations,
            close=close,
        )


def _money_text(amount_minor: int, currency: str) -> str:
    return str(from_minor(amount_minor, currency))


@requires("day.close")
def close_new(request: StaffRequest) -> HttpResponse:
    """Count and close a place's day. GET ?place=&day= shows the figures and the form."""
    source = request.POST if request.method == "POST" else request.GET
    place = place_of(source.get("place", ""))
    try:
        day = dt.date.fromisoformat(source.get("day", ""))
    except ValueError:
        day = None
    if place is None or day is None:
        messages.error(request, _("Choose a store or a counter and a day."))
        return redirect("report_closes")
    if not may_close(request.staff, place.store):
        messages.error(request, Refusal("close_other_store", name=place.store.name).message())
        return redirect("report_closes")
    existing = place.closes().filter(day=day).first()
    if existing is not None and request.method != "POST":
        return redirect("report_close", close_id=existing.pk)
    return _count(request, place, day, None)


@requires("day.close")
def close_recount(request: StaffRequest, close_id: int) -> HttpResponse:
    """Count a close that was sent back again: same span and number."""
    close = get_object_or_404(DayClose.objects.select_related("store", "device"), pk=close_id)
    if close.state != DayClose.State.RETURNED:
        return redirect("report_close", close_id=close.pk)
    return _count(request, Place.of(close), close.day, close)


def _count(
    request: StaffRequest, place: Place, day: dt.date, revised: DayClose | None
) -> HttpResponse:
    covered = (
        Span(revised.day, revised.starts_at, revised.ends_at)
        if revised is not None
        else span(place, day)
    )
    if day > days.today():
        messages.error(request, _("This day has not begun yet."))
        return redirect("report_closes")
    currency = Business.get().currency
    found = running(place, covered)
    # Every active payment method, cash first, with what it moved in the span.
    found_channels = channels(found.statement, also=list(PaymentMethod.objects.filter(active=True)))
    matched = {
        c.method.code: settlements.matched_total(c.method, place, covered)
        for c in found_channels
        if not c.is_cash
    }
    if request.method == "POST":
        form = CloseForm(request.POST, channels=found_channels, currency=currency)
        if form.is_valid():
            operation = form.operation(place, day, revised.pk if revised else None)
            try:
                done = perform(request, operation, form.cleaned_data["key"] or uuid.uuid4().hex)
            except Refusal as refusal:
                if refusal.code == "idempotency_key_reused":
                    messages.info(request, _("This form was sent before; nothing more was done."))
                    return redirect("report_closes")
                field = refusal.field if refusal.field in form.fields else None
                form.add_error(field, refusal.message())
            else:
                messages.success(
                    request,
                    _("Day closed: Z%(number)s. It now waits for approval.")
                    % {"number": done.data["number"]},
                )
                return redirect("report_close", close_id=done.data["id"])
    else:
        initial: dict[str, Any] = {"key": uuid.uuid4().hex}
        for code, amount in matched.items():
            if amount is not None:
                initial[f"settled_{code}"] = from_minor(amount, currency)
        if revised is not None:
            initial["opening_float"] = from_minor(revised.opening_float_minor, currency)
        form = CloseForm(initial=initial, channels=found_channels, currency=currency)
    form.matched = matched
    context = {**running_figures(found), "form": form, "day": day, "revised": revised}
    return render(request, "backoffice/closing/close_form.html", context)


# -- one close ------------------------------------------------------------------------------


def _close(close_id: int) -> DayClose:
    found = DayClose.objects.select_related("store", "device", "closed_by", "decided_by")
    return get_object_or_404(found, pk=close_id)


def _z_context(close: DayClose) -> dict[str, Any]:
    place = Place.of(close)
    covered = Span(close.day, close.starts_at, close.ends_at)
    return {
        "close": close,
        "place_label": _label(place),
        "lines": list(close.lines.select_related("method")),
        "statement": figures(place, covered),
        "corrections": corrections(covered.starts_at, covered.ends_at, place.scope),
        "counted": [
            (_money_text(int(value), close.currency), count, int(value) * count)
            for value, count in sorted(close.denominations.items(), key=lambda i: -int(i[0]))
        ],
    }


@requires("reports.read")
def close_detail(request: StaffRequest, close_id: int) -> HttpResponse:
    close = _close(close_id)
    context = {
        **_z_context(close),
        "can_decide": allowed(request.staff, "day.approve")
        and close.state == DayClose.State.SUBMITTED
        and close.closed_by_id != request.staff.pk,
        "own": close.closed_by_id == request.staff.pk,
        "can_recount": allowed(request.staff, "day.close")
        and close.state == DayClose.State.RETURNED,
        "decision_key": uuid.uuid4().hex,
    }
    return render(request, "backoffice/closing/close.html", context)


@requires("reports.read")
def close_print(request: StaffRequest, close_id: int, paper: str) -> HttpResponse:
    """The Z-report alone, for a receipt printer (80 mm) or a sheet (A4)."""
    if paper not in ("80mm", "a4"):
        raise Http404
    context = {**_z_context(_close(close_id)), "paper": paper}
    return render(request, "backoffice/closing/z_print.html", context)


@require_POST
@requires("day.approve")
def close_decide(request: StaffRequest, close_id: int) -> HttpResponse:
    close = _close(close_id)
    approve = request.POST.get("decision") == "approve"
    operation = DecideClose(close=close.pk, approve=approve, note=request.POST.get("note", ""))
    try:
        perform(request, operation, _key(request))
    except Refusal as refusal:
        if refusal.code == "idempotency_key_reused":
            messages.info(request, _("This form was sent before; nothing more was done."))
        else:
            messages.error(request, refusal.message())
    else:
        if approve:
            messages.success(request, _("Z%(number)s approved.") % {"number": close.number})
        else:
            messages.success(
                request, _("Z%(number)s sent back to be counted again.") % {"number": close.number}
            )
    return redirect("report_close", close_id=close.pk)


# -- settlement files -------------------------------------------------------------------------


class SettlementForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Settlement file"),
        help_text=gettext_lazy(
            "The provider's report of what it paid out: an Excel workbook (.xlsx) or a CSV"
            " file, one line per payment."
        ),
    )
    method = forms.ModelChoiceField(
        label=gettext_lazy("Payment method"), queryset=PaymentMethod.objects.none()
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All stores"),
    )
    first_day = forms.DateField(label=gettext_lazy("First day"), widget=DAY)
    last_day = forms.DateField(label=gettext_lazy("Last day"), widget=DAY)
    window_minutes = forms.IntegerField(
        label=gettext_lazy("Time window (minutes)"),
        help_text=gettext_lazy(
            "A line without our reference matches a payment of the same amount at most this"
            " far apart in time."
        ),
        min_value=0,
        max_value=settlements.MAX_WINDOW_MINUTES,
        initial=15,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["method"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = PaymentMethod.objects.exclude(code="cash").order_by("position", "name")


@requires("reconcile")
def settlement_list(request: StaffRequest) -> HttpResponse:
    found = Settlement.objects.select_related("method", "store", "imported_by")
    page = Paginator(found.order_by("-imported_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(s, settlements.pending_matches(s) if s.state == "matched" else None) for s in page]
    return render(request, "backoffice/closing/settlements.html", {"page": page, "rows": rows})


@requires("reconcile")
def settlement_new(request: StaffRequest) -> HttpResponse:
    today = days.today()
    if request.method == "POST":
        form = SettlementForm(request.POST, request.FILES)
        if form.is_valid():
            data, upload = form.cleaned_data, form.cleaned_data["file"]
            try:
                made = settlements.upload(
                    upload,
                    upload.name,
                    size=upload.size,
                    method=data["method"],
                    first_day=data["first_day"],
                    last_day=data["last_day"],
                    store=data["store"],
                    window_minutes=data["window_minutes"],
                    by=request.staff,
                )
            except importing.ImportProblem as problem:  # a SettlementProblem too
                form.add_error("file", str(problem))
            else:
                return redirect("report_settlement", settlement_id=made.pk)
    else:
        yesterday = today - dt.timedelta(days=1)
        form = SettlementForm(initial={"first_day": yesterday, "last_day": yesterday})
    return render(request, "backoffice/closing/settlement_new.html", {"form": form})


@requires("reconcile")
def settlement_detail(request: StaffRequest, settlement_id: int) -> HttpResponse:
    found = get_object_or_404(
        Settlement.objects.select_related("method", "store", "imported_by"), pk=settlement_id
    )
    if found.state == Settlement.State.MAPPING:
        return _columns(request, found)
    report = settlements.report(found)
    theirs = [(line, report.differing.get(line.pk)) for line in report.theirs_left]
    return render(
        request,
        "backoffice/closing/settlement.html",
        {"settlement": found, "report": report, "theirs": theirs},
    )


def _columns(request: StaffRequest, found: Settlement) -> HttpResponse:
    """Confirm (or change) which column holds what; then the lines are read and matched."""
    headers, rows = settlements.sheet_of(found)
    mapping: settlements.Mapping = dict(found.mapping)
    problem: settlements.SettlementProblem | None = None
    if request.method == "POST":
        mapping = {}
        for column in settlements.Column:
            chosen = request.POST.get(column.value, "")
            if (index := whole_number(chosen, maximum=len(headers) - 1)) is not None:
                mapping[column.value] = index
        try:
            settlements.apply(found, mapping, by=request.staff)
        except settlements.SettlementProblem as refused:
            problem = refused
        else:
            return redirect("report_settlement", settlement_id=found.pk)
    context = {
        "settlement": found,
        "headers": list(enumerate(headers)),
        "rows": rows[:10],
        "row_count": len(rows),
        "columns": [(column, mapping.get(column.value)) for column in settlements.Column],
        "problem": problem,
    }
    return render(request, "backoffice/closing/settlement_columns.html", context)


@requires("reconcile")
def settlement_export(request: StaffRequest, settlement_id: int, file_format: str) -> HttpResponse:
    """A matched file's reconciliation as a workbook (a sheet per part) or a CSV."""
    found = get_object_or_404(Settlement, pk=settlement_id, state=Settlement.State.MATCHED)
    sections = settlement_sections(settlements.report(found), Business.get().currency)
    made = spreadsheets.sections_file(
        sections,
        export_format(file_format),
        f"settlement-{found.pk}",
        kind="settlement",
        by=request.staff,
        asked={"settlement": found.pk, "file": found.file_name},
    )
    return download(made)


@require_POST
@requires("reconcile")
def settlement_resolve(request: StaffRequest, settlement_id: int) -> HttpResponse:
    found = get_object_or_404(Settlement, pk=settlement_id, state=Settlement.State.MATCHED)
    line, batch = request.POST.get("line", ""), request.POST.get("transaction", "")
    try:
        settlements.resolve(
            found,
            note=request.POST.get("note", ""),
            by=request.staff,
            line_id=whole_number(line),
            batch_id=whole_number(batch),
        )
    except Refusal as refusal:
        messages.error(request, refusal.message())
    else:
        messages.success(request, _("Explained."))
    return redirect("report_settlement", settlement_id=found.pk)
