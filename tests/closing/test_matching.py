"""Matching a provider's lines to our transactions (``closing.matching``): worked
examples of each rule, then random files against random transactions, checked for the
rules' promises and against a plain reading of the module docstring."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid.closing.matching import Matches, Ours, Theirs, match

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def ours(key: int, minutes: int, amount: int, reference: str = "") -> Ours:
    moment = START + timedelta(minutes=minutes)
    return Ours(key, moment, moment.date(), amount, reference)


def theirs(
    key: int, minutes: int, amount: int, reference: str = "", *, has_time: bool = True
) -> Theirs:
    moment = START + timedelta(minutes=minutes)
    if not has_time:
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return Theirs(key, moment, moment.date(), has_time, amount, reference)


def test_a_reference_names_its_transaction_whatever_the_case_and_spaces():
    found = match([theirs(1, 300, 500, "  ab-12 ")], [ours(10, 0, 500, "AB-12")], window=WINDOW)

    assert found.pairs == {1: (10, "reference")}
    assert (found.lines, found.batches, found.differing) == ({1}, {10}, set())


def test_a_reference_with_another_amount_matches_nothing_and_is_reported():
    lines = [theirs(1, 0, 550, "C-4")]
    mine = [ours(10, 0, 500, "C-4"), ours(11, 1, 550)]  # 11 has the line's amount and time

    found = match(lines, mine, window=WINDOW)

    assert found.pairs == {}
    assert found.differing == {(1, 10)}


def test_a_transaction_named_by_a_differing_line_is_not_taken_by_time():
    lines = [theirs(1, 0, 550, "C-4"), theirs(2, 1, 500)]
    mine = [ours(10, 0, 500, "C-4")]

    found = match(lines, mine, window=WINDOW)

    assert found.pairs == {}
    assert found.differing == {(1, 10)}


def test_a_reference_that_is_not_ours_falls_back_to_amount_and_time():
    found = match([theirs(1, 5, 1200, "X-99")], [ours(10, 0, 1200)], window=WINDOW)

    assert found.pairs == {1: (10, "time")}


def test_the_nearest_in_time_within_the_window_is_taken():
    mine = [ours(10, 0, 1000), ours(11, 9, 1000), ours(12, 12, 1000), ours(13, 11, 999)]

    assert match([theirs(1, 10, 1000)], mine, window=WINDOW).pairs == {1: (11, "time")}
    assert match([theirs(1, 40, 1000)], mine, window=WINDOW).pairs == {}
    assert match([theirs(1, 27, 1000)], mine, window=WINDOW).pairs == {1: (12, "time")}
    assert match([theirs(1, 27, 1000)], mine, window=timedelta(0)).pairs == {}


def test_equally_near_the_older_transaction_is_taken():
    mine = [ours(11, 20, 1000), ours(10, 0, 1000)]

    assert match([theirs(1, 10, 1000)], mine, window=WINDOW).pairs == {1: (10, "time")}


def test_lines_take_transactions_in_time_order_and_each_once():
    mine = [ours(10, 0, 1000), ours(11, 25, 1000)]
    lines = [theirs(2, 14, 1000), theirs(1, 2, 1000), theirs(3, 3, 1000)]

    found = match(lines, mine, window=WINDOW)

    assert found.pairs == {1: (10, "time"), 2: (11, "time")}


def test_a_line_with_a_date_only_matches_within_its_day():
    mine = [ours(10, 600, 1000), ours(11, 60 * 20, 1000)]  # 18:00, and 04:00 the next day
    found = match([theirs(1, 0, 1000, has_time=False)], mine, window=WINDOW)

    assert found.pairs == {1: (10, "time")}
    nothing_that_day = match([theirs(1, 0, 700, has_time=False)], mine, window=WINDOW)
    assert nothing_that_day.pairs == {}


def test_refunds_match_refunds():
    mine = [ours(10, 0, 500), ours(11, 1, -500)]

    assert match([theirs(1, 1, -500)], mine, window=WINDOW).pairs == {1: (11, "time")}


def test_a_line_with_another_amount_does_not_keep_a_transaction_from_its_true_line():
    mine = [ours(10, 0, 500, "A-1")]
    lines = [theirs(1, 0, 1000, "A-1"), theirs(2, 5, 500, "a-1")]  # the wrong one first

    found = match(lines, mine, window=WINDOW)

    assert found.pairs == {2: (10, "reference")}
    assert found.differing == set()
    assert match(lines[::-1], mine, window=WINDOW) == found


def test_a_reference_match_wins_over_an_earlier_time_match():
    mine = [ours(10, 0, 1000, "R-1")]
    lines = [theirs(1, 0, 1000), theirs(2, 60 * 5, 1000, "r-1")]

    found = match(lines, mine, window=WINDOW)

    assert found.pairs == {2: (10, "reference")}


def test_a_big_file_is_matched_in_moments():
    """20,000 lines (the most a file may have) of a few amounts against as many of ours:
    a scan of every transaction per line took minutes."""
    count = 20_000
    mine = [ours(n, n % 43_200, 5000 * (1 + n % 3)) for n in range(count)]
    lines = [theirs(n, (n % 43_200) + 1, 5000 * (1 + n % 3)) for n in range(count)]

    started = time.perf_counter()
    found = match(lines, mine, window=WINDOW)

    assert time.perf_counter() - started < 5
    assert found.pairs == {n: (n, "time") for n in range(count)}


# -- random files ------------------------------------------------------------------------------


def reference_match(lines: list[Theirs], mine: list[Ours], window: timedelta) -> Matches:
    """The module docstring, read plainly: no index, every transaction looked at."""
    found = Matches()
    taken: set[int] = set()
    named: set[int] = set()
    in_order = sorted(lines, key=lambda t: (t.moment, t.key))

    def same_reference(line: Theirs) -> list[Ours]:
        wanted = line.reference.strip().casefold()
        return [
            o
            for o in sorted(mine, key=lambda o: o.key)
            if wanted and o.reference.strip().casefold() == wanted
        ]

    for line in in_order:  # 1. reference and amount
        equal = [
            o
            for o in same_reference(line)
            if o.amount_minor == line.amount_minor and o.key not in taken
        ]
        if equal:
            found.pairs[line.key] = (equal[0].key, "reference")
            taken.add(equal[0].key)
    rest = []
    for line in in_order:  # 1. reference, another amount
        if line.key in found.pairs:
            continue
        left = [o for o in same_reference(line) if o.key not in taken]
        if left:
            named.update(o.key for o in left)
            found.differing.update((line.key, o.key) for o in left)
        else:
            rest.append(line)
    for line in rest:  # 2. amount and time
        fitting = [
            o
            for o in mine
            if o.key not in taken
            and o.key not in named
            and o.amount_minor == line.amount_minor
            and (abs(o.moment - line.moment) <= window if line.has_time else o.day == line.day)
        ]
        if fitting:
            best = min(fitting, key=lambda o: (abs(o.moment - line.moment), o.moment, o.key))
            found.pairs[line.key] = (best.key, "time")
            taken.add(best.key)
    return found


REFERENCES = st.sampled_from(["", "", "A-1", "a-1 ", "B-2", "C-3", "Z-9"])
AMOUNTS = st.sampled_from([500, 500, 1000, 1200, -500])
MINUTES = st.integers(0, 3 * 24 * 60)

ours_lists = st.lists(st.tuples(MINUTES, AMOUNTS, REFERENCES), max_size=25)
theirs_lists = st.lists(st.tuples(MINUTES, AMOUNTS, REFERENCES, st.booleans()), max_size=25)


@settings(max_examples=300, deadline=None)
@given(ours_lists, theirs_lists, st.integers(0, 120))
def test_random_files_keep_the_rules(mine_rows, their_rows, window_minutes):
    mine = [ours(100 + n, *row) for n, row in enumerate(mine_rows)]
    lines = [
        theirs(n, minutes, amount, reference, has_time=timed)
        for n, (minutes, amount, reference, timed) in enumerate(their_rows)
    ]
    window = timedelta(minutes=window_minutes)

    found = match(lines, mine, window=window)

    by_key = {o.key: o for o in mine}
    line_by_key = {t.key: t for t in lines}
    matched = [batch for batch, _rule in found.pairs.values()]
    assert len(matched) == len(set(matched)), "a transaction matched twice"
    assert set(found.pairs) <= set(line_by_key)  # every line at most once: dict keys
    for line_key, (batch, rule) in found.pairs.items():
        line, transaction = line_by_key[line_key], by_key[batch]
        assert line.amount_minor == transaction.amount_minor
        if rule == "reference":
            assert line.reference.strip().casefold() == transaction.reference.strip().casefold()
        else:
            assert rule == "time"
            if line.has_time:
                assert abs(line.moment - transaction.moment) <= window
            else:
                assert line.day == transaction.day
    # A reference match wins: a transaction a line names by reference, with the same
    # amount, is that line's — unless the line took another one of that reference.
    for line in lines:
        wanted = line.reference.strip().casefold()
        named_equal = [
            o
            for o in mine
            if wanted
            and o.reference.strip().casefold() == wanted
            and o.amount_minor == line.amount_minor
        ]
        for transaction in named_equal:
            rules = [rule for batch, rule in found.pairs.values() if batch == transaction.key]
            if rules != ["reference"]:
                taken_by_line = found.pairs.get(line.key, (0, "none"))[1]
                assert taken_by_line == "reference", (line, transaction, rules)
    for line_key, batch in found.differing:
        assert line_key not in found.pairs and batch not in matched
    assert found == reference_match(lines, mine, window)


def test_no_lines_or_no_transactions_match_nothing():
    assert match([], [ours(1, 0, 5)], window=WINDOW) == Matches()
    assert match([theirs(1, 0, 5)], [], window=WINDOW) == Matches()
