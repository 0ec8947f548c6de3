"""Which span of time a close covers, the X-report of what is not closed yet, and the
closed day that stays as it was closed: a later reversal of one of its transactions is
today's, reported as a correction of the closed day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.closing.figures import channels, corrections, corrections_of_days, figures
from prepaid.closing.models import DayClose
from prepaid.closing.spans import SETTLING, Place, open_span, place_of, span
from prepaid.ledger.services import Actor
from prepaid.reports import days
from prepaid.reports.statements import Scope, statement
from prepaid.sales import services as sales
from prepaid.staff.refusals import Refusal
from tests.closing.conftest import at, close_day, key
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(business_in_two_zones):
    return business_in_two_zones


CARD = (("card", 3000),)


def cash_expected(place: Place, covered) -> int:
    cash = [c for c in channels(figures(place, covered)) if c.is_cash]
    return cash[0].net if cash else 0


def test_a_place_is_named_by_a_token(yesterday):
    store, till = place_of(yesterday.store_place), place_of(yesterday.counter_place)

    assert store == Place(yesterday.store)
    assert till == Place(yesterday.store, yesterday.device)
    assert (store.token, till.token) == (yesterday.store_place, yesterday.counter_place)
    assert (store.name, till.name) == ("Store A", "Till 1")
    assert (store.scope, till.scope) == (
        Scope(store=yesterday.store.pk),
        Scope(device=yesterday.device.pk),
    )
    for token in ("store:0", "counter:", "till:1", "store:1:2", "store:" + "9" * 19, ""):
        assert place_of(token) is None


def test_a_day_closed_after_it_ended_covers_the_whole_day(yesterday, manager):
    close_day(manager, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD)

    close = DayClose.objects.get()
    assert (close.starts_at, close.ends_at) == days.bounds(yesterday.day)
    assert span(Place(yesterday.store), yesterday.day).whole_day


def test_a_day_closed_at_21_04_ends_at_21_04_and_the_evening_goes_to_the_next_day(
    yesterday, manager, monkeypatch
):
    """The store closes yesterday at 21:05; its close stops a minute earlier, at 21:04
    (a posting on its way is dated before it commits), and a top-up at 21:30 is the
    next day's."""
    store = Place(yesterday.store)
    closed_at = at(yesterday.day, 21, 4)
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: closed_at + SETTLING)
        close_day(manager, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD)
    close = DayClose.objects.get()
    assert (close.starts_at, close.ends_at) == (days.bounds(yesterday.day)[0], closed_at)

    evening = Actor(store=yesterday.store, staff=manager, at=at(yesterday.day, 21, 30))
    sales.top_up(make_customer("Late"), 1000, method=method("cash"), key=key(), actor=evening)

    # The X-report at 22:00: what the next close will count, from 21:04.
    running = open_span(store, now=at(yesterday.day, 22))
    assert (running.day, running.starts_at, running.ends_at) == (
        yesterday.day,
        closed_at,
        at(yesterday.day, 22),
    )
    assert cash_expected(store, running) == 1000

    # The next day starts at 21:04 the evening before, and counts the 10.00.
    today = yesterday.day + timedelta(days=1)
    following = span(store, today)
    assert following.starts_at == closed_at
    assert following.started_early and not span(store, yesterday.day).started_early
    close_day(manager, yesterday.store_place, today, counted_minor=1000)
    next_close = DayClose.objects.get(day=today)
    assert next_close.starts_at == closed_at
    assert next_close.transaction_count == 1
    assert next_close.totals["top_ups"] == {"count": 1, "amount": 1000, "bonus": 0}
    assert_ledger_sound()


def test_today_closed_early_leaves_an_open_span_from_the_close(yesterday, manager, monkeypatch):
    store = Place(yesterday.store)
    closed_at = at(yesterday.day, 15)
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: closed_at + SETTLING)
        close_day(manager, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD)
        assert span(store, yesterday.day).ended_early

    later = open_span(store, now=at(yesterday.day, 20))
    assert (later.starts_at, later.ends_at) == (closed_at, at(yesterday.day, 20))
    assert cash_expected(store, later) == 0  # all of the day's postings were before 15:00
    # Till 1 has not been closed: its X-report still starts at the start of the day.
    till = Place(yesterday.store, yesterday.device)
    assert open_span(till, now=at(yesterday.day, 20)).starts_at == days.bounds(yesterday.day)[0]
    assert cash_expected(till, open_span(till, now=at(yesterday.day, 20))) == 8000


