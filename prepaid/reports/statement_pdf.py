"""A customer's month as a PDF (issue #13): the same statement as the CSV, to print or
keep: the shop, the customer, the month as the reader's language writes it, the
balances at the start, each transaction with the balances after it, the totals, the
balances at the end. Amounts and dates as the shop shows them (lib.money, lib.dates)."""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta

from django.utils import formats
from django.utils.translation import gettext as _
from fpdf.fonts import FontFace

from prepaid.customers.models import Customer
from prepaid.lib.dates import format_day, format_when
from prepaid.lib.money import format_money
from prepaid.lib.pdf import Document
from prepaid.reports.customers import Statement
from prepaid.staff.models import Business


def describe(batch) -> str:  # type: ignore[no-untyped-def]
    """What a transaction was: its kind, and a sale's lines ("Sale · 2 × Water 19 L")."""
    lines = " · ".join(
        f"{line.quantity.normalize():f} × {line.product.name}" for line in batch.sale_lines.all()
    )
    return f"{batch.get_code_display()}{' · ' + lines if lines else ''}"


def month_name(first: date) -> str:
    """The month as the active language writes it: "November 2026", "2026年11月"."""
    return formats.date_format(first, "YEAR_MONTH_FORMAT")


def render(kept: Statement, customer: Customer, business: Business, language: str) -> bytes:
    zone = zoneinfo.ZoneInfo(business.time_zone)
    region = business.region

    def money(minor: int) -> str:
        return format_money(minor, business.currency, language, region=region)

    month = month_name(kept.start.date())
    title = _("Statement %(month)s") % {"month": month}
    pdf = Document(title=f"{business.name} · {title}", page_label=_("Page {page} of {pages}"))
    pdf.add_page()

    pdf.line_of(business.name, size=16, bold=True, h=8)
    pdf.line_of(title, size=13, h=7)
    pdf.ln(2)
    pdf.line_of(f"{customer.name} · {customer.code}", size=11)
    first, last = kept.start.date(), (kept.end - timedelta(days=1)).date()
    days = (format_day(day, language, region=region) for day in (first, last))
    pdf.line_of(" – ".join(days), size=9)
    pdf.ln(3)

    paid_in = sum(row[1] for row in kept.rows if row[1] > 0)
    paid_out = -sum(row[1] for row in kept.rows if row[1] < 0)
    bonus_in = sum(row[2] for row in kept.rows if row[2] > 0)
    bonus_out = -sum(row[2] for row in kept.rows if row[2] < 0)

    def balance_line(label: str, paid: int, bonus: int) -> None:
        text = label % {"amount": money(paid)}
        if bonus or kept.opening[1] or kept.closing[1]:
            text += "  ·  " + _("Bonus: %(amount)s") % {"amount": money(bonus)}
        pdf.line_of(text, size=11, bold=True, h=7)

    balance_line(_("Opening balance: %(amount)s"), *kept.opening)
    pdf.ln(2)
    pdf.use(9)
    headings = FontFace(emphasis="BOLD" if pdf.has_bold else None, fill_color=(230, 234, 242))
    with pdf.table(
        col_widths=(34, 50, 24, 22, 30, 30),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=headings,
        line_height=5,
        borders_layout="HORIZONTAL_LINES",
        padding=1,
    ) as table:
        heading = (
            _("Date"),
            _("Transaction"),
            _("Paid"),
            _("Bonus"),
            _("Paid balance"),
            _("Bonus balance"),
        )
        row = table.row()
        for text in heading:
            row.cell(pdf.text_for(text))
        for batch, paid, bonus, paid_after, bonus_after in kept.rows:
            row = table.row()
            when = format_when(batch.created_at.astimezone(zone), language, region=region)
            for text in (
                when,
                describe(batch),
                money(paid),
                money(bonus) if bonus else "",
                money(paid_after),
                money(bonus_after),
            ):
                row.cell(pdf.text_for(text))
        if not kept.rows:
            row = table.row()
            row.cell(pdf.text_for(_("No transactions this month.")), colspan=6)
    pdf.ln(3)
    pdf.use(10)
    # Whole phrases to translate: gettext inside an f-string is never extracted.
    paid_line = _("Paid in: %(paid_in)s  ·  Spent or refunded: %(paid_out)s")
    pdf.line_of(paid_line % {"paid_in": money(paid_in), "paid_out": money(paid_out)}, size=10)
    if bonus_in or bonus_out:
        bonus_line = _("Bonus received: %(bonus_in)s  ·  Bonus used: %(bonus_out)s")
        pdf.line_of(bonus_line % {"bonus_in": money(bonus_in), "bonus_out": money(bonus_out)})
    pdf.ln(2)
    balance_line(_("Closing balance: %(amount)s"), *kept.closing)
    return bytes(pdf.output())
