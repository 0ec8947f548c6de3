"""Reconciling the card with the acquirer's settlement file, worked on yesterday at
store A. Our card transactions (Till 1):

    10:00  top-up  30.00  slip C-1      in the file as "c-1 ", same amount: by reference
    13:00  top-up  12.00  no slip       in the file at 13:05, 12.00: by amount and time
    14:00  top-up   8.00  slip C-3      not in the file: ours, left over (missing)
    15:00  top-up  15.00  slip C-4      in the file as C-4 for 15.50: the amounts differ
    16:00  top-up  20.00  slip C-5      reversed at 16:10: voided, in no file
    18:00  refund  −5.00                in the file at 18:02, −5.00: by amount and time

and in the file, besides: 17:00 9.99 slip Z-1, which is not ours (extra).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from prepaid.closing import settlements
from prepaid.closing.models import CloseLine, Resolution, Settlement, SettlementLine
from prepaid.closing.settlements import Column, SettlementProblem, detect, parse_moment
from prepaid.closing.spans import Place, span
from prepaid.ledger.services import Actor
from prepaid.sales import services as sales
from prepaid.sales.importing import ImportProblem
from prepaid.sales.importing.cleaning import InvalidCell
from prepaid.staff.models import AuditEvent, Business
from prepaid.staff.refusals import Refusal
from tests import factories
from tests.closing.conftest import at, close_day, key
from tests.factories import make_customer, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(request, db):
    """The shop in UTC; in the zone a test names (``indirect``), where it matters."""
    business = factories.make_business()
    business.time_zone = getattr(request, "param", "UTC")
    business.save()
    return business


in_two_zones = pytest.mark.parametrize("business", ["UTC", "Asia/Manila"], indirect=True)
UTC = ZoneInfo("UTC")
MANILA = ZoneInfo("Asia/Manila")


@pytest.fixture
def card_day(yesterday, manager):
    """Yesterday's card transactions of the module docstring, by name."""
    till = yesterday.device
    card = method("cash").__class__.objects.get(code="card")
    ana = make_customer("Ana Reyes")

    def actor(hour: int, minute: int = 0) -> Actor:
        return Actor(
            store=yesterday.store, staff=manager, device=till, at=at(yesterday.day, hour, minute)
        )

    def top_up(amount: int, hour: int, reference: str = ""):
        receipt = sales.top_up(
            ana, amount, method=card, reference=reference, key=key(), actor=actor(hour)
        )
        return receipt.batch

    made = {
        "by_reference": yesterday.batches["card"],
        "by_time": top_up(1200, 13),
        "missing": top_up(800, 14, "C-3"),
        "differing": top_up(1500, 15, "C-4"),
        "voided": top_up(2000, 16, "C-5"),
    }
    sales.reverse(made["voided"], key=key(), actor=actor(16, 10), reason="declined")
    made["refund"] = sales.cash_out(
        ana, 500, method=card, reason="overpaid", key=key(), actor=actor(18)
    ).batch
    return yesterday, made


def rows_of(day: date) -> list[list[str]]:
    """The acquirer's lines for ``day``, as its CSV export writes them."""
    when = day.isoformat()
    return [
        [f"{when} 10:01:12", "30.00", "c-1 "],
        [f"{when} 13:05", "12.00", "X-99"],
        [f"{when} 15:00", "15.50", "C-4"],
        [f"{when} 17:00", "9.99", "Z-1"],
        [f"{when} 18:02", "-5.00", ""],
    ]


def csv_file(header: list[str], rows: list[list[str]], *, delimiter: str = ",") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def xlsx_file(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([title])  # a title row above the header, as providers' exports have
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, name: str, by, day: date, **options) -> Settlement:
    defaults = {
        "method": method("card"),
        "first_day": day,
        "last_day": day,
        "store": None,
        "window_minutes": 15,
    }
    return settlements.upload(io.BytesIO(data), name, size=len(data), by=by, **(defaults | options))


