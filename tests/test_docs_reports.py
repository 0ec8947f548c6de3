"""docs/reports.md's worked day close, replayed: the transactions of its first table are
posted at their times on one day, the day is closed with the float, the notes and coins
and the settled amounts the text gives, and the Z-report's lines must be its second
table — expected, counted or settled, difference and why. Without the explanations the
close is refused with the message the text quotes, and nothing is saved."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from prepaid.closing.models import DayClose
from prepaid.closing.operations import CloseDay
from prepaid.ledger.models import PaymentMethod
from prepaid.ledger.services import Actor
from prepaid.lib.money import to_minor
from prepaid.operations.envelope import run
from prepaid.reports import days
from prepaid.sales import services as sales
from prepaid.staff.refusals import Refusal
from tests.factories import key, make_business, make_customer, make_staff, make_store, method

pytestmark = pytest.mark.django_db
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "reports.md"


def section() -> str:
    text = GUIDE.read_text()
    start = text.index("### A worked example")
    return text[start : text.index("\n## ", start)]


def table(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header row starts with ``header``."""
    start = re.search(rf"^\| {header}\b", text, re.M)
    assert start is not None, header
    lines = text[start.start() :].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip()[1:-1].split("|")])
    return rows


def test_the_worked_day_close_is_what_the_code_does():
    text = section()
    make_business(currency="PHP", region="PH")
    PaymentMethod.objects.create(code="gcash", name="GCash", position=5)
    store = make_store("Main Street")
    manager = make_staff("Mona", role="manager", store=store)
    day = days.today() - dt.timedelta(days=1)
    maria = make_customer("Maria Santos")
    posted = {}
    for when, kind, code, amount in table(text, "time"):
        hour, minute = map(int, when.split(":"))
        actor = Actor(
            store=store,
            staff=manager,
            at=days.bounds(day)[0] + dt.timedelta(hours=hour, minutes=minute),
        )
        minor = to_minor(amount, "PHP")
        if kind == "top-up":
            done = sales.top_up(maria, minor, method=method(code), key=key(), actor=actor)
        elif kind == "refund":
            done = sales.cash_out(
                maria, minor, method=method(code), reason="doc", key=key(), actor=actor
            )
        else:
            reversed_at = re.search(r"reversal of the (\d\d:\d\d) top-up", kind).group(1)
            done = sales.reverse(posted[reversed_at], key=key(), actor=actor, reason="doc")
        posted[when] = done.batch

    opening = to_minor(re.search(r"float of ₱(\d+\.\d\d)", text).group(1), "PHP")
    notes = {"₱100 note": 10000, "₱20 note": 2000, "₱5 coin": 500}
    counted = tuple((value, 1) for name, value in notes.items() if f"one {name}" in text)
    assert len(counted) == 3, "the text counts one ₱100 note, one ₱20 note and one ₱5 coin"
    card = re.search(r"card\s+terminal settled ₱(\d+\.\d\d)", text).group(1)
    lines = table(text, "method")
    why = tuple((row[0].lower(), row[4]) for row in lines if row[4])
    place = f"store:{store.pk}"

    def close(explanations: tuple[tuple[str, str], ...], form_key: str):
        operation = CloseDay(
            place=place,
            day=day,
            opening_float_minor=opening,
            denominations=counted,
            settled=(("card", to_minor(card, "PHP")), ("gcash", 0)),
            explanations=explanations,
        )
        return run(operation, actor=Actor(store=store, staff=manager), scope="doc", key=form_key)

    with pytest.raises(Refusal) as refused:
        close((), "without")
    quoted = re.search(r'refused \("(.+?)"\)', text.replace("\n", " ")).group(1)
    assert refused.value.message() == quoted
    assert not DayClose.objects.exists()

    close(why, "with")
    made = DayClose.objects.get()
    found = [
        [
            line.method.label,
            f"{line.expected_minor / 100:.2f}",
            f"{line.actual_minor / 100:.2f}",
            f"{line.difference_minor / 100:.2f}",
            line.explanation,
        ]
        for line in made.lines.select_related("method")
    ]
    assert found == lines
