"""Reading an uploaded XLSX or CSV file into a ``Sheet``: the header row and the
non-empty rows below it, cells as the file holds them.

The header row is the first of the first ten rows in which at least two cells are known
headers, so a title row above it is passed over. Empty rows are dropped; row numbers stay
those the spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from string import ascii_letters
from typing import IO, Any
from xml.etree.ElementTree import ParseError

import openpyxl
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from django.utils.translation import gettext as _
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.utils.exceptions import InvalidFileException

from prepaid.sales.importing.limits import Limits, not_a_workbook
from prepaid.sales.importing.mapping import header_field
from prepaid.sales.importing.problems import ImportProblem

Progress = Callable[[str, int, int], None]  # (stage, done, total): "read", "check", "write"

HEADER_SEARCH_ROWS = 10
PROGRESS_EVERY = 10_000
CHINESE_REGIONS = frozenset({"CN", "TW", "HK", "MO", "SG"})
NEUTRALISED = ("=", "+", "-", "@")  # exports put an apostrophe before these


@dataclass(frozen=True)
class Sheet:
    """The header and the non-empty rows below it, cells as the file holds them."""

    name: str
    headers: list[str]
    header_row: int  # row number as the spreadsheet shows it (1 is the first)
    rows: list[tuple[int, tuple[object, ...]]]
    recognised: bool  # False: no known headers, the first row was taken as the header

    def to_json(self) -> str:
        """The sheet, already read, as JSON text (kept between the back office's screens,
        and with an import that waits for approval); ``from_json`` reads it back."""
        document = {
            "name": self.name,
            "headers": self.headers,
            "header_row": self.header_row,
            "recognised": self.recognised,
            "rows": [[number, [_cell_to_json(c) for c in cells]] for number, cells in self.rows],
        }
        return json.dumps(document)

    @classmethod
    def from_json(cls, text: str) -> Sheet:
        document = json.loads(text)
        rows = [
            (number, tuple(_cell_from_json(c) for c in cells)) for number, cells in document["rows"]
        ]
        return cls(
            document["name"],
            document["headers"],
            document["header_row"],
            rows,
            document["recognised"],
        )

    def samples(self, column: int, count: int = 3) -> list[str]:
        """The first few non-empty values of a column, for choosing its field."""
        found: list[str] = []
        for _number, cells in self.rows:
            if column < len(cells) and (text := text_of(cells[column])):
                found.append(text)
                if len(found) == count:
                    break
        return found


def _cell_to_json(cell: object) -> object:
    if isinstance(cell, dt.datetime):
        return {"datetime": cell.isoformat()}
    if isinstance(cell, dt.date):
        return {"date": cell.isoformat()}
    if isinstance(cell, dt.time):
        return {"time": cell.isoformat()}
    if isinstance(cell, Decimal):
        return {"decimal": str(cell)}
    return cell


def _cell_from_json(value: object) -> object:
    if isinstance(value, dict):
        kind, text = next(iter(value.items()))
        parse = {
            "datetime": dt.datetime.fromisoformat,
            "date": dt.date.fromisoformat,
            "time": dt.time.fromisoformat,
            "decimal": Decimal,
        }[kind]
        return parse(text)
    return value


def read(
    source: IO[bytes],
    name: str,
    *,
    region: str = "",
    progress: Progress | None = None,
    limits: Limits | None = None,
) -> Sheet:
    """The sheet in an uploaded XLSX or CSV file; ``ImportProblem`` if it cannot be read
    or holds more than ``limits`` (the settings' unless given)."""
    limits = limits or Limits.of_settings()
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        limits.check_size(source)
        limits.check_archive(source)
        return _sheet(name, _xlsx_rows(source, limits), progress, limits)
    if suffix in (".csv", ".txt", ".tsv"):
        limits.check_size(source)
        return _sheet(name, _csv_rows(source.read(), region), progress, limits)
    if suffix == ".xls":
        raise ImportProblem(
            _("Old .xls files cannot be read; save the sheet as .xlsx or .csv first.")
        )
    raise ImportProblem(_("Choose an Excel workbook (.xlsx) or a CSV file."))


def read_path(
    path: Path, *, region: str = "", progress: Progress | None = None, limits: Limits | None = None
) -> Sheet:
    with path.open("rb") as source:
        return read(source, path.name, region=region, progress=progress, limits=limits)


# What a damaged workbook makes zipfile, zlib, openpyxl or the XML parser raise.
DAMAGED = (
    *(zipfile.BadZipFile, zlib.error, EOFError, OSError, InvalidFileException, ParseError),
    *(KeyError, IndexError, ValueError, TypeError, AttributeError),
    *(NotImplementedError, RuntimeError),  # a compression method or encryption zipfile lacks
)


def _xlsx_rows(source: IO[bytes], limits: Limits) -> Iterator[tuple[object, ...]]:
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except DAMAGED as error:
        raise ImportProblem(_problem_of(error, not_a_workbook())) from error
    try:
        sheet = book.worksheets[0]
        if all(hasattr(sheet, name) for name in ("_get_source", "_shared_strings")):
            yield from _sheet_xml_rows(book, sheet, limits)
        else:  # another openpyxl than the one pinned: its own, slower way
            sheet.reset_dimensions()  # some writers record a wrong size; read all there is
            for row in sheet.iter_rows(values_only=True):  # ``_sheet`` stops it at the cap
                yield tuple(row)
    except ImportProblem:
        raise
    except DAMAGED as error:
        raise ImportProblem(_problem_of(error, _damaged())) from error
    finally:
        book.close()


def _problem_of(error: BaseException, otherwise: str) -> str:
    """What went wrong, from the error or those it came from (openpyxl wraps its
    parser's errors in a ``ValueError``)."""
    causes: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(cause, DefusedXmlException) for cause in causes):
        return _(
            "This workbook declares XML entities, which spreadsheet programs do not write; "
            "it is refused for safety. Save it again from your spreadsheet program."
        )
    if any(isinstance(cause, ParseError | zipfile.BadZipFile | zlib.error) for cause in causes):
        return _damaged()
    return otherwise


