"""Customer sheets as shops really have them, made in the tests or kept as small files.

``xlsx(path, rows)`` and ``csv_file(path, rows)`` write a sheet; the committed files are
what Excel writes on a Dutch (``klanten-nl.csv``: semicolons, decimal commas, Windows-1252)
and a Chinese Windows (``customers-gbk.csv``: GBK) machine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
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
