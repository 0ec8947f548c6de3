"""Whole numbers from text a person or a client typed: ids and counts in query strings."""

from __future__ import annotations

LARGEST_ID = 2**63 - 1  # a 64-bit integer column, on SQLite and PostgreSQL alike


def whole_number(text: str, *, maximum: int = LARGEST_ID) -> int | None:
    """``text`` as a whole number from 0 to ``maximum``, else None: "12" → 12; "abc",
    "-1", "²" (a digit ``int`` refuses) and numbers past a database's integers → None."""
    if not text.isascii() or not text.isdecimal() or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None
