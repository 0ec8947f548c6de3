"""Closing a store's day or a counter's shift: what the drawer should hold, what was
counted, the explanation a difference needs, and who approves — worked on the day of
``conftest.yesterday``:

    Till 1  09:00 cash top-up 100.00, 09:30 cash top-up 50.00 (reversed at 11:00),
            10:00 card top-up 30.00, 10:30 cash refund 20.00, 10:45 a sale of 2.50
    Till 2  12:00 cash top-up 7.00

so the store's drawer should hold 100 + 50 + 7 − 20 − 50 = 87.00 above its float, and
the card 30.00.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from prepaid.closing.models import CloseLine, DayClose
from prepaid.closing.operations import CloseDay, present
from prepaid.ledger.services import Actor
from prepaid.lib.sealing import open_record
from prepaid.operations.envelope import run
from prepaid.operations.models import Event
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent
from prepaid.staff.refusals import Refusal
from tests.closing.conftest import at, close_day, decide, key
from tests.conftest import assert_ledger_sound

pytestmark = pytest.mark.django_db

CARD_SETTLED = (("card", 3000),)


def written() -> tuple[int, int, int, int]:
    """Closes, their lines, their audit entries and their outbox events."""
    return (
        DayClose.objects.count(),
        CloseLine.objects.count(),
        AuditEvent.objects.filter(action__startswith="day.").count(),
        Event.objects.filter(type__startswith="day.").count(),
    )


def refusal_of(call, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as refused:
        call(*args, **kwargs)
    return refused.value


def lines_of(close_id: int) -> dict[str, tuple[int, int, str]]:
    return {
        line.method.code: (line.expected_minor, line.actual_minor, line.explanation)
        for line in CloseLine.objects.filter(close_id=close_id).select_related("method")
    }


# -- what the drawer should hold -----------------------------------------------------------


def test_the_drawer_should_hold_the_float_and_the_cash_taken_less_given_back(yesterday, manager):
    done = close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        opening_float_minor=10000,
        counted_minor=18700,
        settled=CARD_SETTLED,
    )

    assert done.status == 201
    close = DayClose.objects.get()
    # float 100 + top-ups 157 − refund 20 − reversed top-up 50
    assert lines_of(close.pk) == {"cash": (18700, 18700, ""), "card": (3000, 3000, "")}
    assert (close.number, close.state, close.revision) == (1, "submitted", 1)
    assert close.closed_by == manager
    assert close.difference_minor == 0
    assert_ledger_sound()


def test_a_counter_counts_only_its_own_postings(yesterday, manager):
    close_day(
        manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD_SETTLED
    )
    other = f"counter:{yesterday.other_device.pk}"
    close_day(manager, other, yesterday.day, counted_minor=700)

    till_1, till_2 = DayClose.objects.order_by("number")
    assert lines_of(till_1.pk) == {"cash": (8000, 8000, ""), "card": (3000, 3000, "")}
    assert lines_of(till_2.pk) == {"cash": (700, 700, "")}  # no card moved: no card line
    assert (till_1.device, till_2.device) == (yesterday.device, yesterday.other_device)


def test_a_reversed_refund_puts_its_cash_back_in_the_drawer(yesterday, manager):
    actor = Actor(
        store=yesterday.store,
        staff=manager,
        device=yesterday.device,
        at=at(yesterday.day, 15),
    )
    sales.reverse(yesterday.batches["refund"], key=key(), actor=actor, reason="not taken")

    close_day(
        manager, yesterday.store_place, yesterday.day, counted_minor=10700, settled=CARD_SETTLED
    )

    assert lines_of(DayClose.objects.get().pk)["cash"][0] == 8700 + 2000


def test_cash_may_be_counted_note_by_note(yesterday, manager):
    counted = ((2000, 4), (500, 1), (100, 2), (25, 0))  # 80 + 5 + 2 = 87.00
    done = close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        denominations=counted,
        settled=CARD_SETTLED,
    )

    close = DayClose.objects.get()
    assert close.denominations == {"2000": 4, "500": 1, "100": 2}  # a kind not there: left out
    assert lines_of(close.pk)["cash"][1] == 8700
    assert done.data["denominations"] == [
        {"value": "20.00", "count": 4},
        {"value": "5.00", "count": 1},
        {"value": "1.00", "count": 2},
    ]
    assert done.data["counted_cash"] == "87.00"


NEGATIVE = [
    {"counted_minor": -1},
    {"opening_float_minor": -100, "counted_minor": 8600},
    {"denominations": ((2000, -1),)},
    {"denominations": ((-2000, 1),)},  # a note worth less than nothing
    {"denominations": ((0, 5),)},
]


def test_negative_counts_and_amounts_are_refused(yesterday, manager):
    for counts in NEGATIVE:
        refused = refusal_of(
            close_day, manager, yesterday.store_place, yesterday.day, settled=CARD_SETTLED, **counts
        )
        assert refused.code == "validation_error", counts
    assert written() == (0, 0, 0, 0)


def test_absurd_counts_are_refused(yesterday, manager):
    for counts, code in (
        ({"denominations": ((10000, 100_001),)}, "validation_error"),  # a drawer, not a vault
        ({"denominations": ((10**14, 10), (10**14, 1))}, "amount_too_large"),  # together
        ({"counted_minor": 10**15}, "amount_too_large"),
        ({"counted_minor": 8700, "settled": (("card", -(10**15)),)}, "amount_too_large"),
    ):
        refused = refusal_of(
            close_day,
            manager,
            yesterday.store_place,
            yesterday.day,
            **({"settled": CARD_SETTLED} | counts),
        )
        assert refused.code == code, counts
    assert written() == (0, 0, 0, 0)


def test_a_note_counted_on_two_rows_counts_twice(yesterday, manager):
    close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        denominations=((2000, 3), (500, 1), (2000, 1), (100, 2)),
        settled=CARD_SETTLED,
    )

    close = DayClose.objects.get()
    assert close.denominations == {"2000": 4, "500": 1, "100": 2}
    assert lines_of(close.pk)["cash"][1] == 8700


def test_a_difference_without_an_explanation_is_refused_and_nothing_is_written(yesterday, manager):
    refused = refusal_of(
        close_day,
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=8200,
        settled=CARD_SETTLED,
    )

    assert refused.code == "difference_unexplained"
    assert refused.field == "explain_cash"
    assert refused.params == {"method": "Cash", "difference": -500}
    assert "$5.00" in refused.message()
    assert written() == (0, 0, 0, 0)


def test_an_explanation_of_spaces_explains_nothing(yesterday, manager):
    refused = refusal_of(
        close_day,
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=8200,
        settled=CARD_SETTLED,
        explanations=(("cash", "   "),),
    )

    assert refused.code == "difference_unexplained"
    assert written() == (0, 0, 0, 0)


def test_a_card_settlement_that_differs_needs_its_own_explanation(yesterday, manager):
    refused = refusal_of(
        close_day,
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=8700,  # settled card left out: 0 of 30.00
    )

    assert (refused.code, refused.field) == ("difference_unexplained", "explain_card")
    assert written() == (0, 0, 0, 0)


def test_an_explained_difference_is_accepted(yesterday, manager):
    done = close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=8200,
        settled=(("card", 2950),),
        explanations=(("cash", " A 5 was given as change twice "), ("card", "fee")),
    )

    close = DayClose.objects.get()
    assert lines_of(close.pk) == {
        "cash": (8700, 8200, "A 5 was given as change twice"),
        "card": (3000, 2950, "fee"),
    }
    assert close.difference_minor == -550
    assert done.data["cash_difference"] == "-5.00"
    assert done.data["difference"] == "-5.50"


def test_a_method_named_with_nothing_moved_gets_a_line(yesterday, manager):
    close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=8700,
        settled=(("card", 3000), ("mobile", 0)),
    )

    assert set(lines_of(DayClose.objects.get().pk)) == {"cash", "card", "mobile"}


def test_a_settled_amount_for_an_unknown_method_is_refused(yesterday, manager):
    refused = refusal_of(
        close_day,
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=8700,
        settled=(("card", 3000), ("gcash", 100)),
    )

    assert (refused.code, refused.field) == ("not_found", "settled")
    assert written() == (0, 0, 0, 0)


# -- what the close says, as JSON ------------------------------------------------------------


def test_the_close_keeps_its_totals_and_answers_money_as_decimal_strings(yesterday, manager):
    done = close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        opening_float_minor=5000,
        counted_minor=13700,
        settled=CARD_SETTLED,
    )

    close = DayClose.objects.get()
    assert close.totals == {
        "top_ups": {"count": 4, "amount": 18700, "bonus": 0},
        "packages": {"count": 0, "amount": 0},
        "sales": {"count": 1, "amount": 250, "from_bonus": 0},
        "refunds": {"count": 1, "amount": 2000, "forfeited": 0},
        "reversals": {"count": 1, "amount": 5000},
    }
    data = done.data
    assert data == json.loads(json.dumps(present(close), cls=DjangoJSONEncoder))
    assert data["totals"] == {
        "top_ups": {"count": 4, "amount": "187.00", "bonus": "0.00"},
        "packages": {"count": 0, "amount": "0.00"},
        "sales": {"count": 1, "amount": "2.50", "from_bonus": "0.00"},
        "refunds": {"count": 1, "amount": "20.00", "forfeited": "0.00"},
        "reversals": {"count": 1, "amount": "50.00"},
    }
    assert {
        name: data[name]
        for name in (
            "number",
            "store",
            "store_name",
            "counter",
            "counter_name",
            "day",
            "state",
            "currency",
            "opening_float",
            "expected_cash",
            "counted_cash",
            "cash_difference",
            "difference",
            "transactions",
            "revision",
            "closed_by",
            "decided_by",
            "decided_at",
            "decision_note",
        )
    } == {
        "number": 1,
        "store": yesterday.store.pk,
        "store_name": "Store A",
        "counter": None,
        "counter_name": None,
        "day": yesterday.day.isoformat(),
        "state": "submitted",
        "currency": "USD",
        "opening_float": "50.00",
        "expected_cash": "137.00",
        "counted_cash": "137.00",
        "cash_difference": "0.00",
        "difference": "0.00",
        "transactions": 7,
        "revision": 1,
        "closed_by": "Mona",
        "decided_by": None,
        "decided_at": None,
        "decision_note": "",
    }
    assert data["channels"] == [
        {
            "method": "cash",
            "name": "Cash",
            "expected": "137.00",
            "actual": "137.00",
            "difference": "0.00",
            "matched": None,
            "explanation": "",
        },
        {
            "method": "card",
            "name": "Card",
            "expected": "30.00",
            "actual": "30.00",
            "difference": "0.00",
            "matched": None,
            "explanation": "",
        },
    ]
    assert len(data["digest"]) == 64
    for money in ("opening_float", "expected_cash", "counted_cash"):
        Decimal(data[money])  # a decimal string, not a float


def test_a_counter_close_names_its_counter(yesterday, manager):
    done = close_day(
        manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD_SETTLED
    )

    assert (done.data["counter"], done.data["counter_name"]) == (yesterday.device.pk, "Till 1")
    assert done.data["transactions"] == 6  # Till 2's top-up is not its own


def test_an_unknown_place_is_not_found(yesterday, manager):
    for place in ("store:999", "counter:999", "shelf:1", "store:", "store:abc"):
        assert refusal_of(close_day, manager, place, yesterday.day).code == "not_found"
    assert written() == (0, 0, 0, 0)


# -- who may close, who approves -------------------------------------------------------------


def test_a_cashier_may_not_close_a_day(yesterday, cashier_a):
    refused = refusal_of(
        close_day, cashier_a, yesterday.counter_place, yesterday.day, counted_minor=8000
    )

    assert refused.code == "permission_denied"
    assert written() == (0, 0, 0, 0)


def test_a_close_needs_a_person_not_an_api_token(yesterday, manager):
    from prepaid.staff.models import ApiToken

    token = ApiToken(name="till", role="manager")
    operation = CloseDay(place=yesterday.store_place, day=yesterday.day, counted_minor=8700)
    refused = refusal_of(
        run, operation, actor=Actor(store=yesterday.store, api_token=token), scope="api:1"
    )

    assert refused.code == "permission_denied"
    assert written() == (0, 0, 0, 0)


@pytest.fixture
def shortfall(yesterday, manager):
    """The store's day closed by the manager 5.00 short, explained."""
    done = close_day(
        manager,
        yesterday.store_place,
        yesterday.day,
        counted_minor=8200,
        settled=CARD_SETTLED,
        explanations=(("cash", "change given twice"),),
    )
    return DayClose.objects.get(pk=done.data["id"])


