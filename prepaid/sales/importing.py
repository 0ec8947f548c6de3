"""Importing customers from a spreadsheet (XLSX or CSV): read → map → plan → commit.

The first user keeps customers and balances in an Excel sheet; this turns that sheet into
customers with cards and opening balances, from the back office or ``prepaid import``.

1. ``read`` opens the file and finds the header row: the first of the first ten rows in
   which at least two cells are known headers, so a title row above it is passed over.
   Empty rows are dropped; row numbers stay those the spreadsheet shows.
2. ``detect`` maps columns to fields by their headers, in English, Chinese and Dutch;
   the person may change it (``mapping_of``).
3. ``plan`` reads every row under the mapping, cleans its values (phone numbers that
   lost their leading zero, "1.234,50", Excel date serials…), matches it to an existing
   customer — by code, then phone, then email; a row with none of these by its name —
   and decides what will happen: create, update or skip, or lists why it cannot.
4. ``commit`` plans again and, only when no row has an error, writes the whole file in
   one transaction: all of it or nothing.

Opening balances are OPENING transfers from the store's opening-balances house account to
the customer's wallet, one batch per customer under the key ``opening:<code>``. Keys are
unique forever: importing the same file twice posts nothing twice, and another amount for
the same customer is a row error ("already imported"), never a second posting.

Speed (100,000 rows within a minute): existing customers and past openings are fetched up
front by a few ``IN`` queries, never a query per row. New customers — nearly every row of
a first import — are written in bulk by ``_register_many`` and ``_open_new_wallets``,
which keep what ``customers.services.register`` and ``ledger.services.post`` keep
(search columns, name keys, a first card, the audit entry; one batch and transfer per
customer, cached totals equal to them). Existing customers go one by one through
``customers.services.update`` and ``ledger.services.post``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import io
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, TypeVar
from xml.etree.ElementTree import ParseError

import openpyxl
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.xml.functions import iterparse  # openpyxl's parser: defusedxml if set up

from prepaid.customers import services as customers
from prepaid.customers.models import Card, Customer, NameKey, Tag
from prepaid.ledger import services as ledger
from prepaid.ledger.errors import LedgerError
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.lib.codes import new_code, new_token, normalize_code
from prepaid.lib.money import MoneyError, exponent, format_money, to_minor
from prepaid.lib.phones import PhoneError, display_phone, normalize_phone, searchable_digits
from prepaid.lib.text import fold, name_keys
from prepaid.staff import audit
from prepaid.staff.models import AuditEvent, Business

T = TypeVar("T")
Progress = Callable[[str, int, int], None]  # (stage, done, total): "read", "check", "write"

HEADER_SEARCH_ROWS = 10
MAX_COLUMNS = 60
IN_CHUNK = 5000  # values per IN (…) query, at most (SQLite allows fewer)
WRITE_CHUNK = 2000
PROGRESS_EVERY = 10_000
# Regions that write dates month first (05/17/1990); the others write the day first.
MONTH_FIRST = frozenset({"US", "PH", "CA", "FM", "MH", "PW", "GU", "AS", "MP", "PR", "VI"})
CHINESE_REGIONS = frozenset({"CN", "TW", "HK", "MO", "SG"})
FIRST_BIRTH_YEAR = 1900
NEUTRALISED = ("=", "+", "-", "@")  # exports put an apostrophe before these


class Field(models.TextChoices):
    CODE = "code", gettext_lazy("Code")
    NAME = "name", gettext_lazy("Name")
    PHONE = "phone", gettext_lazy("Phone")
    EMAIL = "email", gettext_lazy("Email")
    BALANCE = "balance", gettext_lazy("Opening balance")
    NOTES = "notes", gettext_lazy("Notes")
    ADDRESS = "address", gettext_lazy("Address")
    BIRTHDAY = "birthday", gettext_lazy("Birthday")
    TAGS = "tags", gettext_lazy("Tags")


class Action(models.TextChoices):
    CREATE = "create", gettext_lazy("Create")
    UPDATE = "update", gettext_lazy("Update")
    SKIP = "skip", gettext_lazy("Skip")
    ERROR = "error", gettext_lazy("Error")


Mapping = dict[Field, int]  # field → column index (0 = column A)

# Known headers, written as ``header_key`` leaves them: folded, letters and digits only.
HEADERS: dict[Field, tuple[str, ...]] = {
    Field.CODE: ("code", "customercode", "klantcode", "编号", "客户编号", "会员编号", "会员号"),
    Field.NAME: (
        *("name", "fullname", "customer", "customername", "naam", "klant", "klantnaam"),
        *("姓名", "名字", "客户", "客户姓名", "客户名称", "会员", "会员姓名", "顾客"),
    ),
    Field.PHONE: (
        *("phone", "phonenumber", "mobile", "mobilenumber", "mobilephone", "cellphone"),
        *("cell", "tel", "telephone", "contactnumber", "telefoon", "telefoonnummer"),
        *("mobiel", "mobielnummer", "gsm", "电话", "手机", "手机号", "手机号码", "电话号码"),
        *("联系电话", "联系方式"),
    ),
    Field.EMAIL: ("email", "emailaddress", "mail", "emailadres", "邮箱", "电子邮件", "电子邮箱"),
    Field.BALANCE: (
        *("balance", "openingbalance", "currentbalance", "amount", "saldo", "tegoed"),
        *("beginsaldo", "余额", "金额", "储值", "储值余额", "卡内余额"),
    ),
    Field.NOTES: (
        *("notes", "note", "remarks", "remark", "comments", "comment", "opmerkingen"),
        *("opmerking", "notities", "notitie", "备注", "说明"),
    ),
    Field.ADDRESS: ("address", "adres", "地址", "住址"),
    Field.BIRTHDAY: (
        *("birthday", "birthdate", "dateofbirth", "dob", "geboortedatum", "verjaardag"),
        *("生日", "出生日期"),
    ),
    Field.TAGS: ("tags", "tag", "labels", "label", "group", "groep", "标签", "分组"),
}
KNOWN_HEADERS = {alias: name for name, aliases in HEADERS.items() for alias in aliases}


class ImportProblem(ValueError):
    """The file cannot be imported as it is; the message says why, translated. Nothing
    has been written."""


class RowErrors(ImportProblem):
    """Rows of the plan have errors; the plan lists them. Nothing has been written."""

    def __init__(self, planned: Plan) -> None:
        count = len(planned.error_rows)
        super().__init__(
            _("%(count)s rows have errors; nothing was imported. Fix them and try again.")
            % {"count": count}
        )
        self.plan = planned


class _Invalid(ValueError):
    """A cell that cannot be used; the message is the row's error."""


