"""Hostile and damaged files: each is refused quickly, with a message that names the
problem in the person's language, and nothing is written.

The workbooks are made here: openpyxl's own with a part replaced (``sheets``). "Quickly"
is a generous bound (5 s on a loaded 2-core machine): before the caps, the 0.9 MB bomb
took 223 s and the row numbered 1,000,000,000 asked for 8 GB.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import openpyxl
import pytest

from prepaid.closing.models import Settlement
from prepaid.customers.models import Customer
from prepaid.sales import importing
from tests.customers.sheets import (
    LAUGHS,
    PASSWD,
    SHEET_PART,
    STRINGS_PART,
    csv_file,
    declare_size,
    sheet_xml,
    strings_xml,
    workbook_with,
)
from tests.factories import method

pytestmark = pytest.mark.django_db

QUICKLY_SECONDS = 5


@contextmanager
def quickly():
    started = time.monotonic()
    yield
    assert time.monotonic() - started < QUICKLY_SECONDS


def refused(path, match: str) -> None:
    with quickly(), pytest.raises(importing.ImportProblem, match=match):
        importing.read_path(path)


def inline(text: str, reference: str = "") -> str:
    where = f' r="{reference}"' if reference else ""
    return f'<c{where} t="inlineStr"><is><t>{text}</t></is></c>'


def bomb_rows(megabytes: int):
    """A sheet of ``megabytes`` MB that compresses to a few hundred KB."""
    row = f"<row>{inline('lol')}</row>".encode() * 20_000  # about 1 MB
    head, tail = sheet_xml("|").split(b"|")
    yield head
    for _ in range(megabytes):
        yield row
    yield tail


# -- the caps ----------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_by_the_sizes_its_parts_declare(tmp_path, settings):
    path = workbook_with(tmp_path / "bomb.xlsx", {SHEET_PART: bomb_rows(150)})
    assert path.stat().st_size < 1024 * 1024
    refused(path, "would unpack to 146 MB, more than the 100 MB")


def test_a_part_that_declares_less_than_it_holds_is_read_no_further(tmp_path):
    """zipfile stops at the declared size, and the part then fails its checksum."""
    path = workbook_with(tmp_path / "liar.xlsx", {SHEET_PART: bomb_rows(150)})
    declare_size(path, SHEET_PART, 1000)
    refused(path, "workbook is damaged")


def test_a_part_that_declares_gigabytes_is_refused_unopened(tmp_path):
    path = workbook_with(tmp_path / "huge.xlsx", {})
    declare_size(path, STRINGS_PART, 4_000_000_000)
    refused(path, "would unpack to 3,815 MB")


@pytest.mark.parametrize("dimension", ["A1:B1000000000", ""])
def test_a_row_numbered_a_billion_is_refused_before_the_rows_before_it(tmp_path, dimension):
    rows = f'<row r="1">{inline("Name")}{inline("Phone")}</row>'
    rows += f'<row r="1000000000">{inline("Maria", "A1000000000")}</row>'
    path = workbook_with(tmp_path / "far.xlsx", {SHEET_PART: sheet_xml(rows, dimension=dimension)})
    refused(path, "reaches row 1,000,000,000; at most 200,000 rows")


def test_rows_beyond_the_configured_cap_are_refused(tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 3
    book = openpyxl.Workbook()
    for index in range(5):
        book.active.append([f"Customer {index}", f"0917 000 000{index}"])
    book.save(tmp_path / "five.xlsx")
    refused(tmp_path / "five.xlsx", "reaches row 5; at most 3 rows")  # its dimension
    path = csv_file(tmp_path / "five.csv", [["Name"], ["A"], ["B"], ["C"], ["D"]])
    refused(path, "reaches row 4; at most 3 rows")


def test_a_value_beyond_the_last_column_read_is_refused(tmp_path):
    rows = f'<row r="1">{inline("Name", "A1")}{inline("Stray", "BZ1")}</row>'
    path = workbook_with(tmp_path / "wide.xlsx", {SHEET_PART: sheet_xml(rows)})
    refused(path, "values in its column 78; at most 60 columns")
    wide = csv_file(tmp_path / "wide.csv", [["Name", *[""] * 70, "Stray"]])
    refused(wide, "values in its column 72; at most 60 columns")


def test_empty_cells_beyond_the_last_column_read_are_no_trouble(tmp_path):
    path = csv_file(tmp_path / "commas.csv", [["Name", "Phone", *[""] * 100], ["Maria", "1"]])
    assert importing.read_path(path).headers == ["Name", "Phone"]


def test_a_file_larger_than_the_cap_is_refused_before_it_is_read(tmp_path, settings):
    settings.IMPORT_MAX_FILE_BYTES = 100_000
    path = csv_file(tmp_path / "big.csv", [["Name", "Phone"]] + [["Maria", "1"]] * 20_000)
    refused(path, r"larger than 0\.1 MB")


# -- damaged and malicious XML ---------------------------------------------------------------


@pytest.mark.parametrize("doctype", [LAUGHS, PASSWD], ids=["billion-laughs", "xxe"])
@pytest.mark.parametrize("part", [SHEET_PART, STRINGS_PART])
def test_xml_entities_are_refused_in_every_part(tmp_path, doctype, part):
    entity = "&lol9;" if doctype == LAUGHS else "&xxe;"
    if part == SHEET_PART:
        content = sheet_xml(f"<row>{inline(entity)}</row>", doctype=doctype)
    else:
        content = strings_xml("Name", entity, doctype=doctype)
    path = workbook_with(tmp_path / "entities.xlsx", {part: content})
    refused(path, "declares XML entities")


def test_openpyxl_parses_through_defusedxml():
    """openpyxl takes defusedxml when it is installed (pyproject.toml pins it) unless
    OPENPYXL_DEFUSEDXML says otherwise; the parts it reads itself rely on that."""
    from openpyxl import DEFUSEDXML

    assert DEFUSEDXML


def test_text_kept_as_shared_strings_is_read_as_excel_writes_it(tmp_path):
    """Excel keeps a sheet's text in one shared list; openpyxl writes it inline."""
    rows = "".join(
        f'<row r="{number}"><c r="A{number}" t="s"><v>{first}</v></c>'
        f'<c r="B{number}" t="s"><v>{first + 1}</v></c></row>'
        for number, first in ((1, 0), (2, 2))
    )
    path = workbook_with(tmp_path / "excel.xlsx", {SHEET_PART: sheet_xml(rows)})
    sheet = importing.read_path(path)
    assert sheet.headers == ["Name", "Phone"] and sheet.rows == [(2, ("Maria", "0917 123 4567"))]


