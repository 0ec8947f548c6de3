"""The notes and coins of common currencies, for counting a drawer one kind at a time.

Values are in the currency's minor unit, largest first. A currency not listed here is
counted as a total. A value that is both a note and a coin (the 20-peso note and coin,
the 1-yuan note and coin) is listed once: the drawer counts value, not paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Denomination:
    value_minor: int
    coin: bool


def _kinds(notes: tuple[int, ...], coins: tuple[int, ...]) -> tuple[Denomination, ...]:
    return tuple(Denomination(value, False) for value in notes) + tuple(
        Denomination(value, True) for value in coins
    )


TABLE: dict[str, tuple[Denomination, ...]] = {
    # Philippine peso: notes 1000 to 20; coins 20 (since 2019), 10, 5, 1, 25 and 5 sentimo
    "PHP": _kinds((100000, 50000, 20000, 10000, 5000, 2000), (1000, 500, 100, 25, 5, 1)),
    # US dollar: notes 100 to 1; coins 50, 25, 10, 5 and 1 cent
    "USD": _kinds((10000, 5000, 2000, 1000, 500, 200, 100), (50, 25, 10, 5, 1)),
    # Euro: notes 500 to 5; coins 2 euro to 1 cent
    "EUR": _kinds((50000, 20000, 10000, 5000, 2000, 1000, 500), (200, 100, 50, 20, 10, 5, 2, 1)),
    # Renminbi: notes 100 to 1 yuan; coins 5 jiao and 1 jiao
    "CNY": _kinds((10000, 5000, 2000, 1000, 500, 100), (50, 10)),
}

MAX_COUNT = 100_000  # pieces of one kind in one drawer


def of(currency: str) -> tuple[Denomination, ...]:
    """The currency's notes and coins; empty: count the total."""
    return TABLE.get(currency, ())


def total(counts: Mapping[int, int]) -> int:
    """What ``value → count`` adds up to, in minor units."""
    return sum(value * count for value, count in counts.items())