# -- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """The header and the non-empty rows below it, cells as the file holds them."""

    name: str
    headers: list[str]
    header_row: int  # row number as the spreadsheet shows it (1 is the first)
    rows: list[tuple[int, tuple[object, ...]]]
    recognised: bool  # False: no known headers, the first row was taken as the header

    def samples(self, column: int, count: int = 3) -> list[str]:
        """The first few non-empty values of a column, for choosing its field."""
        found: list[str] = []
        for _number, cells in self.rows:
            if column < len(cells) and (text := text_of(cells[column])):
                found.append(text)
                if len(found) == count:
                    break
        return found


def read(
    source: IO[bytes], name: str, *, region: str = "", progress: Progress | None = None
) -> Sheet:
    """The sheet in an uploaded XLSX or CSV file; ``ImportProblem`` if it cannot be read."""
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _sheet(name, _xlsx_rows(source), progress)
    if suffix in (".csv", ".txt", ".tsv"):
        return _sheet(name, _csv_rows(source.read(), region), progress)
    if suffix == ".xls":
        raise ImportProblem(
            _("Old .xls files cannot be read; save the sheet as .xlsx or .csv first.")
        )
    raise ImportProblem(_("Choose an Excel workbook (.xlsx) or a CSV file."))


def read_path(path: Path, *, region: str = "", progress: Progress | None = None) -> Sheet:
    with path.open("rb") as source:
        return read(source, path.name, region=region, progress=progress)


def _xlsx_rows(source: IO[bytes]) -> Iterator[tuple[object, ...]]:
    unreadable = _("This file is not an Excel workbook (.xlsx) that can be read.")
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise ImportProblem(unreadable) from error
    try:
        sheet = book.worksheets[0]
        if hasattr(book, "_date_formats") and hasattr(sheet, "_get_source"):
            yield from _sheet_xml_rows(book, sheet)
        else:  # another openpyxl than the one pinned: its own, slower way
            sheet.reset_dimensions()  # some writers record a wrong size; read all there is
            for row in sheet.iter_rows(values_only=True):
                yield tuple(row[:MAX_COLUMNS])
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, ParseError) as error:
        raise ImportProblem(unreadable) from error
    finally:
        book.close()


SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CELL, ROW, VALUE = f"{SHEET_NS}c", f"{SHEET_NS}row", f"{SHEET_NS}v"
INLINE, TEXT, RUN = f"{SHEET_NS}is", f"{SHEET_NS}t", f"{SHEET_NS}r"


def _sheet_xml_rows(book: Any, sheet: Any) -> Iterator[tuple[object, ...]]:
    """The first sheet's rows straight from its XML, empty rows included, so that row
    numbers are the spreadsheet's.

    openpyxl's ``iter_rows`` builds a dictionary per cell and passes it through several
    generators: 12 of the 60 seconds a 100,000-row import may take. This loop reads the
    same XML with openpyxl's shared strings and date styles in a third of the time.
    """
    shared, dates, epoch = book.shared_strings, book._date_formats, book.epoch
    cells: dict[int, object] = {}
    next_column, next_row = 0, 1
    with sheet._get_source() as source:
        for _event, element in iterparse(source):
            if element.tag == CELL:
                reference = element.get("r")
                column = _column_index(reference) if reference else next_column
                next_column = column + 1
                value = _cell_value(element, shared, dates, epoch)
                if value is not None and column < MAX_COLUMNS:
                    cells[column] = value
            elif element.tag == ROW:
                number = int(element.get("r") or next_row)
                yield from [()] * (number - next_row)  # rows the file leaves out
                yield tuple(cells.get(index) for index in range(max(cells, default=-1) + 1))
                cells, next_column, next_row = {}, 0, number + 1
                element.clear()


def _column_index(reference: str) -> int:
    return int(column_index_from_string(reference.rstrip("0123456789"))) - 1


def _cell_value(element: Any, shared: Sequence[object], dates: Any, epoch: dt.datetime) -> object:
    """What openpyxl's reader makes of a cell (data_only: a formula gives its result)."""
    kind = element.get("t", "n")
    if kind == "inlineStr":
        inline = element.find(INLINE)
        if inline is None:
            return None
        runs = [
            inline.findtext(TEXT) or "",
            *(run.findtext(TEXT) or "" for run in inline.iter(RUN)),
        ]
        return "".join(runs)
    text = element.findtext(VALUE)
    if not text:  # no value, or a formula never calculated
        return None
    if kind == "n":
        number: int | float = float(text) if any(mark in text for mark in ".eE") else int(text)
        style = element.get("s")
        if style and int(style) in dates:
            try:
                return from_excel(number, epoch)
            except (OverflowError, ValueError):
                return number
        return number
    if kind == "s":
        return shared[int(text)]
    if kind == "b":
        return text == "1"
    if kind == "d":
        return from_ISO8601(text)
    return text  # "str": a formula's text result; "e": an error such as #N/A


def _csv_rows(data: bytes, region: str) -> Iterator[tuple[object, ...]]:
    text = _decode(data, region)
    delimiter = _delimiter(text.splitlines()[:30])
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield tuple(row[:MAX_COLUMNS])
    except csv.Error as error:
        message = _("This CSV file cannot be read: %(reason)s")
        raise ImportProblem(message % {"reason": error}) from error