def imported(card_day, by) -> Settlement:
    day, _made = card_day
    data = csv_file(["Transaction date", "Gross amount", "Slip number"], rows_of(day.day))
    waiting = upload(data, "acquirer.csv", by, day.day)
    return settlements.apply(waiting, waiting.mapping, by=by)


# -- reading the file -------------------------------------------------------------------------


def test_the_columns_are_found_by_their_headers_in_english_dutch_and_chinese():
    assert detect(["Transaction date", "Gross amount", "Slip number"]) == {
        "moment": 0,
        "amount": 1,
        "reference": 2,
    }
    assert detect(["Datum", "Tijd", "Bedrag", "Kenmerk"]) == {
        "moment": 0,
        "time": 1,
        "amount": 2,
        "reference": 3,
    }
    assert detect(["交易时间", "商户单号", "订单金额（元）", "备注"]) == {
        "moment": 0,
        "reference": 1,
        "amount": 2,
    }
    assert detect(["Time", "Amount"]) == {"moment": 0, "amount": 1}  # a lone time: the date's
    assert detect(["Date", "Date", "Amount"]) == {"moment": 0, "amount": 2}  # the first
    assert detect(["Customer", "Phone"]) == {}


def test_an_upload_waits_with_its_sheet_and_guessed_columns(card_day, manager):
    day, _made = card_day
    data = csv_file(["Transaction date", "Gross amount", "Slip number"], rows_of(day.day))

    waiting = upload(data, "acquirer.csv", manager, day.day)

    assert waiting.state == Settlement.State.MAPPING
    assert waiting.mapping == {"moment": 0, "amount": 1, "reference": 2}
    headers, rows = settlements.sheet_of(waiting)
    assert headers == ["Transaction date", "Gross amount", "Slip number"]
    assert [number for number, _cells in rows] == [2, 3, 4, 5, 6]
    assert not SettlementLine.objects.exists()


@in_two_zones
def test_a_file_is_matched_by_reference_then_by_amount_and_time(card_day, manager):
    settlement = imported(card_day, manager)
    _day, made = card_day

    found = settlements.report(settlement)

    by_rule = {(line.row, line.rule, ours.batch_id) for line, ours in found.matched}
    assert by_rule == {
        (2, "reference", made["by_reference"].pk),
        (3, "time", made["by_time"].pk),
        (6, "time", made["refund"].pk),
    }
    assert [o.batch_id for o in found.ours_left] == [made["missing"].pk, made["differing"].pk]
    assert [(line.row, line.reference) for line in found.theirs_left] == [(4, "C-4"), (5, "Z-1")]
    differing_line = next(line for line in found.theirs_left if line.reference == "C-4")
    assert found.differing == {differing_line.pk: made["differing"].pk}
    assert (found.matched_total, found.ours_left_total, found.theirs_left_total) == (
        3000 + 1200 - 500,
        800 + 1500,
        1550 + 999,
    )
    assert found.file_total == 3700 + 2549
    assert found.open_count == 4
    assert settlements.pending_matches(settlement) == {"matched": 3, "open": 4}
    assert made["voided"].pk not in {o.batch_id for o in settlements.ours(settlement)}
    settlement.refresh_from_db()
    assert (settlement.state, settlement.sheet) == (Settlement.State.MATCHED, None)


