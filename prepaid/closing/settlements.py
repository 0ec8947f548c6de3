"""Reconciling a payment method with its provider's settlement file.

1. ``upload`` reads the file (XLSX or CSV, with the customer import's reader:
   ``sales.importing``), at most ``MAX_UPLOAD_BYTES`` and ``MAX_ROWS``, finds its header
   row and guesses which column holds what (``detect``); the sheet waits on the
   ``Settlement`` row until a person confirms the columns.
2. ``apply`` reads every row under the mapping — the date and time (one column, or a
   date and a time column), the amount (negative for money given back), the reference —
   and refuses the whole file, naming the rows, if any cannot be read. Then it writes
   the lines and matches them to our top-ups and refunds of that method in the file's
   days (``matching``; our transactions that were reversed are left out: the provider
   voided them too), and lets the sheet go.
3. ``report`` shows what matched, what is left on our side and on theirs; ``resolve``
   lets a person explain a line left over, with a note. Both are audited.

The matched lines' total over a close's transactions is the settled amount the close
proposes for that method (``matched_total``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.db import models, transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils.datetime import from_excel

from prepaid.closing import matching
from prepaid.closing.models import Resolution, Settlement, SettlementLine
from prepaid.closing.spans import Place, Span
from prepaid.ledger.models import Batch, PaymentMethod, Transfer
from prepaid.reports import days
from prepaid.sales import importing
from prepaid.sales.importing.cleaning import MONTH_FIRST, InvalidCell
from prepaid.staff import audit
from prepaid.staff.models import Business, Staff, Store
from prepaid.staff.refusals import Refusal

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS = 20
MAX_WINDOW_MINUTES = 24 * 60


class Column(models.TextChoices):
    MOMENT = "moment", gettext_lazy("Date (and time)")
    TIME = "time", gettext_lazy("Time")
    AMOUNT = "amount", gettext_lazy("Amount")
    REFERENCE = "reference", gettext_lazy("Reference")


Mapping = dict[str, int]  # column value → column index

# Headers of providers' files, as ``importing.header_key`` leaves them.
HEADERS: dict[Column, tuple[str, ...]] = {
    Column.MOMENT: (
        *("date", "datetime", "dateandtime", "transactiondate", "transactiondatetime"),
        *("transactiontime", "createdat", "paidat", "paymentdate", "settlementdate", "datum"),
        *("transactiedatum", "betaaldatum", "日期", "交易日期", "交易时间", "支付时间", "时间戳"),
    ),
    Column.TIME: ("time", "tijd", "tijdstip", "时间"),
    Column.AMOUNT: (
        *("amount", "grossamount", "gross", "transactionamount", "total", "bedrag", "totaal"),
        *("金额", "交易金额", "订单金额", "支付金额"),
    ),
    Column.REFERENCE: (
        *("reference", "ref", "referencenumber", "referenceno", "transactionid", "id"),
        *("transactionreference", "transactionno", "slip", "slipnumber", "approvalcode"),
        *("authcode", "merchantreference", "referentie", "kenmerk", "transactienummer"),
        *("参考号", "交易单号", "订单号", "流水号", "商户单号", "交易号"),
    ),
}
KNOWN = {alias: column for column, aliases in HEADERS.items() for alias in aliases}


class SettlementProblem(importing.ImportProblem):
    """The file cannot be used as it is; ``rows`` names the rows at fault."""

    def __init__(self, message: str, rows: list[str] | None = None) -> None:
        super().__init__(message)
        self.rows = rows or []


# -- 1. reading the file ---------------------------------------------------------------


def upload(
    source: IO[bytes],
    name: str,
    *,
    size: int,
    method: PaymentMethod,
    first_day: dt.date,
    last_day: dt.date,
    store: Store | None,
    window_minutes: int,
    by: Staff,
) -> Settlement:
    """Read the file and keep it, with the guessed columns, until they are confirmed."""
    if size > MAX_UPLOAD_BYTES:
        raise SettlementProblem(_("The file is larger than 5 MB."))
    if last_day < first_day:
        raise SettlementProblem(_("The last day comes before the first."))
    if not 0 <= window_minutes <= MAX_WINDOW_MINUTES:
        raise SettlementProblem(_("The time window is 0 to 1440 minutes."))
    business = Business.get()
    # Stricter than a customer sheet: a day's payments. Blank rows between them count
    # towards the row number the reader stops at, hence the room.
    limits = importing.Limits.of_settings(file_bytes=MAX_UPLOAD_BYTES, rows=2 * MAX_ROWS)
    sheet = importing.read(source, name, region=business.region, limits=limits)
    headers, rows = _header_and_rows(sheet)
    if len(rows) > MAX_ROWS:
        raise SettlementProblem(
            _("The file has more than %(count)s rows; split it by days.") % {"count": MAX_ROWS}
        )
    return Settlement.objects.create(
        method=method,
        store=store,
        first_day=first_day,
        last_day=last_day,
        window_minutes=window_minutes,
        file_name=name[:255],
        sheet={
            "headers": headers,
            "rows": [[n, [_to_json(c) for c in cells]] for n, cells in rows],
        },
        mapping=detect(headers),
        imported_by=by,
    )


def _header_and_rows(
    sheet: importing.Sheet,
) -> tuple[list[str], list[tuple[int, tuple[object, ...]]]]:
    """The header row: the first of the first ten rows with two known headers (else the
    first row), and the rows below it."""
    every = [(sheet.header_row, tuple(sheet.headers)), *sheet.rows]
    for index, (_number, cells) in enumerate(every[:10]):
        if sum(1 for cell in cells if _known(importing.text_of(cell))) >= 2:
            width = max(len(row) for _n, row in every[index:])
            headers = [importing.text_of(cell) for cell in every[index][1]]
            return headers + [""] * (width - len(headers)), every[index + 1 :]
    return list(sheet.headers), list(sheet.rows)


def _known(header: str) -> Column | None:
    return KNOWN.get(importing.header_key(header))


def detect(headers: list[str]) -> Mapping:
    """The columns recognised by their headers; a lone time column is the date's."""
    mapping: Mapping = {}
    for index, header in enumerate(headers):
        column = _known(header)
        if column is not None and column.value not in mapping:
            mapping[column.value] = index
    if Column.MOMENT.value not in mapping and Column.TIME.value in mapping:
        mapping[Column.MOMENT.value] = mapping.pop(Column.TIME.value)
    return mapping