def _decode(data: bytes, region: str) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM), UTF-16 ("Unicode text"), or the
    Windows encoding of the shop's part of the world (GBK for Chinese Excel)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    local = ("gb18030", "cp1252") if region in CHINESE_REGIONS else ("cp1252", "gb18030")
    for encoding in ("utf-8-sig", *local):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _delimiter(lines: list[str]) -> str:
    """The separator that splits most lines into the same number of cells: Dutch and
    German Excel write ";" because the comma is their decimal mark."""
    best, best_score = ",", (0, 0)
    for candidate in ",;\t|":
        counts = Counter(line.count(candidate) for line in lines if candidate in line)
        if counts:
            width, lines_with = counts.most_common(1)[0]
            if (lines_with, width) > best_score:
                best, best_score = candidate, (lines_with, width)
    return best


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _trim(cells: tuple[object, ...]) -> tuple[object, ...]:
    end = len(cells)
    while end and _blank(cells[end - 1]):
        end -= 1
    return cells[:end]


def _sheet(name: str, table: Iterable[tuple[object, ...]], progress: Progress | None) -> Sheet:
    rows: list[tuple[int, tuple[object, ...]]] = []
    for number, cells in enumerate(table, start=1):
        if trimmed := _trim(cells):
            rows.append((number, trimmed))
        if progress and number % PROGRESS_EVERY == 0:
            progress("read", number, 0)
    if not rows:
        raise ImportProblem(_("The file has no rows."))
    found = _header_index(rows)
    index = found or 0
    number, cells = rows[index]
    width = max(len(row) for _number, row in rows[index:])
    headers = [text_of(cell) for cell in cells] + [""] * (width - len(cells))
    return Sheet(name, headers, number, rows[index + 1 :], recognised=found is not None)


def _header_index(rows: list[tuple[int, tuple[object, ...]]]) -> int | None:
    for index, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        known = sum(1 for cell in cells if header_field(text_of(cell)) is not None)
        if known >= 2:
            return index
    return None


# -- mapping ----------------------------------------------------------------------------


def header_key(header: str) -> str:
    """ "Phone (mobile)", "E-mail ", "手机号码（必填）" → "phone", "email", "手机号码"."""
    without_notes = re.sub(r"[(（\[【].*?[)）\]】]", "", header)
    return "".join(ch for ch in fold(without_notes) if ch.isalnum())


def header_field(header: str) -> Field | None:
    return KNOWN_HEADERS.get(header_key(header))


def detect(headers: Sequence[str]) -> Mapping:
    """Fields recognised by their headers; the first column wins when two say the same."""
    mapping: Mapping = {}
    for column, header in enumerate(headers):
        found = header_field(header)
        if found is not None and found not in mapping:
            mapping[found] = column
    return mapping


def mapping_of(choices: Sequence[str]) -> Mapping:
    """The mapping from one choice per column ("" leaves the column out)."""
    mapping: Mapping = {}
    for column, choice in enumerate(choices):
        if not choice:
            continue
        if choice not in Field.values:
            raise ImportProblem(_("Unknown field %(name)s.") % {"name": choice})
        chosen = Field(choice)
        if chosen in mapping:
            raise ImportProblem(
                _("%(field)s is chosen for two columns; choose it once.") % {"field": chosen.label}
            )
        mapping[chosen] = column
    return mapping


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def find_column(sheet: Sheet, reference: str) -> int:
    """A column by its letter ("B"), its number ("2") or its header ("Telefoon")."""
    wanted = reference.strip()
    for index, header in enumerate(sheet.headers):
        if wanted.upper() == column_letter(index) or wanted == str(index + 1):
            return index
        if header and header_key(header) == header_key(wanted):
            return index
    raise ImportProblem(_("The sheet has no column %(name)s.") % {"name": reference})


# -- cleaning cells -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """How the shop writes money and phone numbers."""

    currency: str
    region: str

    @classmethod
    def of_business(cls) -> Rules:
        business = Business.current()
        if business is None:
            raise ImportProblem(_("Set up the business before importing customers."))
        return cls(business.currency, business.region)

    def money(self, amount_minor: int) -> str:
        return format_money(amount_minor, self.currency, get_language() or "en", region=self.region)


@dataclass
class Values:
    """A row's cells, cleaned; empty means "not in the sheet"."""

    code: str = ""
    name: str = ""
    phone: str = ""  # E.164
    email: str = ""
    address: str = ""
    notes: str = ""
    birthday: dt.date | None = None
    tags: list[str] = field(default_factory=list)
    opening_minor: int = 0


def text_of(cell: object) -> str:
    """A cell as text: whole numbers without ".0", dates in ISO form, spaces trimmed,
    without the apostrophe that an export puts before text starting with "=", "+"…"""
    if cell is None:
        return ""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(" ")
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    text = str(cell).strip()
    if text[:1] == "'" and text[1:2] in NEUTRALISED:
        return text[1:]  # an export's apostrophe before "=", "+"…: the text is what follows
    return text


