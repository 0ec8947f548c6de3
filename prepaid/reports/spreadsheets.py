"""Reports as Excel workbooks and CSV files: the figures as real numbers in the
currency's format, days as dates, a frozen header, one sheet per section; a whole month
in one workbook. Every export is an audit entry (who exported what).

CSV is one table with a ``section`` column, UTF-8 with a byte-order mark (Excel shows
Chinese names as mojibake without it). Names typed by people (products, payment
methods) are neutralised as in the customer export: text starting with "=" is never a
formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from babel.core import Locale, UnknownLocaleError
from babel.numbers import get_currency_symbol
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from prepaid.customers.models import Customer
from prepaid.lib.money import exponent, from_minor
from prepaid.reports import days
from prepaid.reports.balances import Dormant, Standing
from prepaid.reports.exports import FORMATS, neutralise
from prepaid.reports.flows import Owed
from prepaid.reports.statements import OwedDay, Scope, Statement, liability_series, statement
from prepaid.staff import audit
from prepaid.staff.models import Business, Staff


@dataclass(frozen=True)
class File:
    content: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class Section:
    title: str
    headers: list[str]
    rows: list[list[object]]
    money: tuple[int, ...]  # the columns holding money


def _money(amount_minor: int, currency: str) -> Decimal:
    return from_minor(amount_minor, currency)


def money_format(business: Business) -> str:
    """The currency's format for a spreadsheet cell: "₱"#,##0.00 (the shop's symbol, its
    currency's decimals)."""
    try:
        home = Locale.parse(f"und_{business.region}")
        symbol = get_currency_symbol(business.currency, home)
    except (UnknownLocaleError, ValueError):
        symbol = business.currency
    places = exponent(business.currency)
    digits = "#,##0" + ("." + "0" * places if places else "")
    return f'"{symbol}"{digits};-"{symbol}"{digits}'


def statement_sections(found: Statement) -> list[Section]:
    currency = found.currency
    sections = [
        Section(
            _("Summary"),
            [_("What"), _("Paid"), _("Bonus"), _("Credit"), _("Paid + bonus")],
            [
                [_("Owed at the start"), *_owed(found.opening, currency)],
                [_("Owed at the end"), *_owed(found.closing, currency)],
                [_("Net change"), None, None, None, _money(found.net_change, currency)],
            ],
            (1, 2, 3, 4),
        ),
        Section(
            _("Top-ups"),
            [_("Payment method"), _("Count"), _("Amount"), _("Bonus")],
            [
                [
                    neutralise(line.method.label),
                    line.count,
                    _money(line.amount, currency),
                    _money(line.bonus, currency),
                ]
                for line in found.top_ups
            ],
            (2, 3),
        ),
        *(
            [
                Section(
                    _("Punch cards sold"),
                    [_("Payment method"), _("Count"), _("Amount")],
                    [
                        [neutralise(line.method.label), line.count, _money(line.amount, currency)]
                        for line in found.packages
                    ],
                    (2,),
                )
            ]
            if found.packages
            else []
        ),
        Section(
            _("Sales"),
            [
                _("Product"),
                _("Unit"),
                _("Count"),
                _("Quantity"),
                _("Amount"),
                _("From paid"),
                _("From bonus"),
            ],
            [
                [
                    neutralise(line.product.name),
                    neutralise(line.product.unit),
                    line.count,
                    line.quantity,
                    _money(line.amount, currency),
                    _money(line.from_paid, currency),
                    _money(line.from_bonus, currency),
                ]
                for line in found.sales
            ],
            (4, 5, 6),
        ),
        Section(
            _("Refunds"),
            [_("Payment method"), _("Count"), _("Amount"), _("Bonus forfeited")],
            [
                [
                    neutralise(line.method.label),
                    line.count,
                    _money(line.amount, currency),
                    _money(line.forfeited, currency),
                ]
                for line in found.refunds
            ],
            (2, 3),
        ),
        Section(
            _("Reversals"),
            [_("Reversed"), _("Payment method"), _("Count"), _("Paid"), _("Bonus")],
            [
                [
                    _kind(line.original),
                    neutralise(line.method.label) if line.method else "",
                    line.count,
                    _money(line.paid, currency),
                    _money(line.bonus, currency),
                ]
                for line in found.reversals
            ],
            (3, 4),
        ),
    ]
    if found.others:
        sections.append(
            Section(
                _("Other movements"),
                [_("What"), _("Count"), _("Paid"), _("Bonus")],
                [
                    [
                        _kind(line.code),
                        line.count,
                        _money(line.paid, currency),
                        _money(line.bonus, currency),
                    ]
                    for line in found.others
                ],
                (2, 3),
            )
        )
    return sections


