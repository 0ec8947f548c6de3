"""Customer sheets as shops really have them, made in the tests or kept as small files.

``xlsx(path, rows)`` and ``csv_file(path, rows)`` write a sheet; the committed files are
what Excel writes on a Dutch (``klanten-nl.csv``: semicolons, decimal commas, Windows-1252)
and a Chinese Windows (``customers-gbk.csv``: GBK) machine.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
Rows = Sequence[Sequence[object]]


def xlsx(path: Path, rows: Rows) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def csv_file(path: Path, rows: Rows, *, delimiter: str = ",", encoding: str = "utf-8-sig") -> Path:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def committed(name: str) -> Path:
    return HERE / name


# -- hostile workbooks: a real workbook with some of its parts replaced --------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET_PART = "xl/worksheets/sheet1.xml"
STRINGS_PART = "xl/sharedStrings.xml"
LAUGHS = (  # "billion laughs": ten to the ninth "lol"s from a few hundred bytes
    '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)
PASSWD = '<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def sheet_xml(rows: str, *, doctype: str = "", dimension: str = "") -> bytes:
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<worksheet xmlns="{MAIN}">'
        f"{head}<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def strings_xml(*texts: str, doctype: str = "") -> bytes:
    items = "".join(f"<si><t>{text}</t></si>" for text in texts)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<sst xmlns="{MAIN}" '
        f'count="{len(texts)}" uniqueCount="{len(texts)}">{items}</sst>'
    ).encode()


STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def workbook_with(path: Path, parts: dict[str, bytes | Iterable[bytes]]) -> Path:
    """openpyxl's workbook of a header and one customer, with a shared strings part as
    Excel writes (openpyxl writes its text inline) and ``parts`` put in place of its own
    (chunks: a big part, compressed as it comes)."""
    made = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["Name", "Phone"])
    book.active.append(["Maria", "0917 123 4567"])
    book.save(made)
    parts = {STRINGS_PART: strings_xml("Name", "Phone", "Maria", "0917 123 4567"), **parts}
    with (
        zipfile.ZipFile(made) as original,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as changed,
    ):
        for info in original.infolist():
            content = original.read(info.filename)
            if info.filename == "[Content_Types].xml":
                strings = f'<Override PartName="/{STRINGS_PART}" ContentType="{STRINGS_TYPE}"/>'
                content = content.replace(b"</Types>", strings.encode() + b"</Types>")
            if info.filename not in parts:
                changed.writestr(info, content)
        for name, content in parts.items():
            if isinstance(content, bytes):
                changed.writestr(name, content)
                continue
            with changed.open(name, "w", force_zip64=True) as part:
                for chunk in content:
                    part.write(chunk)
    return path


def declare_size(path: Path, part: str, size: int) -> Path:
    """Make the archive's directory declare ``size`` unpacked bytes for ``part``, whatever
    the part really holds (the field at offset 24 of its central directory entry)."""
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02", 0)
    while True:
        name_length = int.from_bytes(data[entry + 28 : entry + 30], "little")
        if data[entry + 46 : entry + 46 + name_length] == part.encode():
            data[entry + 24 : entry + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(data))
            return path
        entry = data.index(b"PK\x01\x02", entry + 4)