def _amount_text(text: str, places: int) -> Decimal:
    """ "₱1,234.50", "€ 1.234,50", "12,50", "(5.00)", "1 234,5 EUR" → Decimal."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Sc")
    text = re.sub(r"^\s*([A-Za-z]{3}|元|块)|([A-Za-z]{3}|元|块)\s*$", "", text).strip()
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").replace("'", "")
    text = "".join(ch for ch in text if not ch.isspace())
    if not re.fullmatch(r"[-+]?\d[\d.,]*", text):
        raise InvalidOperation(text)
    sign, digits = ("-", text[1:]) if text[0] in "+-" else ("", text)
    value = Decimal(sign + _point(digits, places))
    return -value if negative else value


def _grouped(whole: str, mark: str, first: str = r"\d{1,3}") -> bool:
    """Whether ``whole`` is digits in thousands groups: "1.234.567", "12,345"."""
    head, *groups = whole.split(mark)
    return bool(re.fullmatch(first, head)) and all(re.fullmatch(r"\d{3}", g) for g in groups)


def _point(digits: str, places: int) -> str:
    """The number with "." as its only mark: the last of "," and "." is the decimal mark
    when both appear; one mark followed by groups of three is a thousands separator
    ("1.234", "1,234,567"), unless the currency has three decimals."""
    if "," in digits and "." in digits:
        mark = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if mark == "," else ","
        whole, _mark, fraction = digits.rpartition(mark)
        if not _grouped(whole, thousands) or not fraction.isdigit():
            raise InvalidOperation(digits)
        return f"{whole.replace(thousands, '')}.{fraction}"
    for mark in ",.":
        if mark in digits:
            head, *groups = digits.split(mark)
            # "0.500" is half a unit, never five hundred: a group never starts a number.
            if _grouped(digits, mark, first=r"[1-9]\d{0,2}") and (len(groups) > 1 or places < 3):
                return head + "".join(groups)
            if len(groups) > 1 or not groups[0]:
                raise InvalidOperation(digits)
            return f"{head}.{groups[0]}"
    return digits


_places = functools.cache(exponent)  # Babel rebuilds its list of currencies on every call

PLAIN_AMOUNT = re.compile(r"-?\d+(?:\.\d{1,2})?")  # no doubt about the marks: "1234.5"


def parse_amount(cell: object, currency: str) -> int:
    """Minor units of a balance cell, whatever the sheet wrote; ``_Invalid`` if unreadable."""
    shown = text_of(cell)
    places = _places(currency)
    try:
        if isinstance(cell, bool):
            raise InvalidOperation(shown)
        if isinstance(cell, int | Decimal):
            value = Decimal(cell)
        elif isinstance(cell, float):
            value = Decimal(repr(cell))
            rounded = value.quantize(Decimal(1).scaleb(-places))
            if abs(value - rounded) < Decimal("1e-6"):  # 12.350000000000001 from a formula
                value = rounded
        elif PLAIN_AMOUNT.fullmatch(shown):
            value = Decimal(shown)
        else:
            value = _amount_text(shown, places)
        return to_minor(value, currency)
    except (InvalidOperation, IndexError):
        raise _Invalid(_("“%(value)s” is not an amount.") % {"value": shown}) from None
    except MoneyError:
        message = _("“%(value)s” has more decimals than %(currency)s has.")
        raise _Invalid(message % {"value": shown, "currency": currency}) from None


YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T][\d:.]+)?")
DMY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})(?:[ T][\d:.]+)?")
WORDY = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")


def _date_text(text: str, region: str) -> dt.date:
    if re.fullmatch(r"\d{5}", text):
        return _serial(int(text))
    if match := YMD.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return dt.date(year, month, day)
    if match := DMY.fullmatch(text):
        first, second, year = (int(part) for part in match.groups())
        month_first = region in MONTH_FIRST
        if first > 12 or second > 12:
            month_first = second > 12
        month, day = (first, second) if month_first else (second, first)
        return dt.date(year, month, day)
    for pattern in WORDY:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _serial(number: float) -> dt.date:
    """The date of an Excel serial number (days since 1899-12-30)."""
    if not 1 <= number < 2958466:
        raise ValueError(number)
    day: dt.datetime = from_excel(number)
    return day.date()


def parse_date(cell: object, region: str) -> dt.date:
    """A birthday from a date cell, an Excel serial, or text in the usual forms."""
    shown = text_of(cell)
    try:
        if isinstance(cell, dt.datetime):
            day = cell.date()
        elif isinstance(cell, dt.date):
            day = cell
        elif isinstance(cell, int | float) and not isinstance(cell, bool):
            day = _serial(cell)
        else:
            day = _date_text(shown, region)
    except (ValueError, OverflowError):
        raise _Invalid(_("“%(value)s” is not a date.") % {"value": shown}) from None
    if day.year < FIRST_BIRTH_YEAR or day > dt.date.today():
        raise _Invalid(_("“%(value)s” is not a possible birthday.") % {"value": shown})
    return day


@functools.cache
def _longest(name: str) -> int:
    column = Customer._meta.get_field(name)
    assert isinstance(column, models.CharField)
    return int(column.max_length or 0)


def _clean_text(values: Values, name: str, text: str) -> None:
    if len(text) > _longest(name):
        message = _("The %(field)s is longer than %(count)s characters.")
        raise _Invalid(message % {"field": Field(name).label.lower(), "count": _longest(name)})
    setattr(values, name, text)


def _code(values: Values, cell: object, rules: Rules) -> None:
    text = text_of(cell)
    if (code := normalize_code(text)) is None:
        message = _(
            "“%(value)s” is not a customer code (like K7MQ-4XZP); leave the code column "
            "out to give new codes."
        )
        raise _Invalid(message % {"value": text})
    values.code = code


def _name(values: Values, cell: object, rules: Rules) -> None:
    _clean_text(values, "name", " ".join(text_of(cell).split()))


def _phone(values: Values, cell: object, rules: Rules) -> None:
    text = text_of(cell)
    try:
        values.phone = normalize_phone(text, rules.region)
    except PhoneError:
        message = _("“%(phone)s” is not a phone number we can dial.")
        raise _Invalid(message % {"phone": text}) from None


def _email(values: Values, cell: object, rules: Rules) -> None:
    text = text_of(cell)
    email = text.lower()
    try:
        validate_email(email)
    except ValidationError:
        raise _Invalid(_("“%(value)s” is not an email address.") % {"value": text}) from None
    _clean_text(values, "email", email)


def _address(values: Values, cell: object, rules: Rules) -> None:
    _clean_text(values, "address", text_of(cell))


def _notes(values: Values, cell: object, rules: Rules) -> None:
    values.notes = text_of(cell)


def _birthday(values: Values, cell: object, rules: Rules) -> None:
    values.birthday = parse_date(cell, rules.region)


def _tags(values: Values, cell: object, rules: Rules) -> None:
    names = (" ".join(tag.split())[:40] for tag in re.split(r"[,;、，；]", text_of(cell)))
    values.tags = list(dict.fromkeys(tag for tag in names if tag))


def _balance(values: Values, cell: object, rules: Rules) -> None:
    values.opening_minor = parse_amount(cell, rules.currency)
    if values.opening_minor < 0:
        message = _("A balance cannot be negative (%(value)s).")
        raise _Invalid(message % {"value": text_of(cell)})


CLEANERS: dict[Field, Callable[[Values, object, Rules], None]] = {
    Field.CODE: _code,
    Field.NAME: _name,
    Field.PHONE: _phone,
    Field.EMAIL: _email,
    Field.ADDRESS: _address,
    Field.NOTES: _notes,
    Field.BIRTHDAY: _birthday,
    Field.TAGS: _tags,
    Field.BALANCE: _balance,
}


# -- planning -----------------------------------------------------------------------------


@dataclass
class Row:
    """One row of the sheet and what the import will do with it."""

    number: int  # as the spreadsheet shows it
    cells: tuple[object, ...]  # as the file holds them
    values: Values
    errors: list[str] = field(default_factory=list)
    customer: Customer | None = None  # the existing customer the row is about
    action: Action = Action.CREATE
    changes: list[Field] = field(default_factory=list)  # what an update changes
    post_opening: bool = False  # the opening balance is still to be posted

    def text(self, index: int) -> str:
        """A cell as the preview shows it."""
        return text_of(self.cells[index]) if index < len(self.cells) else ""

    @property
    def target_code(self) -> str:
        return self.customer.code if self.customer is not None else self.values.code


@dataclass
class Plan:
    """Every row with its action or errors; nothing is written by planning."""

    name: str
    mapping: Mapping
    rows: list[Row]
    rules: Rules

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def error_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]

    @property
    def openings(self) -> list[Row]:
        return [row for row in self.rows if row.post_opening]

    @property
    def opening_minor(self) -> int:
        return sum(row.values.opening_minor for row in self.openings)

    @property
    def digest(self) -> str:
        """What the plan would do, in short: a commit refuses a plan that changed since
        the preview the person confirmed."""
        lines = (
            f"{row.number}:{row.action}:{row.target_code}:{row.post_opening}:"
            f"{row.values.opening_minor}:{','.join(row.changes)}"
            for row in self.rows
        )
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def shown(self, row: Row, column: Field) -> str:
        """A mapped cell as it will be saved — the phone with its leading zero back, the
        date an Excel serial stands for — or as the sheet has it when it cannot be read."""
        values = row.values
        if column == Field.PHONE and values.phone:
            return display_phone(values.phone, self.rules.region)
        if column == Field.BIRTHDAY and values.birthday:
            return values.birthday.isoformat()
        if column == Field.BALANCE and values.opening_minor:
            return self.rules.money(values.opening_minor)
        if column == Field.TAGS and values.tags:
            return ", ".join(values.tags)
        if column in (Field.NAME, Field.EMAIL, Field.CODE) and getattr(values, column.value):
            return str(getattr(values, column.value))
        return row.text(self.mapping[column])

    def details(self, row: Row) -> list[str]:
        """What will happen to the row, or what is wrong with it, in words."""
        if row.errors:
            return row.errors
        said = []
        if row.action == Action.UPDATE and row.changes:
            changed = ", ".join(str(change.label).lower() for change in row.changes)
            said.append(_("Changes: %(fields)s.") % {"fields": changed})
        if row.post_opening:
            amount = self.rules.money(row.values.opening_minor)
            said.append(_("Opening balance %(amount)s.") % {"amount": amount})
        if row.action == Action.SKIP:
            said.append(_("Already up to date."))
        return said


def opening_key(code: str) -> str:
    return f"opening:{code}"


def opening_request(code: str, amount_minor: int, currency: str) -> dict[str, object]:
    """What an opening posting asks for; its digest tells a replay from a conflict."""
    return {"opening": code, "amount": amount_minor, "unit": currency}


def plan(sheet: Sheet, mapping: Mapping, *, progress: Progress | None = None) -> Plan:
    """Read, clean, match and decide every row. Queries are a few per thousand rows."""
    rules = Rules.of_business()
    if not {Field.NAME, Field.CODE, Field.PHONE, Field.EMAIL} & mapping.keys():
        raise ImportProblem(_("Choose the column that holds the customers' names."))
    rows = []
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        rows.append(_row(number, cells, mapping, rules))
        if progress and done % PROGRESS_EVERY == 0:
            progress("check", done, len(sheet.rows))
    existing = _existing(rows, with_tags=Field.TAGS in mapping)
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        _match(row, existing, seen)
    existing.openings = _openings(rows)
    for row in rows:
        _decide(row, existing, rules)
    return Plan(sheet.name, mapping, rows, rules)


def _row(number: int, cells: tuple[object, ...], mapping: Mapping, rules: Rules) -> Row:
    row = Row(number, cells, Values())
    for column, index in mapping.items():
        cell = cells[index] if index < len(cells) else None
        if _blank(cell):
            continue
        try:
            CLEANERS[column](row.values, cell, rules)
        except _Invalid as error:
            row.errors.append(str(error))
    return row


LOADED = ("id", "code", "name", "phone", "email", "address", "birthday", "notes", "status")


@dataclass
class Existing:
    """The customers the sheet mentions, fetched once."""

    by_code: dict[str, Customer]
    by_phone: dict[str, Customer]
    by_email: dict[str, Customer]
    by_name: dict[str, list[Customer]]  # customers without phone and email, by folded name
    tags: dict[int, set[str]] = field(default_factory=dict)
    openings: dict[str, tuple[str, int]] = field(default_factory=dict)  # key → (digest, amount)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """The distinct values, in lists short enough for one ``IN (…)`` each."""
    unique = sorted(set(values) - {""})
    size = min(connection.features.max_query_params or IN_CHUNK, IN_CHUNK) - 10
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def _fetch(column: str, wanted: Iterable[str]) -> dict[str, Customer]:
    """The customers whose ``column`` is one of ``wanted``, by that value."""
    ids = sorted(set(_ids(Customer, column, wanted).values()))
    found: dict[str, Customer] = {}
    for start in range(0, len(ids), IN_CHUNK // 10):
        chunk = ids[start : start + IN_CHUNK // 10]
        for customer in Customer.objects.filter(pk__in=chunk).only(*LOADED).order_by():
            found[getattr(customer, column)] = customer
    return found


def _search_name(name: str) -> str:
    return fold(name)[:120]


def _only_named(values: Values) -> bool:
    return not (values.code or values.phone or values.email)


def _existing(rows: list[Row], *, with_tags: bool) -> Existing:
    values = [row.values for row in rows]
    by_name: dict[str, list[Customer]] = {}
    names = (_search_name(v.name) for v in values if v.name and _only_named(v))
    for chunk in _chunks(names):
        query = Customer.objects.filter(search_name__in=chunk, phone="", email="")
        for customer in query.only(*LOADED, "search_name").order_by("id"):
            by_name.setdefault(customer.search_name, []).append(customer)
    existing = Existing(
        by_code=_fetch("code", (v.code for v in values)),
        by_phone=_fetch("phone", (v.phone for v in values)),
        by_email=_fetch("email", (v.email for v in values)),
        by_name=by_name,
    )
    if with_tags:
        ids = {c.pk for found in (existing.by_code, existing.by_phone) for c in found.values()}
        ids |= {c.pk for c in existing.by_email.values()}
        ids |= {c.pk for namesakes in by_name.values() for c in namesakes}
        existing.tags = _tags_of(ids)
    return existing


def _tags_of(ids: set[int]) -> dict[int, set[str]]:
    through = Customer.tags.through
    found: dict[int, set[str]] = {}
    for chunk in _chunks(str(pk) for pk in ids):
        links = through.objects.filter(customer_id__in=chunk).values_list(
            "customer_id", "tag__name"
        )
        for customer_id, name in links:
            found.setdefault(customer_id, set()).add(name)
    return found


def _openings(rows: list[Row]) -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    keys = (opening_key(row.target_code) for row in rows if row.target_code)
    for chunk in _chunks(keys):
        batches = Batch.objects.filter(key__in=chunk).annotate(amount=Sum("transfers__amount"))
        for key, fingerprint, amount in batches.values_list("key", "fingerprint", "amount"):
            found[key] = (fingerprint, int(amount or 0))
    return found


def _find(row: Row, existing: Existing) -> Customer | None:
    """By code; else by phone, then email; a row with none of them by its name."""
    values = row.values
    if values.code:
        return existing.by_code.get(values.code)
    for found in (existing.by_phone.get(values.phone), existing.by_email.get(values.email)):
        if found is not None:
            return found
    if not _only_named(values) or not values.name:
        return None
    namesakes = existing.by_name.get(_search_name(values.name), [])
    if len(namesakes) > 1:
        message = _(
            "%(count)s customers are called %(name)s; add a code, phone or email to tell "
            "which one this is."
        )
        row.errors.append(message % {"count": len(namesakes), "name": values.name})
        return None
    return namesakes[0] if namesakes else None


SAME_AS = {
    "code": gettext_lazy("Same code as row %(row)s."),
    "phone": gettext_lazy("Same phone number as row %(row)s."),
    "email": gettext_lazy("Same email address as row %(row)s."),
    "name": gettext_lazy(
        "Same name as row %(row)s, and neither has a code, phone or email to tell them apart."
    ),
    "customer": gettext_lazy("Row %(row)s is about the same customer."),
}


def _match(row: Row, existing: Existing, seen: dict[tuple[str, str], int]) -> None:
    """Find the row's customer; flag a phone or email of someone else, and rows that
    say the same as an earlier row."""
    customer = row.customer = _find(row, existing)
    values = row.values
    for kind, others in (("phone", existing.by_phone), ("email", existing.by_email)):
        other = others.get(getattr(values, kind))
        if other is not None and (customer is None or other.pk != customer.pk):
            row.errors.append(str(customers.DuplicateCustomer(other, field=kind)))
    keys = [("code", values.code), ("phone", values.phone), ("email", values.email)]
    if _only_named(values):
        keys.append(("name", _search_name(values.name)))
    if customer is not None:
        keys.append(("customer", str(customer.pk)))
    for kind, value in keys:
        if value and (first := seen.setdefault((kind, value), row.number)) != row.number:
            row.errors.append(str(SAME_AS[kind]) % {"row": first})
            break


def _decide(row: Row, existing: Existing, rules: Rules) -> None:
    _check_opening(row, existing, rules)
    if row.customer is None and not row.values.name:
        row.errors.append(_("The name is missing."))
    if row.errors:
        row.action, row.post_opening = Action.ERROR, False
    elif row.customer is None:
        row.action = Action.CREATE
    else:
        row.changes = _changes(row.customer, row.values, existing.tags)
        row.action = Action.UPDATE if row.changes or row.post_opening else Action.SKIP


def _check_opening(row: Row, existing: Existing, rules: Rules) -> None:
    """Post an opening balance once per customer: the same amount again is nothing to
    do, another amount is an error (correct a balance at the counter, not by import)."""
    amount, code = row.values.opening_minor, row.target_code
    previous = existing.openings.get(opening_key(code)) if code else None
    if previous is not None:
        digest, imported = previous
        request = opening_request(code, amount, rules.currency)
        if amount and digest != ledger.fingerprint_of(request):
            message = _("Opening balance already imported (%(amount)s).")
            row.errors.append(message % {"amount": rules.money(imported)})
        return
    if amount and row.customer is not None and row.customer.status == Customer.Status.CLOSED:
        row.errors.append(_("The account of this customer is closed."))
        return
    row.post_opening = amount > 0


def _changes(customer: Customer, values: Values, tags: dict[int, set[str]]) -> list[Field]:
    """The fields the row gives that differ from the customer's; empty cells change nothing."""
    pairs: list[tuple[Field, object, object]] = [
        (Field.NAME, values.name, customer.name),
        (Field.PHONE, values.phone, customer.phone),
        (Field.EMAIL, values.email, customer.email),
        (Field.ADDRESS, values.address, customer.address),
        (Field.BIRTHDAY, values.birthday, customer.birthday),
        (Field.NOTES, values.notes, customer.notes),
    ]
    changed = [name for name, new, old in pairs if new and new != old]
    if values.tags and set(values.tags) != tags.get(customer.pk, set()):
        changed.append(Field.TAGS)
    return changed