def _to_json(cell: object) -> object:
    for kind in (datetime, dt.date, dt.time):
        if isinstance(cell, kind):
            return {kind.__name__: cell.isoformat()}
    if isinstance(cell, Decimal):
        return {"decimal": str(cell)}
    return cell


def _from_json(value: object) -> object:
    if not isinstance(value, dict):
        return value
    kind, text = next(iter(value.items()))
    parse = {
        "datetime": datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "decimal": Decimal,
    }
    return parse[kind](text)


def sheet_of(settlement: Settlement) -> tuple[list[str], list[tuple[int, list[object]]]]:
    """The waiting sheet: headers, and rows with their numbers in the file."""
    sheet = settlement.sheet or {"headers": [], "rows": []}
    rows = [(int(n), [_from_json(cell) for cell in cells]) for n, cells in sheet["rows"]]
    return list(sheet["headers"]), rows


# -- 2. reading the rows, matching -----------------------------------------------------


@dataclass(frozen=True)
class Read:
    row: int
    occurred_at: datetime
    has_time: bool
    amount_minor: int
    reference: str


def chosen(settlement: Settlement, mapping: Mapping) -> Mapping:
    """The fields of ``mapping`` that name a column of the sheet. A form may send
    anything: a negative index would read another column from the end, silently."""
    width = len(sheet_of(settlement)[0])
    names = {column.value for column in Column}
    return {
        name: index
        for name, index in mapping.items()
        if name in names and isinstance(index, int) and 0 <= index < width
    }