@in_two_zones
def test_the_same_file_as_an_excel_workbook_with_chinese_headers_matches_alike(
    card_day, accountant
):
    day, made = card_day
    rows: list[list[object]] = [
        [datetime.combine(day.day, time(10, 1, 12)), 30.0, "c-1 "],
        [datetime.combine(day.day, time(13, 5)), 12, "X-99"],
        [datetime.combine(day.day, time(15, 0)), 15.5, "C-4"],
        [datetime.combine(day.day, time(17, 0)), 9.99, "Z-1"],
        [datetime.combine(day.day, time(18, 2)), -5, None],
    ]
    data = xlsx_file("银行卡交易明细", ["交易时间", "交易金额", "参考号"], rows)

    waiting = upload(data, "对账单.xlsx", accountant, day.day)
    assert waiting.mapping == {"moment": 0, "amount": 1, "reference": 2}
    settlement = settlements.apply(waiting, waiting.mapping, by=accountant)

    found = settlements.report(settlement)
    assert {line.row for line, _o in found.matched} == {4, 5, 8}  # rows as Excel shows them
    assert {line.row for line in found.theirs_left} == {6, 7}
    assert found.matched_total == 3700
    assert [o.batch_id for o in found.ours_left] == [made["missing"].pk, made["differing"].pk]


def test_a_dutch_file_with_a_date_and_a_time_column(card_day, manager):
    day, _made = card_day
    business = Business.get()
    business.region = "NL"
    business.save()
    shown = day.day.strftime("%d-%m-%Y")
    rows = [
        [shown, "10:01", "30,00", "C-1"],
        [shown, "13:05", "12,00", ""],
        [shown, "18:02", "-5,00", ""],
    ]
    data = csv_file(["Datum", "Tijd", "Bedrag", "Kenmerk"], rows, delimiter=";")

    waiting = upload(data, "afrekening.csv", manager, day.day)
    assert waiting.mapping == {"moment": 0, "time": 1, "amount": 2, "reference": 3}
    found = settlements.report(settlements.apply(waiting, waiting.mapping, by=manager))

    assert found.matched_total == 3700
    assert all(line.has_time for line, _o in found.matched)


@in_two_zones
def test_a_file_with_dates_only_matches_within_the_shops_day(card_day, manager):
    day, made = card_day
    rows = [[day.day.isoformat(), "12.00", ""], [day.day.isoformat(), "8.00", ""]]
    data = csv_file(["Date", "Amount"], rows)

    waiting = upload(data, "daily.csv", manager, day.day)
    found = settlements.report(settlements.apply(waiting, waiting.mapping, by=manager))

    assert {o.batch_id for _line, o in found.matched} == {made["by_time"].pk, made["missing"].pk}
    assert not any(line.has_time for line, _o in found.matched)


def test_unreadable_rows_are_named_and_nothing_is_written(card_day, manager):
    day, _made = card_day
    rows = rows_of(day.day)
    rows[1][1] = "twelve"
    rows[3][0] = "someday"
    data = csv_file(["Date", "Amount", "Reference"], rows)
    waiting = upload(data, "acquirer.csv", manager, day.day)

    with pytest.raises(SettlementProblem) as problem:
        settlements.apply(waiting, waiting.mapping, by=manager)

    assert "2 rows cannot be read" in str(problem.value)
    assert problem.value.rows == [
        "Row 3: “twelve” is not an amount.",
        "Row 5: “someday” is not a date and time.",
    ]
    waiting.refresh_from_db()
    assert waiting.state == Settlement.State.MAPPING and waiting.sheet is not None
    assert not SettlementLine.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="settlement.").exists()


MAPPINGS = [
    ({"amount": 1}, "Choose the column of the date"),
    ({"moment": 0}, "Choose the column of the date"),
    ({"moment": 0, "amount": 0}, "a different column"),
    ({"moment": 0, "amount": -1}, "Choose the column of the date"),  # not the last one
    ({"moment": 0, "amount": 3}, "Choose the column of the date"),  # there are three
    ({"moment": 0, "amount": "1"}, "Choose the column of the date"),
]


def test_a_mapping_needs_a_date_and_an_amount_in_different_columns(card_day, manager):
    day, _made = card_day
    waiting = upload(csv_file(["Date", "Amount"], rows_of(day.day)), "a.csv", manager, day.day)

    for mapping, message in MAPPINGS:
        with pytest.raises(SettlementProblem, match=message):
            settlements.apply(waiting, mapping, by=manager)
    assert not SettlementLine.objects.exists()
    waiting.refresh_from_db()
    assert waiting.state == Settlement.State.MAPPING