def test_the_owner_approves_a_shortfall(shortfall, owner):
    done = decide(owner, shortfall.pk, approve=True, note="ok, noted")

    shortfall.refresh_from_db()
    assert (shortfall.state, shortfall.decided_by, shortfall.decision_note) == (
        "approved",
        owner,
        "ok, noted",
    )
    assert shortfall.decided_at is not None
    assert done.status == 200
    assert (done.data["state"], done.data["decided_by"]) == ("approved", "Olivia")


def test_the_accountant_may_approve(shortfall, accountant):
    decide(accountant, shortfall.pk, approve=True)

    shortfall.refresh_from_db()
    assert (shortfall.state, shortfall.decided_by) == ("approved", accountant)


@pytest.mark.parametrize("persona", ["manager", "cashier_a"])
def test_a_manager_or_a_cashier_may_not_decide(shortfall, persona, request):
    person = request.getfixturevalue(persona)
    for approve in (True, False):
        refused = refusal_of(decide, person, shortfall.pk, approve=approve, note="no")
        assert refused.code == "permission_denied"
    shortfall.refresh_from_db()
    assert shortfall.state == "submitted"


def test_whoever_closed_the_day_may_not_approve_it(yesterday, owner):
    done = close_day(
        owner, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD_SETTLED
    )

    for approve in (True, False):
        refused = refusal_of(decide, owner, done.data["id"], approve=approve, note="mine")
        assert refused.code == "close_own_approval"
    assert DayClose.objects.get().state == "submitted"


