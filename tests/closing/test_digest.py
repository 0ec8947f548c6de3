"""A closed day's transactions keep the digest they were closed with: ``prepaid verify``
recomputes it for every close and names each close whose span changed — a transaction
back-dated into it, or a row changed behind the triggers' back."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from prepaid.closing.digest import closed_days, digest
from prepaid.closing.models import DayClose
from prepaid.closing.spans import Place
from prepaid.ledger import immutability
from prepaid.ledger.models import Batch, Transfer
from prepaid.ledger.services import Actor
from prepaid.ledger.verify import verify
from prepaid.reports import days
from prepaid.sales import services as sales
from tests.closing.conftest import at, close_day, decide, key
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(business_in_two_zones):
    return business_in_two_zones


CARD = (("card", 3000),)


@pytest.fixture
def closed(yesterday, manager):
    """Yesterday closed: the store (Z1), Till 1 (Z2) and Till 2 (Z3)."""
    close_day(manager, yesterday.store_place, yesterday.day, counted_minor=8700, settled=CARD)
    close_day(manager, yesterday.counter_place, yesterday.day, counted_minor=8000, settled=CARD)
    close_day(manager, f"counter:{yesterday.other_device.pk}", yesterday.day, counted_minor=700)
    return yesterday


def behind_the_triggers(sql: str, params: list[object]) -> None:
    """Raw SQL past the ledger's immutability triggers, as someone with the database
    could; the triggers are back afterwards."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in immutability.drop_sql(vendor):
            cursor.execute(statement)
        cursor.execute(sql, params)
        for statement in immutability.create_sql(vendor):
            cursor.execute(statement)


def verify_command() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def close_problems() -> list[str]:
    return [violation.detail for violation in verify() if violation.check == "close"]


def test_verify_is_clean_after_closes(closed):
    assert closed_days() == []
    assert_ledger_sound()
    status, out, _err = verify_command()
    assert (status, out.startswith("Ledger OK")) == (0, True)


def test_the_digest_is_what_its_docstring_says(closed):
    close = DayClose.objects.get(number=3)  # Till 2: one top-up
    batch = Batch.objects.get(device=closed.other_device)
    transfers = [
        [t.pk, t.debit_account_id, t.credit_account_id, t.amount, t.code]
        for t in Transfer.objects.filter(batch=batch).order_by("id")
    ]
    moment = batch.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    document = [[batch.pk, batch.key, "top_up", moment, None, batch.customer_id, transfers]]
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)

    assert close.digest == hashlib.sha256(text.encode()).hexdigest()
    assert close.transaction_count == 1
    empty = digest(Place(closed.store), *days.bounds(closed.day.replace(year=2001)))
    assert empty == (hashlib.sha256(b"[]").hexdigest(), 0)


def test_a_transaction_back_dated_into_a_closed_day_is_reported(closed, manager):
    inside = Actor(store=closed.store, staff=manager, device=closed.device, at=at(closed.day, 13))
    sales.top_up(make_customer("Back"), 900, method=method("cash"), key=key(), actor=inside)

    problems = close_problems()
    assert len(problems) == 2  # the store's day and Till 1's; Till 2's is untouched
    assert problems[0].startswith(f"Z1 of Store A ({closed.day}): its 7 transactions had the")
    assert problems[0].endswith(
        f"the 8 found now have {digest(Place(closed.store), *days.bounds(closed.day))[0]}"
    )
    assert problems[1].startswith(f"Z2 of Till 1 ({closed.day}): its 6 transactions")

    status, _out, err = verify_command()
    assert status == 1
    assert "Ledger has 2 violation(s)" in err
    assert f"[close] Z1 of Store A ({closed.day})" in err
    assert "Z3" not in err


def test_a_transaction_changed_after_the_close_is_reported(closed):
    batch = closed.batches["other_till"]  # Till 2's only top-up
    behind_the_triggers("UPDATE ledger_batch SET key = %s WHERE id = %s", ["changed", batch.pk])

    assert [p.split(":")[0] for p in close_problems()] == [
        f"Z1 of Store A ({closed.day})",
        f"Z3 of Till 2 ({closed.day})",
    ]
    status, _out, err = verify_command()
    assert status == 1
    assert "[close] Z3 of Till 2" in err


def test_a_transaction_moved_out_of_a_closed_day_is_reported(closed):
    batch = closed.batches["sale"]
    later = connection.ops.adapt_datetimefield_value(at(closed.day, 30))
    behind_the_triggers("UPDATE ledger_batch SET created_at = %s WHERE id = %s", [later, batch.pk])

    problems = close_problems()
    assert [p.split(":")[0] for p in problems] == [
        f"Z1 of Store A ({closed.day})",
        f"Z2 of Till 1 ({closed.day})",
    ]
    assert "the 6 found now" in problems[0]


def test_a_close_whose_stored_digest_was_changed_is_reported(closed):
    DayClose.objects.filter(number=3).update(digest="0" * 64)

    problems = close_problems()
    assert len(problems) == 1
    assert problems[0].startswith(f"Z3 of Till 2 ({closed.day}): its 1 transactions had the")
    assert "0" * 64 in problems[0]


def test_postings_after_the_close_leave_the_closed_days_alone(closed, manager):
    now = Actor(store=closed.store, staff=manager, device=closed.device)
    sales.top_up(make_customer("Today"), 900, method=method("cash"), key=key(), actor=now)
    sales.reverse(closed.batches["card"], key=key(), actor=now, reason="declined")

    assert close_problems() == []


def test_counting_a_close_again_does_not_bless_a_change(closed, manager, owner):
    """A close sent back and counted again keeps the digest of its first count: a
    transaction back-dated into the span meanwhile is still reported."""
    z1 = DayClose.objects.get(number=1)
    decide(owner, z1.pk, approve=False, note="count again")
    inside = Actor(store=closed.store, staff=manager, at=at(closed.day, 13))
    sales.top_up(make_customer("Back"), 900, method=method("cash"), key=key(), actor=inside)

    close_day(
        manager, closed.store_place, closed.day, counted_minor=9600, settled=CARD, close=z1.pk
    )

    z1.refresh_from_db()
    assert z1.revision == 2
    assert [problem[:2] for problem in close_problems()] == ["Z1"]
