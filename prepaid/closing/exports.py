"""Day closes as a spreadsheet section: the list of closes as Excel or CSV, and a sheet of
the month's workbook (``reports.spreadsheets``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.closing.models import DayClose
from prepaid.closing.settlements import Report
from prepaid.lib.money import from_minor
from prepaid.reports import days
from prepaid.reports.spreadsheets import Section


def closes_between(first: dt.date, last: dt.date, store: int | None = None) -> QuerySet[DayClose]:
    found = DayClose.objects.filter(day__gte=first, day__lte=last)
    if store is not None:
        found = found.filter(store_id=store)
    return found


def closes_section(closes: QuerySet[DayClose], currency: str) -> Section:
    """One row per close, oldest first: its day, number, place, state, totals, what cash
    and every method should have brought in against what was counted or settled."""
    rows: list[list[object]] = []
    zone = days.zone()

    def money(amount: int | None) -> object:
        return None if amount is None else from_minor(amount, currency)

    def moment(value: dt.datetime | None) -> object:
        return None if value is None else timezone.localtime(value, zone).replace(tzinfo=None)

    found = closes.select_related("store", "device", "closed_by", "decided_by")
    for close in found.prefetch_related("lines__method").order_by("day", "store_id", "number"):
        lines = list(close.lines.all())
        cash = next((line for line in lines if line.method.code == "cash"), None)
        top_ups = close.totals.get("top_ups", {})
        sold = close.totals.get("sales", {}).get("amount", 0)
        paid_back = close.totals.get("refunds", {}).get("amount", 0)
        why = "; ".join(f"{x.method.label}: {x.explanation}" for x in lines if x.explanation)
        rows.append(
            [close.day, close.number, close.store.name,
             close.device.name if close.device else "", close.get_state_display(),
             top_ups.get("count", 0), money(top_ups.get("amount", 0)), money(sold),
             money(paid_back), money(close.opening_float_minor),
             money(cash.expected_minor if cash else None),
             money(cash.actual_minor if cash else None),
             money(sum(line.difference_minor for line in lines)), why,
             close.closed_by.name, moment(close.closed_at),
             close.decided_by.name if close.decided_by else "", moment(close.decided_at),
             close.digest]
        )  # fmt: skip
    return Section(
        _("Day closes"),
        [_("Day"), _("Z"), _("Store"), _("Counter"), _("State"), _("Top-ups"), _("Paid in"),
         _("Sold"), _("Paid back"), _("Opening float"), _("Cash expected"), _("Cash counted"),
         _("Difference"), _("Why it differs"), _("Closed by"), _("Closed at"), _("Decided by"),
         _("Decided at"), "SHA-256"],
        rows,
        (6, 7, 8, 9, 10, 11, 12),
    )  # fmt: skip


def settlement_sections(found: Report, currency: str) -> list[Section]:
    """A settlement file's reconciliation: what matched, what is only here, what is only
    in their file — a sheet each, with the explanations given."""
    zone = days.zone()

    def money(amount: int) -> object:
        return from_minor(amount, currency)

    def moment(value: dt.datetime) -> object:
        return timezone.localtime(value, zone).replace(tzinfo=None)

    def note(resolution: object) -> str:
        return getattr(resolution, "note", "") if resolution is not None else ""

    matched = [
        [moment(line.occurred_at), line.row, line.reference, money(line.amount_minor),
         ours.batch_id, moment(ours.created_at), str(line.get_rule_display())]
        for line, ours in found.matched
    ]  # fmt: skip
    ours_left = [
        [moment(ours.created_at), ours.batch_id, ours.store_name, ours.reference,
         money(ours.amount_minor), note(ours.resolution)]
        for ours in found.ours_left
    ]  # fmt: skip
    theirs_left = [
        [moment(line.occurred_at), line.row, line.reference, money(line.amount_minor),
         note(getattr(line, "resolution", None))]
        for line in found.theirs_left
    ]  # fmt: skip
    return [
        Section(
            _("Matched"),
            [_("Their time"), _("Row"), _("Reference"), _("Amount"), _("Transaction"),
             _("Our time"), _("By")],
            matched,
            (3,),
        ),
        Section(
            _("Only here"),
            [_("When"), _("Transaction"), _("Store"), _("Reference"), _("Amount"),
             _("Explanation")],
            ours_left,
            (4,),
        ),
        Section(
            _("Only in their file"),
            [_("When"), _("Row"), _("Reference"), _("Amount"), _("Explanation")],
            theirs_left,
            (3,),
        ),
    ]  # fmt: skip