def test_sending_back_needs_a_reason(shortfall, owner):
    assert refusal_of(decide, owner, shortfall.pk, approve=False).code == "reason_required"
    assert refusal_of(decide, owner, shortfall.pk, approve=False, note="  ").code == (
        "reason_required"
    )
    shortfall.refresh_from_db()
    assert shortfall.state == "submitted"
    assert AuditEvent.objects.filter(action="day.returned").count() == 0


def test_a_close_sent_back_is_counted_again_under_the_same_number(shortfall, owner, manager):
    decide(owner, shortfall.pk, approve=False, note="count the coins again")
    shortfall.refresh_from_db()
    assert (shortfall.state, shortfall.decision_note) == ("returned", "count the coins again")

    done = close_day(
        manager,
        f"store:{shortfall.store_id}",
        shortfall.day,
        counted_minor=8700,
        settled=CARD_SETTLED,
        close=shortfall.pk,
    )

    again = DayClose.objects.get()
    assert (again.pk, again.number, again.revision, again.state) == (
        shortfall.pk,
        1,
        2,
        "submitted",
    )
    assert (again.starts_at, again.ends_at) == (shortfall.starts_at, shortfall.ends_at)
    assert (again.decided_by, again.decision_note) == (None, "")
    assert lines_of(again.pk)["cash"] == (8700, 8700, "")
    assert CloseLine.objects.count() == 2  # the first count's lines were replaced
    assert done.status == 200
    assert (done.data["revision"], done.data["number"]) == (2, 1)

    decide(owner, again.pk, approve=True)
    assert DayClose.objects.get().state == "approved"