def test_files_that_cannot_be_taken_are_refused(card_day, manager, monkeypatch):
    day, _made = card_day
    data = csv_file(["Date", "Amount"], rows_of(day.day))
    with pytest.raises(SettlementProblem, match="larger than 5 MB"):
        settlements.upload(
            io.BytesIO(data),
            "a.csv",
            size=settlements.MAX_UPLOAD_BYTES + 1,
            method=method("card"),
            first_day=day.day,
            last_day=day.day,
            store=None,
            window_minutes=15,
            by=manager,
        )
    with pytest.raises(SettlementProblem, match="last day comes before"):
        upload(data, "a.csv", manager, day.day, last_day=day.day - timedelta(days=1))
    with pytest.raises(SettlementProblem, match="0 to 1440"):
        upload(data, "a.csv", manager, day.day, window_minutes=1441)
    with pytest.raises(ImportProblem):
        upload(b"PK\x03\x04 not really", "a.xlsx", manager, day.day)
    monkeypatch.setattr(settlements, "MAX_ROWS", 4)
    with pytest.raises(SettlementProblem, match="more than 4 rows"):
        upload(data, "a.csv", manager, day.day)
    assert not Settlement.objects.exists()


def test_fields_that_are_no_columns_are_left_out_of_the_mapping(card_day, manager):
    day, _made = card_day
    data = csv_file(["Date", "Amount", "Reference"], rows_of(day.day))
    waiting = upload(data, "acquirer.csv", manager, day.day)

    done = settlements.apply(
        waiting, {"moment": 0, "amount": 1, "reference": 7, "colour": 2}, by=manager
    )

    assert done.mapping == {"moment": 0, "amount": 1}
    assert set(SettlementLine.objects.values_list("reference", flat=True)) == {""}


def test_applying_twice_writes_the_lines_once(card_day, manager):
    settlement = imported(card_day, manager)

    again = settlements.apply(settlement, settlement.mapping, by=manager)

    assert again.pk == settlement.pk
    assert SettlementLine.objects.count() == 5
    assert AuditEvent.objects.filter(action="settlement.imported").count() == 1


def test_the_import_is_audited(card_day, manager):
    settlement = imported(card_day, manager)

    entry = AuditEvent.objects.get(action="settlement.imported")
    assert (entry.subject, entry.staff) == (f"settlement:{settlement.pk}", manager)
    day = card_day[0].day.isoformat()
    assert entry.after == {
        "file": "acquirer.csv",
        "method": "card",
        "days": [day, day],
        "lines": 5,
        "matched": 3,
    }


def test_a_store_s_file_is_matched_only_against_that_store(card_day, manager, store_b):
    day, _made = card_day
    data = csv_file(["Date", "Amount", "Reference"], rows_of(day.day))
    waiting = upload(data, "b.csv", manager, day.day, store=store_b)

    found = settlements.report(settlements.apply(waiting, waiting.mapping, by=manager))

    assert (found.matched, found.ours_left, len(found.theirs_left)) == ([], [], 5)


def test_a_transaction_reversed_after_its_line_matched_stays_matched(card_day, manager):
    settlement = imported(card_day, manager)
    day, made = card_day
    now = Actor(store=day.store, staff=manager, device=day.device)
    sales.reverse(made["by_reference"], key=key(), actor=now, reason="chargeback")

    found = settlements.report(settlement)

    assert made["by_reference"].pk in {o.batch_id for _line, o in found.matched}
    assert (found.matched_total, found.file_total) == (3700, 3700 + 2549)
    assert len(found.matched) + len(found.theirs_left) == SettlementLine.objects.count()


