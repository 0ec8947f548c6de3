"""Importing customers from a spreadsheet (XLSX or CSV): read → map → plan → commit.

The first user keeps customers and balances in an Excel sheet; this turns that sheet into
customers with cards and opening balances, from the back office or ``prepaid import``.

1. ``read`` opens the file and finds the header row: the first of the first ten rows in
   which at least two cells are known headers, so a title row above it is passed over.
   Empty rows are dropped; row numbers stay those the spreadsheet shows (``reading``).
2. ``detect`` maps columns to fields by their headers, in English, Chinese and Dutch;
   the person may change it (``mapping_of``; ``mapping``).
3. ``plan`` reads every row under the mapping, cleans its values (phone numbers that
   lost their leading zero, "1.234,50", Excel date serials…; ``cleaning``), matches it
   to an existing customer — by code, then phone, then email; a row with none of these
   by its name — and decides what will happen: create, update or skip, or lists why it
   cannot (``planning``).
4. ``commit`` plans again and, only when no row has an error, writes the whole file in
   one transaction: all of it or nothing (``committing``).

Opening balances are OPENING transfers from the store's opening-balances house account to
the customer's wallet, one batch per customer under the key ``opening:<code>``. Keys are
unique forever: importing the same file twice posts nothing twice, and another amount for
the same customer is a row error ("already imported"), never a second posting.

Speed (100,000 rows within a minute): existing customers and past openings are fetched up
front by a few ``IN`` queries (``lib.bulk.ids``), never a query per row. New customers —
nearly every row of a first import — are written in bulk, by plain SQL (``lib.bulk``),
through the layers that own them: ``customers.services.register_many`` keeps what
``register`` keeps (search columns, name keys, a first card, tags, the audit entry), and
``ledger.services.open_many`` what ``post`` keeps (one batch and transfer per
customer, cached totals equal to them). Existing customers go one by one through
``customers.services.update`` and ``ledger.services.post``.

This package's names are what the back office, the ``import`` command and the tests use.
"""

from __future__ import annotations

from prepaid.sales.importing.cleaning import Rules, Values, parse_amount, parse_date
from prepaid.sales.importing.committing import Result, RowErrors, commit
from prepaid.sales.importing.limits import Limits
from prepaid.sales.importing.mapping import (
    Field,
    Mapping,
    column_letter,
    detect,
    find_column,
    header_field,
    header_key,
    mapping_of,
)
from prepaid.sales.importing.planning import Action, Plan, Row, opening_key, opening_request, plan
from prepaid.sales.importing.problems import ImportProblem
from prepaid.sales.importing.reading import Progress, Sheet, read, read_path, text_of

__all__ = [
    "Action",
    "Field",
    "ImportProblem",
    "Limits",
    "Mapping",
    "Plan",
    "Progress",
    "Result",
    "Row",
    "RowErrors",
    "Rules",
    "Sheet",
    "Values",
    "column_letter",
    "commit",
    "detect",
    "find_column",
    "header_field",
    "header_key",
    "mapping_of",
    "opening_key",
    "opening_request",
    "parse_amount",
    "parse_date",
    "plan",
    "read",
    "read_path",
    "text_of",
]