def _damaged() -> str:
    return _(
        "This workbook is damaged: a part of it cannot be read. Open it in your spreadsheet "
        "program and save it again."
    )


SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CELL, ROW, VALUE = f"{SHEET_NS}c", f"{SHEET_NS}row", f"{SHEET_NS}v"
DIMENSION = f"{SHEET_NS}dimension"
INLINE, TEXT, RUN = f"{SHEET_NS}is", f"{SHEET_NS}t", f"{SHEET_NS}r"


def _sheet_xml_rows(book: Any, sheet: Any, limits: Limits) -> Iterator[tuple[object, ...]]:
    """The first sheet's rows straight from its XML, empty rows included, so that row
    numbers are the spreadsheet's.

    openpyxl's ``iter_rows`` builds a dictionary per cell and passes it through several
    generators: 12 of the 60 seconds a 100,000-row import may take. This loop reads the
    same XML with openpyxl's shared strings and date styles in a third of the time.

    The size the sheet declares, each row's number and each value's column are checked
    against ``limits`` before the rows are made: the empty rows in front of a row
    numbered 1,000,000,000 would take 8 GB.
    """
    # The reader's shared strings, which the read-only sheet holds: in read-only mode the
    # workbook's own ``shared_strings`` stays empty.
    shared, dates, epoch = sheet._shared_strings, book._date_formats, book.epoch
    cells: dict[int, object] = {}
    next_column, next_row = 0, 1
    with sheet._get_source() as source:
        for _event, element in iterparse(source, forbid_dtd=True):
            if element.tag == CELL:
                reference = element.get("r")
                column = _column_index(reference) if reference else next_column
                next_column = column + 1
                value = _cell_value(element, shared, dates, epoch)
                if value is not None:
                    if column >= limits.columns:
                        limits.check_column(column)
                    cells[column] = value
            elif element.tag == ROW:
                number = int(element.get("r") or next_row)
                limits.check_row(number)
                yield from [()] * (number - next_row)  # rows the file leaves out
                yield tuple(cells.get(index) for index in range(max(cells, default=-1) + 1))
                cells, next_column, next_row = {}, 0, number + 1
                element.clear()
            elif element.tag == DIMENSION:  # "A1:G100": before the rows
                last = (element.get("ref") or "").rpartition(":")[2].lstrip(ascii_letters)
                limits.check_row(int(last) if last.isdigit() else 0)


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
        index = int(text)
        if not 0 <= index < len(shared):
            message = _(
                "This workbook is damaged: a cell refers to text number %(index)s of the "
                "%(count)s it holds. Open it in your spreadsheet program and save it again."
            )
            raise ImportProblem(message % {"index": index, "count": len(shared)})
        return shared[index]
    if kind == "b":
        return text == "1"
    if kind == "d":
        return from_ISO8601(text)
    return text  # "str": a formula's text result; "e": an error such as #N/A


def _csv_rows(data: bytes, region: str) -> Iterator[tuple[object, ...]]:
    text = _decode(data, region)
    if "\x00" in text:  # no text file holds one, and no database column takes one
        raise ImportProblem(
            _(
                "This file holds NUL characters, so it is not a CSV text file. Save the "
                "sheet as CSV or as an Excel workbook (.xlsx) again."
            )
        )
    delimiter = _delimiter(text.splitlines()[:30])
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield tuple(row)
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


def blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _trim(cells: tuple[object, ...]) -> tuple[object, ...]:
    end = len(cells)
    while end and blank(cells[end - 1]):
        end -= 1
    return cells[:end]


def _sheet(
    name: str, table: Iterable[tuple[object, ...]], progress: Progress | None, limits: Limits
) -> Sheet:
    rows: list[tuple[int, tuple[object, ...]]] = []
    for number, cells in enumerate(table, start=1):
        limits.check_row(number)
        if trimmed := _trim(cells):
            limits.check_column(len(trimmed) - 1)
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