def test_the_x_report_of_an_unclosed_day_runs_from_its_start_to_now(yesterday):
    till = Place(yesterday.store, yesterday.other_device)
    moment = at(yesterday.day, 12, 30)

    running = open_span(till, now=moment)

    assert (running.starts_at, running.ends_at) == (days.bounds(yesterday.day)[0], moment)
    assert cash_expected(till, running) == 700
    assert cash_expected(till, open_span(till, now=at(yesterday.day, 11))) == 0


def test_a_day_that_has_not_begun_cannot_be_closed(yesterday, manager):
    tomorrow = days.today() + timedelta(days=1)
    with pytest.raises(Refusal) as refused:
        close_day(manager, yesterday.store_place, tomorrow)

    assert (refused.value.code, refused.value.field) == ("day_not_started", "day")
    assert not DayClose.objects.exists()


def test_today_may_be_closed_while_it_runs(yesterday, manager):
    done = close_day(manager, yesterday.store_place, days.today())

    close = DayClose.objects.get()
    assert close.starts_at == days.bounds(days.today())[0]
    assert close.ends_at <= timezone.now() - SETTLING
    assert done.data["transactions"] == 0


def test_a_day_is_closed_once_per_place(yesterday, manager):
    close_day(manager, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD)
    close_day(manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD)

    for place in (yesterday.store_place, yesterday.counter_place):
        with pytest.raises(Refusal) as refused:
            close_day(manager, place, yesterday.day, counted_minor=8700, settled=CARD)
        assert refused.value.code == "day_already_closed"
    assert DayClose.objects.count() == 2


# -- a closed day stays closed ----------------------------------------------------------------


@pytest.fixture
def corrected(yesterday, manager):
    """Yesterday closed (Till 1 first: Z1, then the store: Z2); today Till 1 reverses
    yesterday's card top-up of 30.00."""
    close_day(manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD)
    close_day(manager, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD)
    before = statement(yesterday.day, yesterday.day, Scope(store=yesterday.store.pk))
    now = Actor(store=yesterday.store, staff=manager, device=yesterday.device)
    reversal = sales.reverse(yesterday.batches["card"], key=key(), actor=now, reason="declined")
    return before, reversal.batch


def test_a_reversal_today_of_a_closed_days_top_up_is_todays(yesterday, corrected):
    before, _reversal = corrected
    scope = Scope(store=yesterday.store.pk)

    assert statement(yesterday.day, yesterday.day, scope) == before
    today = statement(days.today(), days.today(), scope)
    assert [(r.original, r.method.code, r.count, r.paid) for r in today.reversals] == [
        ("top_up", "card", 1, 3000)
    ]
    assert DayClose.objects.get(number=2).transaction_count == 7
    assert_ledger_sound()


def test_it_is_reported_as_a_correction_of_the_closed_day(yesterday, corrected):
    _before, reversal = corrected

    found = corrections_of_days(days.today(), days.today(), Scope(store=yesterday.store.pk))

    assert len(found) == 1
    correction = found[0]
    assert (correction.reversal, correction.original) == (reversal, yesterday.batches["card"])
    assert correction.close.number == 2  # the store's close, though Till 1's covers it too
    assert correction.as_json() == {
        "transaction": reversal.pk,
        "reverses": yesterday.batches["card"].pk,
        "original": "top_up",
        "method": "card",
        "paid_minor": 3000,
        "bonus_minor": 0,
        "close": {"number": 2, "day": yesterday.day.isoformat()},
    }


def test_a_counter_sees_the_correction_of_its_own_shift(yesterday, corrected):
    till = Place(yesterday.store, yesterday.device)
    today = days.bounds(days.today())

    found = corrections(today[0], today[1], till.scope)

    assert [c.close.number for c in found] == [2]
    other = Place(yesterday.store, yesterday.other_device)
    assert corrections(today[0], today[1], other.scope) == []


def test_only_the_counters_close_covers_a_correction_when_the_store_was_not_closed(
    yesterday, manager
):
    close_day(manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD)
    now = Actor(store=yesterday.store, staff=manager, device=yesterday.device)
    sales.reverse(yesterday.batches["card"], key=key(), actor=now, reason="declined")

    found = corrections_of_days(days.today(), days.today(), Scope(store=yesterday.store.pk))

    assert [(c.close.number, c.close.device) for c in found] == [(1, yesterday.device)]


def test_reversals_of_open_days_are_no_corrections(yesterday, manager):
    now = Actor(store=yesterday.store, staff=manager, device=yesterday.device)
    sales.reverse(yesterday.batches["card"], key=key(), actor=now, reason="declined")
    fresh = sales.top_up(make_customer("New"), 500, method=method("cash"), key=key(), actor=now)
    sales.reverse(fresh.batch, key=key(), actor=now, reason="typo")

    assert corrections_of_days(days.today(), days.today(), Scope()) == []