def test_a_transaction_matched_by_one_file_is_not_expected_in_another(card_day, manager):
    imported(card_day, manager)
    day, made = card_day
    data = csv_file(["Date", "Amount"], [[f"{day.day} 14:01", "8.00"]])
    second = upload(data, "late.csv", manager, day.day)

    found = settlements.report(settlements.apply(second, second.mapping, by=manager))

    assert [o.batch_id for _line, o in found.matched] == [made["missing"].pk]
    assert made["by_reference"].pk not in {o.batch_id for o in found.ours_left}


# -- resolving what is left over --------------------------------------------------------------


def test_a_line_left_over_is_resolved_with_a_note(card_day, manager):
    settlement = imported(card_day, manager)
    _day, made = card_day
    found = settlements.report(settlement)
    extra = next(line for line in found.theirs_left if line.reference == "Z-1")

    with pytest.raises(Refusal) as refused:
        settlements.resolve(settlement, note="   ", by=manager, line_id=extra.pk)
    assert (refused.value.code, refused.value.field) == ("note_empty", "note")
    assert not Resolution.objects.exists()

    settlements.resolve(settlement, note=" another shop's terminal ", by=manager, line_id=extra.pk)
    settlements.resolve(settlement, note="slip lost", by=manager, batch_id=made["missing"].pk)

    after = settlements.report(settlement)
    assert after.open_count == 2
    resolved = next(line for line in after.theirs_left if line.reference == "Z-1")
    assert resolved.resolution.note == "another shop's terminal"
    missing = next(o for o in after.ours_left if o.batch_id == made["missing"].pk)
    assert (missing.resolution.note, missing.resolution.resolved_by) == ("slip lost", manager)
    entries = AuditEvent.objects.filter(action="settlement.resolved").order_by("id")
    assert [e.after for e in entries] == [
        {"line": 5, "transaction": None, "note": "another shop's terminal"},
        {"line": None, "transaction": made["missing"].pk, "note": "slip lost"},
    ]
    assert {e.subject for e in entries} == {f"settlement:{settlement.pk}"}


def test_only_a_line_left_over_and_not_yet_resolved_can_be_resolved(card_day, manager):
    settlement = imported(card_day, manager)
    _day, made = card_day
    found = settlements.report(settlement)
    matched_line = found.matched[0][0]
    extra = found.theirs_left[-1]
    settlements.resolve(settlement, note="ok", by=manager, line_id=extra.pk)

    for target in (
        {"line_id": matched_line.pk},
        {"line_id": extra.pk},
        {"batch_id": made["by_reference"].pk},
        {"batch_id": made["voided"].pk},
        {},
    ):
        with pytest.raises(Refusal) as refused:
            settlements.resolve(settlement, note="again", by=manager, **target)
        assert refused.value.code == "not_found", target
    settlements.resolve(settlement, note="ok", by=manager, batch_id=made["missing"].pk)
    with pytest.raises(Refusal):
        settlements.resolve(settlement, note="twice", by=manager, batch_id=made["missing"].pk)
    assert Resolution.objects.count() == 2


# -- the settled amount a close proposes ------------------------------------------------------


@in_two_zones
def test_a_close_made_after_the_file_was_matched_carries_the_matched_total(card_day, manager):
    day, _made = card_day
    place = Place(day.store)
    assert settlements.matched_total(method("card"), place, span(place, day.day)) is None
    imported(card_day, manager)
    assert settlements.matched_total(method("card"), place, span(place, day.day)) == 3700

    # card: 30 + 12 + 8 + 15 + 20 − 5 refunded − 20 reversed = 60.00
    done = close_day(
        manager, day.store_place, day.day, counted_minor=8700, settled=(("card", 6000),)
    )

    line = CloseLine.objects.get(method__code="card")
    assert (line.expected_minor, line.actual_minor, line.matched_minor) == (6000, 6000, 3700)
    card = next(c for c in done.data["channels"] if c["method"] == "card")
    assert card["matched"] == "37.00"
    assert CloseLine.objects.get(method__code="cash").matched_minor is None


