"""Customers with their balances, as an Excel workbook or a CSV file for Excel.

Read-only, apart from the audit entry saying who exported what: an export carries
personal data out of the system, so it is an owner's or manager's act and is recorded.

Text cells that begin with "=", "+", "-" or "@" (or their full-width forms, a tab or a
carriage return) get a leading apostrophe, so a "name" such as ``=HYPERLINK(…)`` typed
at the counter never becomes a formula in the owner's spreadsheet. Balances and dates
are written by prepaid itself as numbers and dates, so they stay numbers (a negative
balance is not neutralised).
CSV is UTF-8 with a byte-order mark: without it Excel shows Chinese names as mojibake.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from prepaid.customers.models import Customer
from prepaid.lib.money import exponent, from_minor
from prepaid.lib.phones import display_phone
from prepaid.reports.customers import with_balances
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business, Staff, Store

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# Full-width forms too: spreadsheets in CJK locales take "＝SUM(…)" as a formula.
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
CHUNK = 2000


class ExportError(ValueError):
    """The export cannot be made as asked; the message says why, translated."""


@dataclass(frozen=True)
class Export:
    content: bytes
    filename: str
    content_type: str
    rows: int


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_STARTS):
        return "'" + value
    return value


def headers() -> list[str]:
    return [
        _("Code"),
        _("Name"),
        _("Phone"),
        _("Email"),
        _("Paid balance"),
        _("Bonus balance"),
        _("Tags"),
        _("Created"),
    ]


def rows(business: Business) -> Iterator[list[object]]:
    """One list per customer, in the order of ``headers``: balances in major units,
    the creation time in the business's time zone."""
    zone = zoneinfo.ZoneInfo(business.time_zone)
    customers = with_balances(Customer.objects.all()).order_by("name", "id")
    for customer in customers.prefetch_related("tags").iterator(chunk_size=CHUNK):
        created = timezone.localtime(customer.created_at, zone)
        yield [
            customer.code,
            customer.name,
            display_phone(customer.phone, business.region),
            customer.email,
            from_minor(customer.paid, business.currency),  # type: ignore[attr-defined]
            from_minor(customer.bonus, business.currency),  # type: ignore[attr-defined]
            ", ".join(sorted(tag.name for tag in customer.tags.all())),
            created.replace(tzinfo=None, microsecond=0),
        ]


def export_customers(
    file_format: str, *, by: Staff | ApiToken | None, store: Store | None = None
) -> Export:
    """Every customer with paid and bonus balance, as ``xlsx`` or ``csv``; recorded in
    the audit trail as ``customers.exported``."""
    business = Business.current()
    if business is None:
        raise ExportError(_("Set up the business first."))
    if file_format not in FORMATS:
        raise ExportError(_("Choose xlsx or csv."))
    writer = _xlsx if file_format == "xlsx" else _csv
    content, count = writer(business)
    audit.record(
        "customers.exported",
        "customers",
        by=by,
        store=store,
        after={"format": file_format, "rows": count},
    )
    day = timezone.localdate(timezone.now(), zoneinfo.ZoneInfo(business.time_zone))
    return Export(
        content, f"customers-{day.isoformat()}.{file_format}", FORMATS[file_format], count
    )


def _xlsx(business: Business) -> tuple[bytes, int]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Customers"))
    sheet.append(headers())
    places = exponent(business.currency)
    money = "#,##0" + ("." + "0" * places if places else "")
    count = 0
    for values in rows(business):
        sheet.append([_xlsx_cell(sheet, value, money) for value in values])
        count += 1
    output = io.BytesIO()
    book.save(output)
    return output.getvalue(), count


def _xlsx_cell(sheet: object, value: object, money: str) -> object:
    """Balances and times as formatted numbers and dates; text neutralised."""
    if isinstance(value, Decimal | dt.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = money if isinstance(value, Decimal) else "yyyy-mm-dd hh:mm"
        return cell
    return neutralise(value)


def _csv(business: Business) -> tuple[bytes, int]:
    output = io.StringIO()
    output.write("\ufeff")  # the byte-order mark that makes Excel read UTF-8
    writer = csv.writer(output)
    writer.writerow(headers())
    count = 0
    for values in rows(business):
        writer.writerow([_csv_cell(value) for value in values])
        count += 1
    return output.getvalue().encode("utf-8"), count


def _csv_cell(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return neutralise(value)