def test_a_shared_text_that_is_not_there_is_named(tmp_path):
    rows = '<row><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>99</v></c></row>'
    path = workbook_with(tmp_path / "strings.xlsx", {SHEET_PART: sheet_xml(rows)})
    refused(path, "refers to text number 99 of the 4 it holds")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut off half-way
        lambda data: b"PK\x03\x04" + bytes(200),  # a zip's first bytes, then nothing
        lambda data: b"Name,Phone\nMaria,1\n",  # a CSV named .xlsx
    ],
    ids=["truncated", "header-only", "csv"],
)
def test_a_file_that_is_not_a_whole_workbook_is_refused(tmp_path, damage):
    whole = workbook_with(tmp_path / "whole.xlsx", {}).read_bytes()
    path = tmp_path / "customers.xlsx"
    path.write_bytes(damage(whole))
    refused(path, "not an Excel workbook")


def test_a_sheet_that_is_not_xml_is_refused_as_damaged(tmp_path):
    path = workbook_with(tmp_path / "garbled.xlsx", {SHEET_PART: b"<worksheet><sheetData><row"})
    refused(path, "workbook is damaged")


def test_a_csv_with_nul_bytes_is_refused(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(b"Name,Phone\nMa\x00ria,0917\n")
    refused(path, "NUL characters")


# -- the back office: a form error in the person's language, nothing kept ------------------


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def upload(client, path, language="en"):
    with path.open("rb") as sheet, quickly():
        return client.post(
            "/customers/import/new/", {"file": sheet}, headers={"Accept-Language": language}
        )


def kept_uploads(settings) -> list:
    return list((settings.DATA_DIR / "imports").glob("*")) if settings.DATA_DIR.exists() else []


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "would unpack to 146 MB"), ("nl", "146 MB"), ("zh-hans", "146 MB")],
)
def test_the_back_office_refuses_a_bomb_on_the_form(
    client, tmp_path, business, owner, settings, language, message
):
    client.force_login(owner.user)
    path = workbook_with(tmp_path / "bomb.xlsx", {SHEET_PART: bomb_rows(150)})
    response = upload(client, path, language)
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert message in errors[0]
    assert ("would unpack" in errors[0]) == (language == "en")  # translated
    assert kept_uploads(settings) == [] and not Customer.objects.exists()


def test_an_upload_larger_than_the_cap_is_a_form_error_and_not_kept(
    client, tmp_path, business, owner, settings
):
    settings.IMPORT_MAX_FILE_BYTES = 4 * 1024 * 1024  # above the 2.5 MB kept in memory
    client.force_login(owner.user)
    path = csv_file(tmp_path / "big.csv", [["Name", "Phone"]] + [["Maria", "1"]] * 800_000)
    assert path.stat().st_size > 5 * 1024 * 1024
    response = upload(client, path, "nl")
    assert response.status_code == 200
    assert "groter dan 4,0 MB" in response.context["form"].errors["file"][0]
    assert kept_uploads(settings) == [] and not Customer.objects.exists()


def test_the_upload_handler_keeps_no_more_than_the_cap(settings):
    """What Django streams to disk stops at the cap; the size says what was sent."""
    from prepaid.web.uploads import CappedUploadHandler

    settings.IMPORT_MAX_FILE_BYTES = 10
    handler = CappedUploadHandler()
    handler.new_file("file", "big.csv", "text/csv", 30)
    for start in (0, 8, 16):
        assert handler.receive_data_chunk(b"12345678", start) is None
    upload = handler.file_complete(24)
    assert upload.size == 24 and upload.read() == b"1234567812"
    upload.close()


def test_a_settlement_file_with_a_row_numbered_a_billion_is_a_form_error(
    client, tmp_path, business, owner
):
    client.force_login(owner.user)
    rows = f'<row r="1">{inline("Date")}{inline("Amount")}</row><row r="1000000000"/>'
    path = workbook_with(tmp_path / "far.xlsx", {SHEET_PART: sheet_xml(rows)})
    with path.open("rb") as sheet, quickly():
        response = client.post(
            "/reports/settlements/new/",
            {
                "file": sheet,
                "method": method("card").pk,
                "first_day": "2026-01-01",
                "last_day": "2026-01-01",
                "window_minutes": "15",
            },
        )
    assert response.status_code == 200
    assert "reaches row 1,000,000,000; at most 40,000 rows" in response.content.decode()
    assert not Settlement.objects.exists()


def test_nul_in_a_csv_reads_as_a_form_error(client, tmp_path, business, owner):
    client.force_login(owner.user)
    path = tmp_path / "customers.csv"
    path.write_bytes(b"Name,Phone\nMa\x00ria,0917\n")
    response = upload(client, path)
    assert response.status_code == 200 and "NUL characters" in response.content.decode()
