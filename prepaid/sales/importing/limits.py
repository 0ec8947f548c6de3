"""What an uploaded file may hold at most, checked before the heavy work.

A 0.9 MB workbook can unpack to gigabytes, and one row numbered 1,000,000,000 would have
the reader fill in a billion empty rows before it. So, in this order:

1. the file's size (``file_bytes``), before anything is read;
2. for a workbook, the sizes its zip archive declares for its parts (``unpacked_bytes``),
   before openpyxl opens it. Python's zipfile never unpacks more than a part declares (a
   part that lies fails its checksum), so the declared sizes bound the work;
3. while the sheet is read: the size it declares (``<dimension>``), each row's number
   (``rows``) and each value's column (``columns``), before any row is kept.

Document type declarations are refused in every XML part (defusedxml, through which
openpyxl and ``reading`` parse): no entity expansion (billion laughs), no external file
(XXE). The caps are settings (docs/configuration.md, "Uploads"); a caller may be stricter.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, replace
from typing import IO

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from prepaid.sales.importing.problems import ImportProblem

MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The most a file may hold; ``ImportProblem`` names the one a file passes."""

    file_bytes: int
    unpacked_bytes: int
    rows: int  # the last row number read, as the spreadsheet shows it
    columns: int

    @classmethod
    def of_settings(cls, *, file_bytes: int | None = None, rows: int | None = None) -> Limits:
        """The configured caps, or stricter ones where a caller gives them."""
        configured = cls(
            file_bytes=settings.IMPORT_MAX_FILE_BYTES,
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_BYTES,
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
        )
        return replace(
            configured,
            file_bytes=min(configured.file_bytes, file_bytes or configured.file_bytes),
            rows=min(configured.rows, rows or configured.rows),
        )

    def check_size(self, source: IO[bytes]) -> None:
        """Refuse a file larger than ``file_bytes``. An upload knows its size (all it
        received, though only the first ``file_bytes`` were kept: ``web.uploads``)."""
        size = getattr(source, "size", None)
        if not isinstance(size, int):
            position = source.tell()
            size = source.seek(0, 2)
            source.seek(position)
        if size > self.file_bytes:
            raise ImportProblem(
                _("The file is larger than %(size)s MB; split it in parts.")
                % {"size": megabytes(self.file_bytes)}
            )

    def check_archive(self, source: IO[bytes]) -> None:
        """Refuse a workbook whose parts would unpack to more than ``unpacked_bytes``."""
        try:
            with zipfile.ZipFile(source) as archive:
                declared = sum(part.file_size for part in archive.infolist())
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
            raise ImportProblem(not_a_workbook()) from error
        finally:
            source.seek(0)
        if declared > self.unpacked_bytes:
            message = _(
                "This workbook would unpack to %(declared)s MB, more than the %(size)s MB "
                "that can be read; split it in parts or save it as CSV."
            )
            raise ImportProblem(
                message % {"declared": megabytes(declared), "size": megabytes(self.unpacked_bytes)}
            )

    def check_row(self, number: int) -> None:
        if number > self.rows:
            message = _(
                "The sheet reaches row %(number)s; at most %(count)s rows can be imported at "
                "once. Split it in parts, or delete the empty rows below the last one."
            )
            raise ImportProblem(message % {"number": grouped(number), "count": grouped(self.rows)})

    def check_column(self, index: int) -> None:
        """``index`` counts from 0: column A."""
        if index >= self.columns:
            message = _(
                "The sheet has values in its column %(number)s; at most %(count)s columns "
                "can be read. Delete the columns that are not needed."
            )
            raise ImportProblem(message % {"number": index + 1, "count": self.columns})


def grouped(number: int) -> str:
    return str(number_format(number, force_grouping=True))


def megabytes(size: int) -> str:
    """ "50", "1,024"; "0.1" below 10 MB (a stricter cap, or a test's)."""
    places = 0 if size >= 10 * MEGABYTE else 1
    shown = round(size / MEGABYTE, places)
    return str(number_format(shown, decimal_pos=places, force_grouping=True))


def not_a_workbook() -> str:
    return _("This file is not an Excel workbook (.xlsx) that can be read.")
