"""Finding a customer: one service for the counter, the back office and the API.

1. Scanned text — a card URL, a bare card token, a customer code — resolves straight to
   its customer (``resolve``). A revoked card never resolves.
2. Anything else is a ranked search (``search``) by what the text looks like: an email,
   the last 4 or more digits of a phone number (or all of them), or part of a name.

Phone numbers and e-mail addresses are sealed (``customers.models``): they are found by
blind indexes, keyed hashes of the last four digits, of the address and of the part
before its "@". The customers with those last four digits are few (one in 10,000 of
them), so longer digits are checked against each one's opened phone number. A fragment
from the middle of a number, or the middle of an address, no longer finds anyone: no
index of those exists to leak them.

Name search is case- and accent-insensitive (names are stored folded). Substrings of
three characters or more use the engine's trigram index (PostgreSQL pg_trgm, SQLite FTS5
trigram); one or two characters — 王芳, or "jo" — use the ``NameKey`` prefix index,
because trigram indexes cannot answer them (SQLite's even answers wrongly: no rows).
Both paths give the same answers on both engines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import connection
from django.db.models import QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex

from prepaid.customers import search_indexes
from prepaid.customers.models import BlankCard, Card, Customer, NameKey
from prepaid.lib import sealing
from prepaid.lib.codes import normalize_code
from prepaid.lib.text import fold

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
LIMIT = 20
CANDIDATES = 500


def resolve(scanned: str) -> Customer | None:
    """The customer a scanned or typed card URL, token or code stands for, or None."""
    text = card_text(scanned)
    if TOKEN.match(text) and (card := _card(text)) is not None:
        return card.customer if card.revoked_at is None else None
    if code := normalize_code(text):
        return Customer.objects.filter(code=code).first()
    return None


def by_live_card(scanned: str) -> Customer | None:
    """The customer whose card in use was scanned (its URL or token), or None: unlike
    a typed code or name, proof of holding the card."""
    text = card_text(scanned)
    card = _card(text) if TOKEN.match(text) else None
    return card.customer if card is not None and card.revoked_at is None else None


def blank(scanned: str) -> BlankCard | None:
    """The pre-printed card not linked yet that was scanned (its URL or token), or None."""
    text = card_text(scanned)
    if not TOKEN.match(text):
        return None
    return BlankCard.objects.filter(token_digest=sealing.digest(text), used_at__isnull=True).first()


def _card(token: str) -> Card | None:
    """The card of ``token``, found by its digest (tokens are not stored)."""
    return (
        Card.objects.select_related("customer").filter(token_digest=sealing.digest(token)).first()
    )


def card_text(scanned: str) -> str:
    """The token in a scanned card URL (or the text itself, trimmed)."""
    text = scanned.replace("\x00", "").strip()
    if "/c/" in text:
        path = urlsplit(text).path if "://" in text else text
        text = path.rsplit("/c/", 1)[-1].strip("/")
    return text


@dataclass(frozen=True)
class Query:
    """What the text looks like, decided once."""

    text: str
    digits: str
    folded: str

    @classmethod
    def parse(cls, text: str) -> Query:
        stripped = text.strip()
        digits = "".join(ch for ch in stripped if ch.isdigit())
        only_digits = bool(digits) and all(ch.isdigit() or ch in " +-()." for ch in stripped)
        return cls(stripped, digits if only_digits else "", fold(stripped))


def search(text: str, *, limit: int = LIMIT) -> list[Customer]:
    """Customers matching ``text``, best first, at most ``limit``."""
    text = text.replace("\x00", "")  # PostgreSQL refuses NUL in text; nobody types one
    if exact := resolve(text):
        return [exact]
    query = Query.parse(text)
    if query.digits:
        if len(query.digits) < 4:
            return []
        return _by_phone(query.digits, limit)
    if "@" in query.folded:
        exact = Customer.objects.filter(
            email_index__in=sealing.blinds("email", query.folded)
        ).first()
        if exact is not None:
            return [exact]
        return _by_email_start(query.folded, limit)
    if not query.folded:
        return []
    return _by_name(query.folded, limit)


def _by_phone(digits: str, limit: int) -> list[Customer]:
    """Customers whose phone number, as typed in either form (international or
    national), ends with ``digits``: the few with its last four, checked one by one."""
    tails = sealing.blinds("tail", digits[-4:])
    candidates = list(Customer.objects.filter(phone_tail__in=tails).order_by()[:CANDIDATES])
    if len(digits) > 4:
        candidates = [c for c in candidates if _ends_with(c.phone, digits)]
    return _best(candidates, limit)


def _ends_with(phone: str, digits: str) -> bool:
    """Whether ``phone`` (E.164) is the number whose end was typed as ``digits``: in its
    international form ("639171234567", "171234567"), or whole in its national one,
    whose trunk zero E.164 leaves out ("09171234567": what follows the zero is all of
    the number but its 1–3 digit country code). No parsing: a comparison per candidate.
    """
    international = phone.lstrip("+")
    if international.endswith(digits):
        return True
    national = digits[1:]
    country = len(international) - len(national)
    return digits.startswith("0") and 1 <= country <= 3 and international.endswith(national)


def _by_email_start(fragment: str, limit: int) -> list[Customer]:
    """Customers whose address starts with ``fragment`` ("santos87@gm"): those with its
    part before the "@", checked one by one."""
    local = fragment.partition("@")[0]
    locals_ = sealing.blinds("local", local)
    candidates = Customer.objects.filter(email_local__in=locals_).order_by()[:CANDIDATES]
    return _best([c for c in candidates if c.email.startswith(fragment)], limit)


def _best(customers: list[Customer], limit: int) -> list[Customer]:
    """The first ``limit`` by folded name, then id (as ``_ranked``)."""
    return sorted(customers, key=lambda c: (c.search_name, c.pk))[:limit]


def _by_name(folded: str, limit: int) -> list[Customer]:
    """Names starting with the text first (an index range, in order), then names
    containing it elsewhere."""
    # "From the text on, in order", then keep those that really start with it: the
    # database reads at most `limit` rows of the (search_name, id) index, whatever its
    # estimate of how many names start so. (A bounded range or LIKE 'v%' tempted
    # PostgreSQL into reading all 74,000 names starting with "v" through another index.)
    following = Customer.objects.filter(search_name__gte=folded).order_by("search_name", "id")
    starting = [c for c in following[:limit] if c.search_name.startswith(folded)]
    if len(starting) == limit:
        return starting
    others = _by_key(folded) if len(folded) < 3 else _contains("search_name", folded)
    seen = {customer.pk for customer in starting}
    rest = [(name, pk) for name, pk in others if pk not in seen]
    return starting + _ranked(rest, limit - len(starting))


def _ranked(candidates: list[tuple[str, int]], limit: int) -> list[Customer]:
    """The first ``limit`` candidates by folded name, then id, as full customers.

    Sorted here rather than by the database: the candidates are few (at most
    CANDIDATES), and an ORDER BY over "id IN (candidates)" tempted PostgreSQL to walk the
    whole name index instead. Python compares code points, as both engines do for these
    columns, so the order is the same everywhere.
    """
    chosen = [pk for _, pk in sorted(candidates)[:limit]]
    found = Customer.objects.in_bulk(chosen)
    return [found[pk] for pk in chosen if pk in found]


def _by_key(folded: str) -> list[tuple[str, int]]:
    """Customers with a name key starting with ``folded`` (one or two characters)."""
    keys = NameKey.objects.filter(**_prefix("key", folded)).order_by()
    ids = keys.values("customer_id")[:CANDIDATES]
    return list(Customer.objects.filter(pk__in=ids).order_by().values_list("search_name", "pk"))


def _prefix(column: str, text: str) -> dict[str, str]:
    """ "Starts with" as each engine's B-tree serves it best. Both compare these columns by
    code point (SQLite's BINARY, PostgreSQL's "C" collation).

    PostgreSQL: LIKE 'text%', which a "C" B-tree answers and, unlike a range, estimates
    well (it guessed 12 rows for a range of 8,000 and sorted them all). SQLite: a range,
    as its LIKE with ESCAPE cannot use an index; nothing sorts above text + U+10FFFF.
    """
    if connection.vendor == "postgresql":
        return {f"{column}__startswith": text}
    return {f"{column}__gte": text, f"{column}__lt": text + "\U0010ffff"}


def _contains(column: str, fragment: str, *, piece: str = "") -> list[tuple[str, int]]:
    """(folded name, id) of customers whose ``column`` contains ``fragment``, through the
    trigram index, without ORDER BY, so the database stops at CANDIDATES.

    ``piece``, a part of the fragment, is what the index is asked about; every row it
    finds is then checked for the whole fragment by a plain substring test (``strpos``,
    ``instr``) that no index serves, before the cap: the same answers, fewer trigrams.
    (Only the name is searched so now; the piece served the e-mail addresses before they
    were sealed.)

    At most CANDIDATES matches are ranked: a three-letter fragment can match a tenth of a
    million customers, and the person will type one more letter long before they read
    that far. Past the cap, which candidates are kept depends on the engine.
    """
    piece = piece or fragment
    matching = Customer.objects.filter(**{f"{column}__contains": piece})
    if piece != fragment:
        within = StrIndex(column, Value(fragment))
        matching = matching.alias(position=within).filter(position__gt=0)
    if connection.vendor == "sqlite":
        matching = _through_fts(matching, column, fragment, piece)
    return list(matching.order_by().values_list("search_name", "pk")[:CANDIDATES])


def _through_fts(
    matching: QuerySet[Customer], column: str, fragment: str, piece: str
) -> QuerySet[Customer]:
    """Narrow ``matching`` with SQLite's FTS5 trigram table.

    A fragment without LIKE wildcards is an FTS5 phrase — its ``piece``, checked for the
    whole fragment by ``instr`` when it is only a part: with the trigram tokenizer a phrase
    is an exact substring match, answered from the index (LIKE on an external-content
    table reads every candidate row back). A fragment with ``%`` or ``_`` asks FTS5 for its
    longest plain piece and lets the escaped comparison in ``matching`` filter those. The
    subqueries carry their own LIMIT: SQLite materialises an IN (subquery) whole.
    """
    assert column in search_indexes.COLUMNS
    if not re.search(r"[%_]", fragment):
        phrase = f'{column}:"{piece.replace(chr(34), chr(34) * 2)}"'
        whole = f" AND instr({column}, %s) > 0" if piece != fragment else ""
        candidates = RawSQL(  # noqa: S611  (column from a fixed list, values bound)
            f"SELECT rowid FROM customers_search WHERE customers_search MATCH %s{whole}"
            f" LIMIT {CANDIDATES}",
            [phrase, fragment] if whole else [phrase],
        )
        return Customer.objects.filter(pk__in=candidates)
    plain = max(re.split(r"[%_]", fragment), key=len)
    if len(plain) < 3:
        return matching  # too short for trigrams: a scan, as rare as such an email is
    candidates = RawSQL(  # noqa: S611  (column from a fixed list, value bound)
        f"SELECT rowid FROM customers_search WHERE {column} LIKE %s LIMIT {CANDIDATES * 10}",
        [f"%{plain}%"],
    )
    return matching.filter(pk__in=candidates)