def test_only_a_close_sent_back_is_counted_again(shortfall, manager):
    refused = refusal_of(
        close_day,
        manager,
        f"store:{shortfall.store_id}",
        shortfall.day,
        counted_minor=8700,
        settled=CARD_SETTLED,
        close=shortfall.pk,
    )

    assert refused.code == "close_not_returned"
    assert DayClose.objects.get().revision == 1


def test_counting_again_names_the_close_of_that_place_and_day(shortfall, owner, manager, yesterday):
    decide(owner, shortfall.pk, approve=False, note="again")
    for place, day in (
        (yesterday.counter_place, shortfall.day),
        (f"store:{shortfall.store_id}", shortfall.day.replace(year=2000)),
    ):
        refused = refusal_of(
            close_day,
            manager,
            place,
            day,
            counted_minor=8700,
            settled=CARD_SETTLED,
            close=shortfall.pk,
        )
        assert refused.code == "not_found"


def test_a_close_is_decided_once(shortfall, owner, accountant):
    decide(owner, shortfall.pk, approve=True)

    assert refusal_of(decide, accountant, shortfall.pk, approve=True).code == "close_not_waiting"
    assert refusal_of(decide, accountant, shortfall.pk, approve=False, note="x").code == (
        "close_not_waiting"
    )
    assert refusal_of(decide, owner, 999_999, approve=True).code == "not_found"
    shortfall.refresh_from_db()
    assert shortfall.decided_by == owner


