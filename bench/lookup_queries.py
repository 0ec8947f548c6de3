"""What people type into the lookup box, drawn from the seeded customers.

Each query is made from one random customer (its ``source``), so it finds something:

* name — ``prefix``: the first 3–6 letters of a word of the name ("mari", "Bautis");
  ``inner``: 3–6 letters from inside a word ("ntos", "ijkst"); ``accent-free``: a
  fragment of an accented name typed without accents ("jose", "pena", "zoe");
  ``chinese``: two characters, a whole name (王芳) or part of a three-character one
  (秀英); ``short``: one or two letters ("jo", "m") or one Chinese character (王).
* phone — ``last4``: the last four digits; ``tail``: the last 5–8 digits, or the whole
  number in international or national form, sometimes with a space or dash
  ("1234 567", "0917 123 4567"). Phone numbers are sealed: only their end is found.
* email — ``full``: the whole address; ``partial``: its beginning up to the "@" and
  maybe a few letters of the domain ("santos482@gm"). Without an "@" text is a name
  query.
* scan — ``url``: a card's QR URL; ``token``: the bare token; ``code``: the customer
  code as printed, in lower case, or without its dash. These go to ``lookup.resolve``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bench.people import Population
from prepaid.lib.text import fold, is_cjk

CARD_SITE = "https://shop.example.com"  # resolve() reads only the path of a card URL
VARIANTS = {
    "name": ("prefix", "inner", "accent-free", "chinese", "short"),
    "phone": ("last4", "tail"),
    "email": ("full", "partial"),
    "scan": ("url", "token", "code"),
}
RESOLVED = {"scan"}  # kinds that go to lookup.resolve; the others to lookup.search
# Who a variant draws its customer from: see ``Population.where``; None: anyone.
DRAWN_FROM = {
    "prefix": "western",
    "inner": "western",
    "accent-free": "accented",
    "chinese": "chinese",
    "short": None,
    "last4": "phone",
    "tail": "phone",
    "full": "email",
    "partial": "email",
}


@dataclass(frozen=True)
class Query:
    kind: str
    variant: str
    text: str
    source: int  # index of the customer the text was drawn from


def _words(name: str, shortest: int) -> list[str]:
    return [word for word in name.split() if sum(ch.isalpha() for ch in word) >= shortest]


def _typed(text: str, rng: random.Random) -> str:
    """Mostly lower case, as people type into a search box; sometimes as written."""
    return text.lower() if rng.random() < 0.7 else text


def prefix(people: Population, index: int, rng: random.Random) -> str | None:
    words = _words(people.names[index], 3)
    if not words:
        return None
    return _typed(rng.choice(words)[: rng.randint(3, 6)], rng)


def inner(people: Population, index: int, rng: random.Random) -> str | None:
    words = [word for word in _words(people.names[index], 5) if word.isalpha()]
    if not words:
        return None
    word = rng.choice(words)
    start = rng.randint(1, len(word) - 3)
    return word[start : start + rng.randint(3, min(6, len(word) - start))].lower()


def accent_free(people: Population, index: int, rng: random.Random) -> str | None:
    """3–6 letters around an accented letter, typed without the accent."""
    words = [word for word in people.names[index].split() if fold(word) != word.casefold()]
    if not words:
        return None
    word = rng.choice(words)
    at = rng.choice([i for i, ch in enumerate(word) if fold(ch) != ch.casefold()])
    size = min(rng.randint(3, 6), len(word))
    start = rng.randint(max(0, at - size + 1), min(at, len(word) - size))
    return fold(word[start : start + size])


def chinese(people: Population, index: int, rng: random.Random) -> str | None:
    """A two-character name whole (王芳), or two characters of a three-character one."""
    name = people.names[index]
    start = rng.randrange(len(name) - 1)
    return name[start : start + 2]


def short(people: Population, index: int, rng: random.Random) -> str | None:
    """One or two letters starting a word ("jo", "m"); one character of a Chinese name."""
    name = people.names[index]
    if is_cjk(name[0]):
        return rng.choice(name)
    letters = "".join(ch for ch in fold(rng.choice(name.split())) if ch.isalpha())
    return letters[: rng.choice((1, 2))] or None


def last4(people: Population, index: int, rng: random.Random) -> str | None:
    return people.phones[index][-4:]


def tail(people: Population, index: int, rng: random.Random) -> str | None:
    """The last 5–8 digits, or the whole international or national form, maybe split by
    a space or dash."""
    digits = rng.choice(people.search_phones[index].split())
    size = rng.choice((rng.randint(5, 8), len(digits)))
    piece = digits[-size:]
    if rng.random() < 0.3:
        cut = rng.randint(2, len(piece) - 2)
        piece = f"{piece[:cut]}{rng.choice(' -')}{piece[cut:]}"
    return piece


def full(people: Population, index: int, rng: random.Random) -> str | None:
    return people.emails[index]


def partial(people: Population, index: int, rng: random.Random) -> str | None:
    """The address typed up to the "@" and a little after."""
    local, domain = people.emails[index].split("@")
    return f"{local}@{domain[: rng.randint(0, 4)]}"


def url(people: Population, index: int, rng: random.Random) -> str | None:
    return f"{CARD_SITE}/c/{people.tokens[index]}"


def token(people: Population, index: int, rng: random.Random) -> str | None:
    return people.tokens[index]


def code(people: Population, index: int, rng: random.Random) -> str | None:
    printed = people.codes[index]
    return rng.choice((printed, printed, printed.lower(), printed.replace("-", "")))


Maker = Callable[[Population, int, random.Random], "str | None"]
MAKERS: dict[str, Maker] = {
    "prefix": prefix,
    "inner": inner,
    "accent-free": accent_free,
    "chinese": chinese,
    "short": short,
    "last4": last4,
    "tail": tail,
    "full": full,
    "partial": partial,
    "url": url,
    "token": token,
    "code": code,
}


def draw(people: Population, per_kind: int, seed: int) -> list[Query]:
    """``per_kind`` queries of each kind, its variants in equal shares, shuffled."""
    rng = random.Random(seed)
    pools = {wanted: people.where(wanted) for wanted in set(DRAWN_FROM.values()) if wanted}
    queries = []
    for kind, variants in VARIANTS.items():
        for number in range(per_kind):
            variant = variants[number % len(variants)]
            pool = pools.get(DRAWN_FROM.get(variant) or "")
            queries.append(_one(people, kind, variant, pool, rng))
    rng.shuffle(queries)
    return queries


def _one(
    people: Population, kind: str, variant: str, pool: list[int] | None, rng: random.Random
) -> Query:
    """A query of ``variant`` from a random customer of ``pool`` (None: anyone)."""
    while True:
        index = rng.choice(pool) if pool else rng.randrange(len(people))
        text = MAKERS[variant](people, index, rng)
        if text:
            return Query(kind, variant, text, index)