# -- committing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    created: int
    updated: int
    skipped: int
    openings: int
    opening_minor: int


def commit(
    sheet: Sheet,
    mapping: Mapping,
    *,
    actor: ledger.Actor,
    expected: str | None = None,
    progress: Progress | None = None,
) -> Result:
    """Import the sheet: all rows in one transaction, or nothing.

    1. Plan again (the database may have changed since the preview); any row error →
       ``RowErrors``; a plan other than the previewed one (``expected`` digest) →
       ``ImportProblem``.
    2. In one transaction: update the existing customers, register the new ones, post
       the opening balances, record the import in the audit trail.
    3. Anything refused on the way (a phone number registered meanwhile at the counter,
       a key posted by a concurrent import) rolls all of it back: ``ImportProblem``.
    """
    planned = plan(sheet, mapping, progress=progress)
    if planned.error_rows:
        raise RowErrors(planned)
    if expected is not None and expected != planned.digest:
        raise ImportProblem(
            _("The customers changed since the preview. Check the preview again, then import.")
        )
    try:
        with transaction.atomic():
            return _write(planned, actor, progress)
    except customers.CustomerError as error:
        raise ImportProblem(_("Nothing was imported: %(reason)s") % {"reason": error}) from error
    except (IntegrityError, LedgerError) as error:
        raise ImportProblem(
            _(
                "Nothing was imported: the same customers were changed elsewhere while "
                "importing. Please try again."
            )
        ) from error