def _owed(owed: Owed, currency: str) -> list[Decimal]:
    return [
        _money(owed.paid, currency),
        _money(owed.bonus, currency),
        _money(owed.credit, currency),
        _money(owed.total, currency),
    ]


def _kind(code: str) -> str:
    from prepaid.ledger.models import Batch

    try:
        return str(Batch.Code(code).label)
    except ValueError:
        return code


def liability_section(series: list[OwedDay], currency: str) -> Section:
    return Section(
        _("Owed by day"),
        [_("Day"), _("Paid"), _("Bonus"), _("Credit"), _("Customers with a balance")],
        [
            [
                row.day,
                _money(row.owed.paid, currency),
                _money(row.owed.bonus, currency),
                _money(row.owed.credit, currency),
                row.owed.holders,
            ]
            for row in series
        ],
        (1, 2, 3),
    )


def _workbook(sections: list[Section], business: Business) -> bytes:
    book = Workbook()
    book.remove(book.active)
    money = money_format(business)
    for section in sections:
        sheet: Worksheet = book.create_sheet(title=section.title[:31])
        sheet.append(section.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in section.rows:
            sheet.append(row)
        for column in section.money:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                cell.number_format = money
        for (cell,) in sheet.iter_rows(min_row=2, min_col=1, max_col=1):
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A2"
        for index, header in enumerate(section.headers):
            letter = sheet.cell(row=1, column=index + 1).column_letter
            sheet.column_dimensions[letter].width = max(12, len(header) + 4)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv(sections: list[Section]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for section in sections:
        writer.writerow([_("Section"), *section.headers])
        for row in section.rows:
            writer.writerow([section.title, *("" if value is None else value for value in row)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _file(sections: list[Section], file_format: str, name: str, business: Business) -> File:
    if file_format == "xlsx":
        content = _workbook(sections, business)
    elif file_format == "csv":
        content = _csv(sections)
    else:
        raise ValueError(f"no such format: {file_format}")
    return File(content, f"{name}.{file_format}", FORMATS[file_format])


def _scope_name(scope: Scope) -> str:
    parts = [f"{name}-{value}" for name, value in scope.filters().items()]
    return ("-" + "-".join(parts)) if parts else ""


def statement_file(found: Statement, file_format: str, *, by: Staff | None) -> File:
    business = Business.get()
    span = found.start.isoformat()
    if found.end != found.start:
        span += f"--{found.end.isoformat()}"
    name = f"statement-{span}{_scope_name(found.scope)}"
    made = _file(statement_sections(found), file_format, name, business)
    _audit("statement", made, by, {"from": found.start, "to": found.end, **found.scope.filters()})
    return made


def liability_file(series: list[OwedDay], file_format: str, *, by: Staff | None) -> File:
    business = Business.get()
    span = f"{series[0].day}--{series[-1].day}" if series else "empty"
    made = _file(
        [liability_section(series, business.currency)], file_format, f"owed-{span}", business
    )
    _audit("liability", made, by, {"days": len(series)})
    return made


def sections_file(
    sections: list[Section],
    file_format: str,
    name: str,
    *,
    kind: str,
    by: Staff | None,
    asked: dict[str, object],
) -> File:
    """Any report's sections as a workbook or a CSV named ``name``; audited as ``kind``."""
    made = _file(sections, file_format, name, Business.get())
    _audit(kind, made, by, asked)
    return made


def month_workbook(
    first: dt.date, scope: Scope, *, by: Staff | None, more: Sequence[Section] = ()
) -> File:
    """The month of ``first``: a sheet with each day's totals, then the month's statement
    sheets, then what was owed at the end of each day, then ``more`` (the day closes)."""
    business = Business.get()
    currency = business.currency
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    last = min(following - dt.timedelta(days=1), days.today())
    month = statement(first, last, scope)
    by_day = []
    day = first
    while day <= last:
        found = statement(day, day, scope)
        by_day.append(
            [day, found.top_up_total.count, _money(found.top_up_total.amount, currency),
             _money(found.top_up_total.bonus, currency), found.sale_total.count,
             _money(found.sale_total.amount, currency), found.refund_total.count,
             _money(found.refund_total.amount, currency), found.reversal_count,
             _money(found.reversal_amount, currency), _money(found.closing.total, currency)]
        )  # fmt: skip
        day += dt.timedelta(days=1)
    days_section = Section(
        _("Days"),
        [_("Day"), _("Top-ups"), _("Paid in"), _("Bonus given"), _("Sales"), _("Sold"),
         _("Refunds"), _("Paid back"), _("Reversals"), _("Reversed"), _("Owed at the end")],
        by_day,
        (2, 3, 5, 7, 9, 10),
    )  # fmt: skip
    sections = [
        days_section,
        *statement_sections(month),
        liability_section(liability_series(first, last), currency),
        *more,
    ]
    made = _file(sections, "xlsx", f"month-{first:%Y-%m}{_scope_name(scope)}", business)
    _audit("month", made, by, {"month": f"{first:%Y-%m}", **scope.filters()})
    return made


def _audit(kind: str, made: File, by: Staff | None, asked: dict[str, object]) -> None:
    audit.record(
        "report.exported",
        f"report:{kind}",
        by=by,
        after={"file": made.filename, **{name: str(value) for name, value in asked.items()}},
    )


def balances_file(
    seen: Standing,
    labels: list[str],
    quiet: Dormant,
    file_format: str,
    *,
    by: Staff | None,
) -> File:
    """Aging, the burn-down and the dormant customers, a sheet each; the first two with
    the moment they were computed."""
    business = Business.get()
    currency = business.currency
    aged, burn = seen.aging, seen.burn
    at = seen.as_of.astimezone(days.zone()).replace(tzinfo=None)
    codes = dict(
        Customer.objects.filter(pk__in=[q.customer_id for q in quiet.largest]).values_list(
            "pk", "code"
        )
    )
    sections = [
        Section(
            _("Aging"),
            [_("Age of the money"), _("Paid balance"), _("Computed at")],
            [
                [label, _money(amount, currency), at]
                for label, amount in zip(labels, aged.amounts, strict=True)
            ],
            (1,),
        ),
        Section(
            _("Burn-down"),
            [_("What"), _("Amount"), _("Computed at")],
            [
                [_("Held (paid and bonus)"), _money(burn.held, currency), at],
                [_("Used within 30 days"), _money(burn.within[0], currency), at],
                [_("Used within 60 days"), _money(burn.within[1], currency), at],
                [_("Used within 90 days"), _money(burn.within[2], currency), at],
                [_("Not used within 90 days"), _money(burn.beyond, currency), at],
                [_("Likely never used"), _money(burn.breakage, currency), at],
            ],
            (1,),
        ),
        Section(
            _("Dormant"),
            [_("Customer"), _("Paid balance"), _("Bonus balance"), _("Last transaction")],
            [
                [
                    codes.get(q.customer_id, ""),
                    _money(q.paid, currency),
                    _money(q.bonus, currency),
                    q.last_seen.replace(tzinfo=None) if q.last_seen else None,
                ]
                for q in quiet.largest
            ],
            (1, 2),
        ),
    ]
    made = _file(sections, file_format, "balances", business)
    _audit("balances", made, by, {"dormant_days": quiet.days})
    return made
