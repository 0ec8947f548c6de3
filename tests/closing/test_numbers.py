"""Z numbers: 1, 2, 3… per store, without gaps, shared by the store's close and its
counters' closes — also when two closes are made at the same moment (PostgreSQL: real
threads; first a control that shows the race with the store's lock taken away)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections

from prepaid.closing import operations
from prepaid.closing.models import DayClose
from prepaid.operations import envelope
from prepaid.staff.refusals import Refusal
from tests.closing.conftest import close_day, decide
from tests.factories import make_staff, make_store

CARD = (("card", 3000),)


def numbers() -> list[tuple[str, int]]:
    return [
        (close.device.name if close.device else close.store.name, close.number)
        for close in DayClose.objects.select_related("store", "device").order_by("number")
    ]


@pytest.mark.django_db
def test_a_stores_closes_and_its_counters_closes_share_one_sequence(yesterday, manager):
    close_day(manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD)
    close_day(manager, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD)
    close_day(manager, f"counter:{yesterday.other_device.pk}", yesterday.day, counted_minor=700)
    close_day(manager, yesterday.store_place, yesterday.day - timedelta(days=1))

    assert numbers() == [("Till 1", 1), ("Store A", 2), ("Till 2", 3), ("Store A", 4)]


@pytest.mark.django_db
def test_each_store_counts_from_one(yesterday, manager):
    store_b = make_store("Store B")
    boss_b = make_staff("Bo", role="manager", store=store_b)
    close_day(manager, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD)
    close_day(boss_b, f"store:{store_b.pk}", yesterday.day)
    close_day(boss_b, f"store:{store_b.pk}", yesterday.day - timedelta(days=1))

    by_store = sorted(DayClose.objects.values_list("store__name", "number"))
    assert by_store == [("Store A", 1), ("Store B", 1), ("Store B", 2)]


@pytest.mark.django_db
def test_refusals_and_counting_again_leave_no_gap(yesterday, manager, owner):
    with pytest.raises(Refusal):
        close_day(manager, yesterday.store_place, yesterday.day, counted_minor=1)
    first = close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=1,
        settled=CARD,
        explanations=(("cash", "?"),),
    )
    decide(owner, first.data["id"], approve=False, note="count again")
    close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=8700,
        settled=CARD,
        close=first.data["id"],
    )
    close_day(manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD)

    assert numbers() == [("Store A", 1), ("Till 1", 2)]


# -- at the same moment (PostgreSQL) ---------------------------------------------------------


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two closes can race there")


def both_at_once(first: Callable[[], object], second: Callable[[], object]) -> list[object]:
    """Run both in threads released together; their answers, or what they raised."""
    start = threading.Barrier(2)
    answers: list[object] = [None, None]

    def target(index: int, work: Callable[[], object]) -> None:
        try:
            connection.ensure_connection()  # connect before the start line
            start.wait(timeout=30)
            answers[index] = work()
        except BaseException as error:
            answers[index] = error
            start.abort()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=target, args=(n, work), name=f"close-{n}")
        for n, work in enumerate((first, second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a close hung"
    return answers


def two_counters(day, manager) -> tuple[Callable[[], object], Callable[[], object]]:
    return (
        lambda: close_day(manager, day.counter_place, day.day, counted_minor=8000, settled=CARD),
        lambda: close_day(manager, f"counter:{day.other_device.pk}", day.day, counted_minor=700),
    )


@pytest.mark.django_db(transaction=True)
def test_control_without_the_stores_lock_two_closes_take_the_same_number(
    postgres_only, yesterday, manager, monkeypatch
):
    """Both read the last number before either writes (the barrier makes sure): both
    take 1, the unique constraint refuses the second, and the envelope's retry gives
    it 2. The race is real; the attempt at a duplicate shows it."""
    attempts: list[int] = []
    read_both = threading.Barrier(2)
    waited: set[str] = set()

    def unlocked(store):
        last = DayClose.objects.filter(store=store).order_by("-number").first()
        number = 1 if last is None else last.number + 1
        attempts.append(number)
        if threading.current_thread().name not in waited:  # the retry does not wait
            waited.add(threading.current_thread().name)
            read_both.wait(timeout=30)
        return number

    refused_by_the_index: list[str] = []
    attempt = envelope._attempt

    def seen(*args, **kwargs):
        try:
            return attempt(*args, **kwargs)
        except IntegrityError as error:
            refused_by_the_index.append(str(error))
            raise  # the envelope runs the close once more

    monkeypatch.setattr(operations, "_next_number", unlocked)
    monkeypatch.setattr(envelope, "_attempt", seen)

    answers = both_at_once(*two_counters(yesterday, manager))

    assert not [a for a in answers if isinstance(a, BaseException)], answers
    assert sorted(attempts) == [1, 1, 2], "no duplicate attempt: the harness did not race"
    assert len(refused_by_the_index) == 1
    assert "close_number_once" in refused_by_the_index[0]
    assert sorted(number for _name, number in numbers()) == [1, 2]


def waiting_for_a_lock(seconds: float = 30) -> bool:
    """Whether another connection to this database waits for a lock (PostgreSQL says so
    in ``pg_stat_activity``), asked again until it does or ``seconds`` have passed."""
    pause = threading.Event()
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            pause.wait(0.005)  # asking again, not ordering the threads
    return False


@pytest.mark.django_db(transaction=True)
def test_two_counters_closed_at_once_get_distinct_numbers(
    postgres_only, yesterday, manager, monkeypatch
):
    """The first to have its number waits, inside its transaction, until the other is
    seen waiting for the store's lock; the other then reads 1 once the first committed,
    and takes 2 — never 1 again."""
    locked = operations._next_number
    attempts: list[int] = []
    asked = {name: threading.Event() for name in ("close-0", "close-1")}
    guard = threading.Lock()

    def watched(store):
        me = threading.current_thread().name
        asked[me].set()
        number = locked(store)
        with guard:
            attempts.append(number)
            first = len(attempts) == 1
        if first:
            other = next(name for name in asked if name != me)
            assert asked[other].wait(timeout=30), "the other close never asked for a number"
            assert waiting_for_a_lock(), "the other close did not wait for the store's lock"
        return number

    monkeypatch.setattr(operations, "_next_number", watched)

    answers = both_at_once(*two_counters(yesterday, manager))

    assert not [a for a in answers if isinstance(a, BaseException)], answers
    assert attempts == [1, 2]  # no attempt at a duplicate, no retry
    assert sorted(number for _name, number in numbers()) == [1, 2]
    assert {name for name, _number in numbers()} == {"Till 1", "Till 2"}


@pytest.mark.django_db(transaction=True)
def test_one_counter_closed_twice_at_once_is_closed_once(postgres_only, yesterday, manager):
    def close():
        return close_day(
            manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD
        )

    answers = both_at_once(close, close)

    refused = [a for a in answers if isinstance(a, Refusal)]
    assert [r.code for r in refused] == ["day_already_closed"], answers
    assert numbers() == [("Till 1", 1)]