def _write(planned: Plan, actor: ledger.Actor, progress: Progress | None) -> Result:
    by = actor.staff or actor.api_token
    note = f"import {planned.name}"[:255]
    updates = [row for row in planned.rows if row.action == Action.UPDATE]
    for row in updates:
        if row.changes and row.customer is not None:
            row.customer = customers.update(row.customer, _profile(row), by=by)
    creates = [row for row in planned.rows if row.action == Action.CREATE]
    news = _register_many(creates, actor, planned.rules, progress)
    _open_new_wallets([new for new in news if new.opening_minor], actor, planned.rules, note)
    for row in updates:
        if row.post_opening and row.customer is not None:
            _post_opening(row.customer, row.values.opening_minor, actor, planned.rules, note)
    result = Result(
        created=len(creates),
        updated=len(updates),
        skipped=planned.count(Action.SKIP),
        openings=len(planned.openings),
        opening_minor=planned.opening_minor,
    )
    after: dict[str, Any] = {"file": planned.name, **result.__dict__}
    audit.record("customers.imported", "customers", by=by, store=actor.store, after=after)
    return result


def _profile(row: Row) -> customers.Profile:
    """Only what changes: ``update`` leaves the fields given as None alone."""
    values, changes = row.values, set(row.changes)

    def given(name: Field, value: T) -> T | None:
        return value if name in changes else None

    return customers.Profile(
        name=given(Field.NAME, values.name),
        phone=given(Field.PHONE, values.phone),
        email=given(Field.EMAIL, values.email),
        address=given(Field.ADDRESS, values.address),
        birthday=given(Field.BIRTHDAY, values.birthday),
        notes=given(Field.NOTES, values.notes),
        tags=given(Field.TAGS, values.tags),
    )