# -- the audit trail and the outbox ------------------------------------------------------


def test_close_return_resubmit_and_approval_are_audited_and_announced(shortfall, owner, manager):
    decide(owner, shortfall.pk, approve=False, note="recount")
    close_day(
        manager,
        f"store:{shortfall.store_id}",
        shortfall.day,
        counted_minor=8700,
        settled=CARD_SETTLED,
        close=shortfall.pk,
    )
    decide(owner, shortfall.pk, approve=True)

    entries = list(
        AuditEvent.objects.filter(subject=f"day_close:{shortfall.pk}")
        .order_by("id")
        .values_list("action", "staff__name", "store__name")
    )
    assert entries == [
        ("day.closed", "Mona", "Store A"),
        ("day.returned", "Olivia", "Store A"),
        ("day.resubmitted", "Mona", "Store A"),
        ("day.approved", "Olivia", "Store A"),
    ]
    returned = AuditEvent.objects.get(action="day.returned")
    assert returned.before == {"state": "submitted"}
    assert (returned.after["state"], returned.after["decision_note"]) == ("returned", "recount")
    assert AuditEvent.objects.get(action="day.closed").after["cash_difference"] == "-5.00"

    events = [(e.type, json.loads(open_record(e.data))) for e in Event.objects.order_by("id")]
    assert [(kind, data["state"], data["revision"]) for kind, data in events] == [
        ("day.closed", "submitted", 1),
        ("day.returned", "returned", 1),
        ("day.closed", "submitted", 2),
        ("day.approved", "approved", 2),
    ]
    assert all(data["id"] == shortfall.pk for _kind, data in events)
    assert Event.objects.filter(customer__isnull=False).count() == 0


# -- the idempotency key ----------------------------------------------------------------------


def test_the_same_key_replayed_gives_the_same_close_and_makes_no_second(yesterday, manager):
    counts = {"counted_minor": 8700, "settled": CARD_SETTLED}
    first = close_day(manager, yesterday.store_place, yesterday.day, form_key="z-1", **counts)
    again = close_day(manager, yesterday.store_place, yesterday.day, form_key="z-1", **counts)

    assert (first.replayed, again.replayed) == (False, True)
    assert (again.status, again.body) == (first.status, first.body)
    assert written() == (1, 2, 1, 1)

    other_key = refusal_of(
        close_day, manager, yesterday.store_place, yesterday.day, form_key="z-2", **counts
    )
    assert other_key.code == "day_already_closed"
    assert "Store A" in other_key.message()


def test_a_refused_close_is_refused_again_under_its_key_and_may_then_be_corrected(
    yesterday, manager
):
    short = {"counted_minor": 8200, "settled": CARD_SETTLED}
    for _attempt in range(2):
        refused = refusal_of(
            close_day, manager, yesterday.store_place, yesterday.day, form_key="z-1", **short
        )
        assert refused.code == "difference_unexplained"
    assert written() == (0, 0, 0, 0)

    explained = {**short, "explanations": (("cash", "short"),)}
    done = close_day(manager, yesterday.store_place, yesterday.day, form_key="z-1", **explained)
    assert done.replayed is False
    assert written() == (1, 2, 1, 1)

    reused = refusal_of(
        close_day, manager, yesterday.store_place, yesterday.day, form_key="z-1", **short
    )
    assert reused.code == "idempotency_key_reused"
    assert written() == (1, 2, 1, 1)


def test_a_decision_replayed_under_its_key_decides_once(shortfall, owner):
    from prepaid.closing.operations import DecideClose

    actor = Actor(store=shortfall.store, staff=owner)
    operation = DecideClose(close=shortfall.pk, approve=True)
    first = run(operation, actor=actor, scope="backoffice:x", key="d-1")
    again = run(operation, actor=actor, scope="backoffice:x", key="d-1")

    assert (first.replayed, again.replayed, again.body) == (False, True, first.body)
    assert AuditEvent.objects.filter(action="day.approved").count() == 1
    assert Event.objects.filter(type="day.approved").count() == 1