def test_the_matched_total_of_a_counter_counts_its_own_transactions(card_day, manager):
    day, _made = card_day
    imported(card_day, manager)
    till_1 = Place(day.store, day.device)
    till_2 = Place(day.store, day.other_device)

    assert settlements.matched_total(method("card"), till_1, span(till_1, day.day)) == 3700
    assert settlements.matched_total(method("card"), till_2, span(till_2, day.day)) is None
    assert settlements.matched_total(method("mobile"), till_1, span(till_1, day.day)) is None


# -- dates and times as providers write them --------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "time_cell", "region", "expected", "has_time"),
    [
        ("2026-03-01 14:05", None, "US", datetime(2026, 3, 1, 14, 5, tzinfo=MANILA), True),
        ("2026-03-01T14:05:09", None, "US", datetime(2026, 3, 1, 14, 5, 9, tzinfo=MANILA), True),
        (
            "2026-03-01T06:05:00+00:00",
            None,
            "US",
            datetime(2026, 3, 1, 14, 5, tzinfo=MANILA),
            True,
        ),
        ("2026-03-01", None, "US", datetime(2026, 3, 1, tzinfo=MANILA), False),
        ("2026/03/01 2:05 PM", None, "US", datetime(2026, 3, 1, 14, 5, tzinfo=MANILA), True),
        ("2026.3.1 12:05 am", None, "US", datetime(2026, 3, 1, 0, 5, tzinfo=MANILA), True),
        ("03/01/2026 14:05", None, "US", datetime(2026, 3, 1, 14, 5, tzinfo=MANILA), True),
        ("03/01/2026 14:05", None, "NL", datetime(2026, 1, 3, 14, 5, tzinfo=MANILA), True),
        ("13/03/2026", None, "US", datetime(2026, 3, 13, tzinfo=MANILA), False),
        ("03-13-2026", None, "NL", datetime(2026, 3, 13, tzinfo=MANILA), False),
        (datetime(2026, 3, 1, 14, 5), None, "US", datetime(2026, 3, 1, 14, 5, tzinfo=MANILA), True),
        (datetime(2026, 3, 1), None, "US", datetime(2026, 3, 1, tzinfo=MANILA), False),
        (date(2026, 3, 1), "14:05:30", "US", datetime(2026, 3, 1, 14, 5, 30, tzinfo=MANILA), True),
        ("01-03-2026", "2:05 pm", "NL", datetime(2026, 3, 1, 14, 5, tzinfo=MANILA), True),
        (date(2026, 3, 1), time(9, 30), "US", datetime(2026, 3, 1, 9, 30, tzinfo=MANILA), True),
        (date(2026, 3, 1), 0.75, "US", datetime(2026, 3, 1, 18, 0, tzinfo=MANILA), True),
        (46082.5, None, "US", datetime(2026, 3, 1, 12, 0, tzinfo=MANILA), True),
        (46082, None, "US", datetime(2026, 3, 1, tzinfo=MANILA), False),
    ],
)
def test_dates_and_times_in_the_forms_providers_write(cell, time_cell, region, expected, has_time):
    moment, timed = parse_moment(cell, time_cell, zone=MANILA, region=region)

    assert (moment, timed) == (expected, has_time)
    assert moment.tzinfo is not None


@pytest.mark.parametrize(
    ("cell", "time_cell"),
    [
        ("yesterday", None),
        ("", None),
        (None, None),
        ("2026-13-01", None),
        ("32/01/2026", None),
        ("2026-03-01 25:00", None),
        ("2026-03-01", "noon"),
        ("2026-03-01", "24:10"),
        (True, None),
        (10**12, None),
    ],
)
def test_what_is_no_date_is_an_invalid_cell(cell, time_cell):
    with pytest.raises(InvalidCell):
        parse_moment(cell, time_cell, zone=UTC, region="US")


def test_the_columns_are_named_for_people():
    assert {column.value for column in Column} == {"moment", "time", "amount", "reference"}
    assert str(Column.MOMENT.label) == "Date (and time)"