# -- writing in bulk ----------------------------------------------------------------------
#
# ``bulk_create`` spends about 0.1 ms of Python per object (a model instance, then every
# value prepared one by one); a new customer takes up to nine rows (customer, name keys,
# card, tag, audit entry, wallet, batch, transfer), so 100,000 rows would take minutes.
# ``_insert`` writes plain multi-row INSERTs of values prepared once per column instead,
# and ids are read back by each table's unique column (portable: no RETURNING order).


@dataclass
class _New:
    """A customer being registered in bulk: what ``register`` would save."""

    code: str
    name: str
    phone: str
    email: str
    address: str
    birthday: dt.date | None
    notes: str
    search_name: str
    search_phone: str
    tags: list[str]
    opening_minor: int
    marketing_sms: bool = False
    marketing_email: bool = False
    credit_limit_minor: int = 0
    status: str = Customer.Status.ACTIVE
    pk: int = 0

    def snapshot(self) -> dict[str, Any]:
        """``customers.services.snapshot`` of the customer once saved."""
        values = {name: getattr(self, name) for name in customers.AUDITED}
        values["birthday"] = self.birthday.isoformat() if self.birthday else None
        return values


def _new(values: Values, region: str) -> _New:
    return _New(
        code=values.code,
        name=values.name,
        phone=values.phone,
        email=values.email,
        address=values.address,
        birthday=values.birthday,
        notes=values.notes,
        search_name=_search_name(values.name),
        search_phone=searchable_digits(values.phone, region),
        tags=values.tags,
        opening_minor=values.opening_minor,
    )


def _db_default(column: models.Field[Any, Any], now: dt.datetime) -> object:
    """The value a column not given gets: its default, the time for auto_now fields."""
    if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
        value: object = now
    elif column.has_default() and not column.unique:
        value = column.get_default()
    elif column.null:
        value = None
    else:
        raise TypeError(f"{column} needs a value in every row")
    return column.get_db_prep_save(value, connection)


def _insert(
    model: type[models.Model],
    rows: Sequence[dict[str, object]],
    *,
    same: dict[str, object] | None = None,
) -> None:
    """INSERT into ``model``'s table: ``rows`` hold what differs from row to row (dicts by
    attribute name, all with the same keys), ``same`` what every row shares; the other
    columns get their defaults. Times and JSON are prepared for the database per value,
    everything else is passed as it is."""
    if not rows:
        return
    columns = {c.attname: c for c in model._meta.concrete_fields if not c.primary_key}
    varying = list(rows[0])
    now = timezone.now()
    shared = {
        name: columns[name].get_db_prep_save(v, connection) for name, v in (same or {}).items()
    }
    for name, column in columns.items():
        if name not in shared and name not in rows[0]:
            shared[name] = _db_default(column, now)
    preparing = [
        (index, columns[name])
        for index, name in enumerate(varying)
        if isinstance(columns[name], models.DateTimeField | models.JSONField)
    ]
    tail = list(shared.values())
    values: list[list[Any]] = []
    for row in rows:
        line = [row[name] for name in varying]
        for index, column in preparing:
            line[index] = column.get_db_prep_save(line[index], connection)
        values.append(line + tail)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(str(columns[name].column)) for name in [*varying, *shared])
    _execute_insert(table, names, values)