def read_rows(settlement: Settlement, mapping: Mapping) -> list[Read]:
    """Every row under ``mapping``; ``SettlementProblem`` naming the unreadable ones."""
    mapping = chosen(settlement, mapping)
    if Column.MOMENT.value not in mapping or Column.AMOUNT.value not in mapping:
        raise SettlementProblem(_("Choose the column of the date and the column of the amount."))
    if len(set(mapping.values())) != len(mapping):
        raise SettlementProblem(_("Choose a different column for each field."))
    business = Business.get()
    zone = days.zone()
    found, errors = [], []
    for number, cells in sheet_of(settlement)[1]:

        def cell(column: Column, cells: list[object] = cells) -> object:
            index = mapping.get(column.value)
            return cells[index] if index is not None and index < len(cells) else None

        try:
            moment, has_time = parse_moment(
                cell(Column.MOMENT), cell(Column.TIME), zone=zone, region=business.region
            )
            amount = importing.parse_amount(cell(Column.AMOUNT), business.currency)
        except InvalidCell as problem:
            errors.append(_("Row %(row)s: %(problem)s") % {"row": number, "problem": problem})
            continue
        reference = importing.text_of(cell(Column.REFERENCE))[:100]
        found.append(Read(number, moment, has_time, amount, reference))
    if errors:
        message = _("%(count)s rows cannot be read; nothing was imported.") % {"count": len(errors)}
        raise SettlementProblem(message, errors[:MAX_ERRORS])
    if not found:
        raise SettlementProblem(_("The file has no rows."))
    return found


@transaction.atomic
def apply(settlement: Settlement, mapping: Mapping, *, by: Staff) -> Settlement:
    """Write the file's lines under ``mapping`` and match them; see the module docstring."""
    settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if settlement.state != Settlement.State.MAPPING:
        return settlement  # a second click: already done
    mapping = chosen(settlement, mapping)
    read = read_rows(settlement, mapping)
    lines = SettlementLine.objects.bulk_create(
        SettlementLine(
            settlement=settlement,
            row=row.row,
            occurred_at=row.occurred_at,
            has_time=row.has_time,
            amount_minor=row.amount_minor,
            reference=row.reference,
        )
        for row in read
    )
    zone = days.zone()
    theirs = [
        matching.Theirs(
            line.pk,
            line.occurred_at,
            line.occurred_at.astimezone(zone).date(),
            line.has_time,
            line.amount_minor,
            line.reference,
        )
        for line in lines
    ]
    mine = [o.matchable for o in ours(settlement) if o.line is None]
    window = timedelta(minutes=settlement.window_minutes)
    found = matching.match(theirs, mine, window=window)
    by_id = {line.pk: line for line in lines}
    for line_id, (batch_id, rule) in found.pairs.items():
        by_id[line_id].batch_id, by_id[line_id].rule = batch_id, rule
    SettlementLine.objects.bulk_update([by_id[pk] for pk in found.pairs], ["batch", "rule"])
    settlement.state, settlement.sheet, settlement.mapping = Settlement.State.MATCHED, None, mapping
    settlement.save(update_fields=["state", "sheet", "mapping"])
    audit.record(
        "settlement.imported",
        f"settlement:{settlement.pk}",
        by=by,
        store=settlement.store,
        after={
            "file": settlement.file_name,
            "method": settlement.method.code,
            "days": [settlement.first_day.isoformat(), settlement.last_day.isoformat()],
            "lines": len(lines),
            "matched": len(found.pairs),
        },
    )
    return settlement


# -- dates and times as providers write them ----------------------------------------------

TIME = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?"
YMD = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?:[ T]+{TIME})?")
DMY = re.compile(rf"(\d{{1,2}})[-/.](\d{{1,2}})[-/.](\d{{4}})(?:[ T]+{TIME})?")
CLOCK = re.compile(TIME)