def _execute_insert(table: str, names: str, values: list[list[Any]]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: a fifth of the time of the same rows as INSERTs on PostgreSQL.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for line in values:
                    copy.write_row(line)
        else:
            marks = ", ".join(["%s"] * len(values[0]))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)


def _ids(model: type[models.Model], column: str, values: Iterable[str]) -> dict[str, int]:
    """Ids of rows by a unique column, for many values: one parameter per chunk on
    PostgreSQL (``= ANY``), a plain ``IN`` list on SQLite. The ORM spends ~10 µs of Python
    per value of an ``IN`` list; a 100,000-row import looks up hundreds of thousands."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    field = model._meta.get_field(column)
    assert isinstance(field, models.Field)
    name, pk = quote(str(field.column)), quote(str(model._meta.pk and model._meta.pk.column))
    # "<> ''" lets SQLite use the partial unique indexes of phone and email.
    query = f"SELECT {name}, {pk} FROM {table} WHERE {name} <> '' AND "
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(values):
            if connection.vendor == "postgresql":
                cursor.execute(query + f"{name} = ANY(%s)", [chunk])
            else:
                cursor.execute(query + f"{name} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found.update((str(value), int(key)) for value, key in cursor.fetchall())
    return found


def _fresh_codes(news: list[_New]) -> None:
    """New codes for the customers without one, unique among themselves and in the
    database: with 100,000 new codes a clash is rare, not impossible."""
    taken = {new.code for new in news if new.code}
    generated = [new for new in news if not new.code]
    for new in generated:
        while not new.code or new.code in taken:
            new.code = new_code()
        taken.add(new.code)
    clashes = set(_ids(Customer, "code", (new.code for new in generated)))
    for new in generated:
        while new.code in clashes:
            new.code = new_code()
            clashes |= {new.code} & taken
        taken.add(new.code)


def _register_many(
    rows: list[Row], actor: ledger.Actor, rules: Rules, progress: Progress | None
) -> list[_New]:
    """``register`` for many: customers, name keys, first cards, tags and audit entries.

    Belongs in ``customers.services`` (as ``register_many``) beside ``register``, sharing
    its checks; here until that module can take it.
    """
    news = [_new(row.values, rules.region) for row in rows]
    _fresh_codes(news)
    tags = _tags_named({tag for new in news for tag in new.tags})
    for start in range(0, len(news), WRITE_CHUNK):
        chunk = news[start : start + WRITE_CHUNK]
        _insert(
            Customer, [_customer_row(new) for new in chunk], same={"home_store_id": actor.store.pk}
        )
        ids = _ids(Customer, "code", (new.code for new in chunk))
        for new in chunk:
            new.pk = ids[new.code]
        _insert(
            NameKey,
            [{"customer_id": n.pk, "key": key} for n in chunk for key in name_keys(n.search_name)],
        )
        _insert(Card, [{"customer_id": new.pk, "token": new_token()} for new in chunk])
        _insert(
            Customer.tags.through,
            [{"customer_id": n.pk, "tag_id": tags[name]} for n in chunk for name in n.tags],
        )
        _insert(
            AuditEvent,
            [{"subject": f"customer:{new.code}", "after": new.snapshot()} for new in chunk],
            same={**_actor_ids(actor), "action": "customer.registered"},
        )
        if progress:
            progress("write", start + len(chunk), len(news))
    return news


def _customer_row(new: _New) -> dict[str, object]:
    return {
        "code": new.code,
        "name": new.name,
        "phone": new.phone,
        "email": new.email,
        "address": new.address,
        "birthday": new.birthday,
        "notes": new.notes,
        "search_name": new.search_name,
        "search_phone": new.search_phone,
    }


def _tags_named(names: set[str]) -> dict[str, int]:
    """Tag ids by name, creating the tags that do not exist yet."""
    existing = _ids(Tag, "name", names)
    Tag.objects.bulk_create(Tag(name=name) for name in sorted(names - existing.keys()))
    return _ids(Tag, "name", names)


def _actor_ids(actor: ledger.Actor) -> dict[str, object]:
    """Who and where, as every audit entry, batch and transfer records them."""
    return {
        "staff_id": actor.staff.pk if actor.staff else None,
        "api_token_id": actor.api_token.pk if actor.api_token else None,
        "store_id": actor.store.pk,
    }


def _open_new_wallets(news: list[_New], actor: ledger.Actor, rules: Rules, note: str) -> None:
    """Opening balances of customers registered in this transaction, in bulk, through the
    ledger's one writer (``ledger.services.open_wallets``)."""
    ledger.open_wallets(
        [
            ledger.Opening(
                customer_id=new.pk,
                amount=new.opening_minor,
                floor=-new.credit_limit_minor,
                key=opening_key(new.code),
                request=opening_request(new.code, new.opening_minor, rules.currency),
            )
            for new in news
        ],
        actor=actor,
        unit=rules.currency,
        note=note,
    )


def _post_opening(
    customer: Customer, amount: int, actor: ledger.Actor, rules: Rules, note: str
) -> None:
    """An existing customer's opening balance, through the ledger's one writer."""
    wallet = ledger.customer_account(customer, Account.Kind.WALLET, unit=rules.currency)
    opening = ledger.house_account(Account.Kind.OPENING, store=actor.store, unit=rules.currency)
    ledger.post(
        opening_key(customer.code),
        [ledger.Leg(opening, wallet, amount, Transfer.Code.OPENING)],
        code=Batch.Code.OPENING,
        actor=actor,
        customer=customer,
        note=note,
        request=opening_request(customer.code, amount, rules.currency),
    )