def parse_moment(
    cell: object, time_cell: object, *, zone: ZoneInfo, region: str
) -> tuple[datetime, bool]:
    """When a line happened, in the shop's zone unless the file says otherwise, and
    whether the file gave a time at all; ``InvalidCell`` if the cells cannot be read."""
    shown = importing.text_of(cell)
    try:
        moment, has_time = _moment(cell, shown, region)
        if time_cell is not None and importing.text_of(time_cell):
            clock = _clock(time_cell)
            moment, has_time = datetime.combine(moment.date(), clock, moment.tzinfo), True
    except (ValueError, OverflowError, TypeError):
        message = _("“%(value)s” is not a date and time.")
        raise InvalidCell(message % {"value": shown or importing.text_of(time_cell)}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment, has_time


def _moment(cell: object, shown: str, region: str) -> tuple[datetime, bool]:
    if isinstance(cell, datetime):
        return cell, cell.time() != dt.time()
    if isinstance(cell, dt.date):
        return datetime(cell.year, cell.month, cell.day), False
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        moment = from_excel(cell)
        if not isinstance(moment, datetime):
            raise ValueError(shown)
        return moment, cell != int(cell)
    text = shown.strip()
    try:
        return datetime.fromisoformat(text), bool(CLOCK.search(text))
    except ValueError:
        pass
    if match := YMD.fullmatch(text):
        year, month, day, *clock = match.groups()
    elif match := DMY.fullmatch(text):
        first, second, year, *clock = match.groups()
        month_first = region in MONTH_FIRST
        if int(first) > 12 or int(second) > 12:
            month_first = int(second) > 12
        month, day = (first, second) if month_first else (second, first)
    else:
        raise ValueError(text)
    hour, minute, second_text, meridiem = clock
    day_start = datetime(int(year), int(month), int(day))
    if hour is None:
        return day_start, False
    return datetime.combine(day_start.date(), _time(hour, minute, second_text, meridiem)), True


def _clock(cell: object) -> dt.time:
    if isinstance(cell, datetime):
        return cell.time()
    if isinstance(cell, dt.time):
        return cell
    if isinstance(cell, float) and 0 <= cell < 1:  # Excel: a fraction of a day
        return (datetime(2000, 1, 1) + timedelta(seconds=round(cell * 86400))).time()
    match = CLOCK.fullmatch(importing.text_of(cell))
    if match is None:
        raise ValueError(cell)
    return _time(*match.groups())


def _time(hour: str, minute: str, second: str | None, meridiem: str | None) -> dt.time:
    value = int(hour) % 12 + (12 if meridiem.lower() == "pm" else 0) if meridiem else int(hour)
    return dt.time(value, int(minute), int(second or 0))


# -- 3. what matched, what is left --------------------------------------------------------


@dataclass(frozen=True)
class OurTransaction:
    """One of our top-ups (positive) or refunds (negative) of the settlement's method."""

    batch_id: int
    code: str
    created_at: datetime
    amount_minor: int
    reference: str
    store_name: str
    line: SettlementLine | None = None  # the line it matched, in this settlement
    resolution: Resolution | None = None

    @property
    def matchable(self) -> matching.Ours:
        day = self.created_at.astimezone(days.zone()).date()
        return matching.Ours(self.batch_id, self.created_at, day, self.amount_minor, self.reference)


def ours(settlement: Settlement) -> list[OurTransaction]:
    """Our transactions of the settlement's method, days and store, not reversed and not
    matched by another settlement, with this settlement's match or resolution."""
    start, end = days.bounds(settlement.first_day)[0], days.bounds(settlement.last_day)[1]
    span: dict[str, Any] = {"batch__created_at__gte": start, "batch__created_at__lt": end}
    if settlement.store_id is not None:
        span["batch__store_id"] = settlement.store_id
    # Not reversed — unless this file matched it before it was reversed (a chargeback
    # comes later): its line stays matched, and the report keeps the file's total.
    kept = Q(batch__reversed_by__isnull=True) | Q(batch__settlement_line__settlement=settlement)
    fields = ("batch_id", "batch__code", "batch__created_at", "amount", "batch__reference")
    paid_in = (
        Transfer.objects.filter(
            code=Transfer.Code.TOP_UP,
            batch__code=Batch.Code.TOP_UP,
            debit_account__payment_method=settlement.method,
            **span,
        )
        .filter(kept)
        .values_list(*fields, "batch__store__name")
    )
    paid_back = (
        Transfer.objects.filter(
            code=Transfer.Code.REFUND,
            batch__code=Batch.Code.REFUND,
            credit_account__payment_method=settlement.method,
            **span,
        )
        .filter(kept)
        .values_list(*fields, "batch__store__name")
    )
    matched = SettlementLine.objects.filter(settlement__method=settlement.method, **span)
    lines = {line.batch_id: line for line in matched}
    resolutions = {r.batch_id: r for r in settlement.resolutions.filter(batch__isnull=False)}
    found = []
    for sign, rows in ((1, paid_in), (-1, paid_back)):
        for batch_id, code, created_at, amount, reference, store_name in rows:
            line = lines.get(batch_id)
            if line is not None and line.settlement_id != settlement.pk:
                continue  # another settlement's
            found.append(
                OurTransaction(
                    batch_id,
                    code,
                    created_at,
                    sign * amount,
                    reference,
                    store_name,
                    line,
                    resolutions.get(batch_id),
                )
            )
    return sorted(found, key=lambda o: (o.created_at, o.batch_id))


@dataclass(frozen=True)
class Report:
    settlement: Settlement
    matched: list[tuple[SettlementLine, OurTransaction]]
    ours_left: list[OurTransaction]
    theirs_left: list[SettlementLine]
    differing: dict[int, int]  # line id → batch id: same reference, other amount

    @property
    def file_total(self) -> int:
        return sum(line.amount_minor for line, _o in self.matched) + sum(
            line.amount_minor for line in self.theirs_left
        )

    @property
    def matched_total(self) -> int:
        return sum(line.amount_minor for line, _o in self.matched)

    @property
    def ours_left_total(self) -> int:
        return sum(o.amount_minor for o in self.ours_left)

    @property
    def theirs_left_total(self) -> int:
        return sum(line.amount_minor for line in self.theirs_left)

    @property
    def open_count(self) -> int:
        """Lines left over that nobody has explained yet."""
        unexplained = [o for o in self.ours_left if o.resolution is None]
        return len(unexplained) + sum(1 for line in self.theirs_left if not _resolved(line))


def _resolved(line: SettlementLine) -> bool:
    return getattr(line, "resolution", None) is not None


def report(settlement: Settlement) -> Report:
    """What matched, and what is left on either side (with its resolution, if any)."""
    mine = ours(settlement)
    by_batch = {o.batch_id: o for o in mine}
    lines = list(settlement.lines.select_related("resolution__resolved_by").all())
    matched = [(line, by_batch[line.batch_id]) for line in lines if line.batch_id in by_batch]
    theirs_left = [line for line in lines if line.batch_id is None]
    ours_left = [o for o in mine if o.line is None]
    references = {o.reference.strip().casefold(): o for o in ours_left if o.reference.strip()}
    differing = {
        line.pk: references[key].batch_id
        for line in theirs_left
        if (key := line.reference.strip().casefold()) in references
    }
    return Report(settlement, matched, ours_left, theirs_left, differing)


@transaction.atomic
def resolve(
    settlement: Settlement,
    *,
    note: str,
    by: Staff,
    line_id: int | None = None,
    batch_id: int | None = None,
) -> Resolution:
    """Explain a line left over, theirs (``line_id``) or ours (``batch_id``)."""
    note = note.strip()
    if not note:
        raise Refusal("note_empty", field="note")
    if len(note) > 500:
        raise Refusal("validation_error", field="note", detail=_("At most 500 characters."))
    line = None
    if line_id is not None:
        line = settlement.lines.filter(pk=line_id, batch__isnull=True).first()
        if line is None or _resolved(line):
            raise Refusal("not_found", what=_("line left over"))
    elif batch_id is None or not any(
        o.batch_id == batch_id and o.line is None and o.resolution is None for o in ours(settlement)
    ):
        raise Refusal("not_found", what=_("transaction left over"))
    made = Resolution.objects.create(
        settlement=settlement,
        line=line,
        batch_id=None if line else batch_id,
        note=note,
        resolved_by=by,
    )
    audit.record(
        "settlement.resolved",
        f"settlement:{settlement.pk}",
        by=by,
        store=settlement.store,
        after={"line": line.row if line else None, "transaction": made.batch_id, "note": note},
    )
    return made


def matched_total(method: PaymentMethod, place: Place, span: Span) -> int | None:
    """What matched settlement lines say ``method`` brought in from ``place``'s
    transactions in ``span``; None when no line matched any of them."""
    where = {f"batch__{name}": value for name, value in place.scope.filters().items()}
    found = SettlementLine.objects.filter(
        settlement__method=method,
        batch__created_at__gte=span.starts_at,
        batch__created_at__lt=span.ends_at,
        **where,
    ).aggregate(total=Sum("amount_minor"), lines=Count("id"))
    return int(found["total"]) if found["lines"] else None


def pending_matches(settlement: Settlement) -> dict[str, Any]:
    """Counts for the list of settlement files."""
    left = report(settlement)
    return {"matched": len(left.matched), "open": left.open_count}
