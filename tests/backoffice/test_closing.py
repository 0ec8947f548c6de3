"""Day closes, X-reports and settlement files in the back office, as a manager, an owner,
an accountant and a cashier use them: count the drawer, explain a shortfall, approve or
send back, count again, print; the running figures; a provider's file matched and its
leftovers explained; a reversal of a closed day flagged on the statement."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile

from prepaid.closing.models import CloseLine, DayClose, Settlement
from prepaid.ledger.models import Batch
from prepaid.ledger.services import Actor
from prepaid.operations.models import Event
from prepaid.reports import days
from prepaid.sales import services as sales
from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from prepaid.staff.models import AuditEvent
from tests.factories import key, make_customer, make_product, method

pytestmark = pytest.mark.django_db


def signed_in(client, person):
    client.force_login(person.user)
    return client


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return days.bounds(day)[0] + dt.timedelta(hours=hour, minutes=minute)


@pytest.fixture
def yesterday(business, store_a, cashier_a, owner):
    """Yesterday at store A, counter Till 1: cash top-ups of 100.00 and 50.00, a card
    top-up of 30.00 (slip C-1), a cash refund of 20.00 and a sale of 2.50."""
    business.currency, business.region = "PHP", "PH"
    business.save()
    day = days.today() - dt.timedelta(days=1)
    till, _secret = counters.enroll(store_a, "Till 1", by=owner)

    def actor(hour: int, minute: int = 0) -> Actor:
        return Actor(store=store_a, staff=cashier_a, device=till, at=at(day, hour, minute))

    maria, juan = make_customer("Maria Santos"), make_customer("Juan Cruz")
    cash, card = method("cash"), method("card")
    made = {
        "cash": sales.top_up(maria, 10000, method=cash, key=key(), actor=actor(9)).batch,
        "cash2": sales.top_up(juan, 5000, method=cash, key=key(), actor=actor(9, 30)).batch,
        "card": sales.top_up(
            juan, 3000, method=card, reference="C-1", key=key(), actor=actor(10)
        ).batch,
        "refund": sales.cash_out(
            maria, 2000, method=cash, reason="moving", key=key(), actor=actor(10, 30)
        ).batch,
    }
    water = make_product("Purified water", price="0.25")
    sales.sell(maria, [sales.Line(water, "10")], key=key(), actor=actor(11))
    return {"day": day, "store": store_a, "till": till, **made}


def close_form(client, place: str, day: dt.date) -> str:
    page = client.get("/reports/closes/new/", {"place": place, "day": day.isoformat()})
    assert page.status_code == 200, page.content
    body = page.content.decode()
    return re.search(r'name="key" value="([0-9a-f]+)"', body).group(1)


def fields(place: str, day: dt.date, form_key: str, **values: str) -> dict[str, str]:
    return {"key": form_key, "place": place, "day": day.isoformat(), "opening_float": "0", **values}


def test_a_shortfall_needs_an_explanation_then_the_owner_approves(
    client, manager, owner, yesterday
):
    place, day = f"store:{yesterday['store'].pk}", yesterday["day"]
    signed_in(client, manager)
    form_key = close_form(client, place, day)
    page = client.get("/reports/closes/new/", {"place": place, "day": day.isoformat()})
    assert "₱130.00" in page.content.decode()  # cash expected: 100 + 50 − 20
    # The drawer holds 125.00: five short. Card settled in full.
    counted = {"count_10000": "1", "count_2000": "1", "count_500": "1", "settled_card": "30"}
    refused = client.post("/reports/closes/new/", fields(place, day, form_key, **counted))
    assert refused.status_code == 200
    assert "Cash differs by -₱5.00: explain the difference." in refused.content.decode()
    assert (
        not DayClose.objects.exists()
        and not AuditEvent.objects.filter(action="day.closed").exists()
    )

    explained = {**counted, "explain_cash": "change given twice"}
    done = client.post("/reports/closes/new/", fields(place, day, form_key, **explained))
    close = DayClose.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/reports/closes/{close.pk}/"
    assert (close.number, close.state, close.denominations) == (
        1,
        "submitted",
        {"10000": 1, "2000": 1, "500": 1},
    )
    cash = CloseLine.objects.get(close=close, method__code="cash")
    assert (cash.expected_minor, cash.actual_minor, cash.explanation) == (
        13000,
        12500,
        "change given twice",
    )
    assert CloseLine.objects.get(close=close, method__code="card").difference_minor == 0
    # The same form sent again changes nothing.
    again = client.post("/reports/closes/new/", fields(place, day, form_key, **explained))
    assert again.status_code == 302 and DayClose.objects.count() == 1

    shown = client.get(f"/reports/closes/{close.pk}/").content.decode()
    assert "Z-report No. 1" in shown and "change given twice" in shown and close.digest in shown
    assert "does not approve it" in shown and 'value="approve"' not in shown

    signed_in(client, owner)
    page = client.get(f"/reports/closes/{close.pk}/").content.decode()
    decision_key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    client.post(f"/reports/closes/{close.pk}/decide/", {"key": decision_key, "decision": "approve"})
    close.refresh_from_db()
    assert (close.state, close.decided_by) == ("approved", owner)
    assert Event.objects.filter(type="day.approved").count() == 1


def test_sent_back_without_a_reason_is_refused_with_one_it_is_counted_again(
    client, manager, accountant, yesterday
):
    place, day = f"store:{yesterday['store'].pk}", yesterday["day"]
    signed_in(client, manager)
    form_key = close_form(client, place, day)
    client.post(
        "/reports/closes/new/",
        fields(place, day, form_key, counted="130", settled_card="30"),
    )
    close = DayClose.objects.get()

    signed_in(client, accountant)
    refused = client.post(
        f"/reports/closes/{close.pk}/decide/", {"decision": "return", "note": ""}, follow=True
    )
    assert "reason" in refused.content.decode().lower()
    close.refresh_from_db()
    assert close.state == "submitted"
    client.post(
        f"/reports/closes/{close.pk}/decide/",
        {"decision": "return", "note": "count the coins again"},
    )
    close.refresh_from_db()
    assert close.state == "returned"

    signed_in(client, manager)
    shown = client.get(f"/reports/closes/{close.pk}/").content.decode()
    assert "count the coins again" in shown and "/recount/" in shown
    page = client.get(f"/reports/closes/{close.pk}/recount/")
    assert page.status_code == 200
    recount_key = re.search(r'name="key" value="([0-9a-f]+)"', page.content.decode()).group(1)
    client.post(
        f"/reports/closes/{close.pk}/recount/",
        fields(place, day, recount_key, counted="130.00", settled_card="30.00"),
    )
    close.refresh_from_db()
    assert (close.number, close.revision, close.state) == (1, 2, "submitted")
    assert DayClose.objects.count() == 1


def test_the_notes_and_coins_must_agree_with_a_total_typed(client, manager, yesterday):
    place, day = f"store:{yesterday['store'].pk}", yesterday["day"]
    signed_in(client, manager)
    form_key = close_form(client, place, day)
    refused = client.post(
        "/reports/closes/new/",
        fields(place, day, form_key, counted="100", count_10000="1", count_5000="1"),
    )
    assert "The notes and coins add up to 150.00" in refused.content.decode()
    assert not DayClose.objects.exists()


def test_an_amount_with_too_many_decimals_is_that_fields_error(client, manager, yesterday):
    place, day = f"store:{yesterday['store'].pk}", yesterday["day"]
    signed_in(client, manager)
    form_key = close_form(client, place, day)
    refused = client.post(
        "/reports/closes/new/",
        fields(place, day, form_key, counted="130.005", settled_card="30"),
    )
    assert refused.context["form"].errors == {
        "counted": ["Enter an amount with at most the currency's decimals."]
    }
    assert not DayClose.objects.exists()


def test_the_z_report_prints_on_80_mm_and_a4(client, manager, yesterday):
    place, day = f"store:{yesterday['store'].pk}", yesterday["day"]
    signed_in(client, manager)
    form_key = close_form(client, place, day)
    client.post(
        "/reports/closes/new/", fields(place, day, form_key, counted="130", settled_card="30")
    )
    close = DayClose.objects.get()
    sizes = {"80mm": "size: 80mm 297mm", "a4": "size: A4"}
    for paper in ("80mm", "a4"):
        page = client.get(f"/reports/closes/{close.pk}/print/{paper}/")
        assert page.status_code == 200
        assert f"paper-{paper}" in page.content.decode()
        assert close.digest in page.content.decode()
        # The page size comes from a stylesheet of its own (no <style>: docs/security.md).
        sheet = re.search(r'href="(/static/prepaid/zreport-[^"]+)"', page.content.decode())
        assert sheet is not None
        found = finders.find(sheet[1].removeprefix("/static/"))
        assert isinstance(found, str) and sizes[paper] in Path(found).read_text()
    assert client.get(f"/reports/closes/{close.pk}/print/letter/").status_code == 404


def test_the_x_report_shows_the_running_figures_and_closes_nothing(
    client, accountant, cashier_a, owner, yesterday
):
    store, till = yesterday["store"], yesterday["till"]
    actor = Actor(store=store, staff=cashier_a, device=till)
    sales.top_up(make_customer("Ana"), 4200, method=method("cash"), key=key(), actor=actor)
    signed_in(client, accountant)
    page = client.get("/reports/closes/running/", {"place": f"counter:{till.pk}"})
    body = page.content.decode()
    assert page.status_code == 200 and "₱42.00" in body and "₱130.00" not in body
    assert not DayClose.objects.exists()

    # The cashier reads their own counter's, at the counter.
    counters.set_pin(cashier_a, "4827", by=owner)
    secret = counters.enroll(store, "Till 2", by=owner)[1]
    client.logout()
    client.cookies[COOKIE] = secret
    client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": "4827"})
    shift = client.get("/counter/shift/")
    assert shift.status_code == 200
    assert "₱42.00" not in shift.content.decode()  # Till 2 took nothing yet
    assert "X-report" in shift.content.decode()


def test_a_reversal_of_a_closed_day_is_flagged_on_the_statement(client, manager, owner, yesterday):
    place, day = f"store:{yesterday['store'].pk}", yesterday["day"]
    signed_in(client, manager)
    form_key = close_form(client, place, day)
    client.post(
        "/reports/closes/new/", fields(place, day, form_key, counted="130", settled_card="30")
    )
    cash2: Batch = yesterday["cash2"]
    actor = Actor(store=yesterday["store"], staff=owner)
    sales.reverse(cash2, key=key(), actor=actor, reason="wrong customer")

    today = client.get("/reports/statement/", {"preset": "today"}).content.decode()
    assert "Corrections of closed days" in today and f"#{cash2.pk}" in today and "Z1" in today
    closed = client.get("/reports/statement/", {"preset": "yesterday"}).content.decode()
    assert "Corrections of closed days" not in closed


CSV = (
    "Transaction date,Amount,Reference\n"
    "{day} 10:01,30.00,C-1\n"  # our card top-up, by reference
    "{day} 15:00,12.00,X-9\n"  # theirs only
)


def test_a_settlement_file_is_matched_and_its_leftovers_explained(
    client, owner, yesterday, store_a, cashier_a
):
    day = yesterday["day"]
    card_actor = Actor(store=store_a, staff=cashier_a, at=at(day, 13))
    sales.top_up(make_customer("Rosa"), 800, method=method("card"), key=key(), actor=card_actor)
    signed_in(client, owner)
    upload = SimpleUploadedFile(
        "acquirer.csv", CSV.format(day=day.isoformat()).encode(), content_type="text/csv"
    )
    card = method("card")
    made = client.post(
        "/reports/settlements/new/",
        {
            "file": upload,
            "method": card.pk,
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
            "window_minutes": "15",
        },
    )
    settlement = Settlement.objects.get()
    assert made.status_code == 302
    columns = client.get(f"/reports/settlements/{settlement.pk}/").content.decode()
    assert "Choose the columns" in columns and "Transaction date" in columns
    client.post(
        f"/reports/settlements/{settlement.pk}/",
        {"moment": "0", "amount": "1", "reference": "2"},
    )
    settlement.refresh_from_db()
    assert settlement.state == "matched"
    report = client.get(f"/reports/settlements/{settlement.pk}/").content.decode()
    assert "X-9" in report and "₱8.00" in report and "₱30.00" in report

    line = settlement.lines.get(reference="X-9")
    client.post(
        f"/reports/settlements/{settlement.pk}/resolve/",
        {"line": line.pk, "note": "a tip paid by card"},
    )
    refused = client.post(
        f"/reports/settlements/{settlement.pk}/resolve/",
        {"line": line.pk, "note": "again"},
        follow=True,
    )
    assert refused.status_code == 200
    assert settlement.resolutions.count() == 1
    listed = client.get("/reports/settlements/").content.decode()
    assert "acquirer.csv" in listed
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/reports/settlements/{settlement.pk}.xlsx").content)
    )
    assert book.sheetnames == ["Matched", "Only here", "Only in their file"]
    theirs = list(book["Only in their file"].iter_rows(min_row=2, values_only=True))
    assert theirs == [(theirs[0][0], 3, "X-9", 12, "a tip paid by card")]
    ours = list(book["Only here"].iter_rows(min_row=2, values_only=True))
    assert [(row[3] or "", row[4]) for row in ours] == [("", 8)]  # Rosa's card top-up


def test_an_unreadable_settlement_file_is_refused_beside_the_field(client, owner, yesterday):
    signed_in(client, owner)
    day = yesterday["day"].isoformat()
    upload = SimpleUploadedFile("x.xlsx", b"not a workbook", content_type="application/zip")
    page = client.post(
        "/reports/settlements/new/",
        {
            "file": upload,
            "method": method("card").pk,
            "first_day": day,
            "last_day": day,
            "window_minutes": "15",
        },
    )
    assert page.status_code == 200 and not Settlement.objects.exists()
    assert 'class="error"' in page.content.decode()


def test_cashiers_may_not_close_a_day(client, cashier_a, yesterday):
    place, day = f"store:{yesterday['store'].pk}", yesterday["day"]
    signed_in(client, cashier_a)
    refused = client.get("/reports/closes/new/", {"place": place, "day": day.isoformat()})
    assert refused.status_code == 403


def test_closes_export_to_excel_with_numbers_and_in_the_month_workbook(
    client, manager, accountant, yesterday
):
    place, day = f"store:{yesterday['store'].pk}", yesterday["day"]
    signed_in(client, manager)
    form_key = close_form(client, place, day)
    client.post(
        "/reports/closes/new/",
        fields(place, day, form_key, counted="125", settled_card="30", explain_cash="short"),
    )
    signed_in(client, accountant)
    answer = client.get("/reports/closes.xlsx")
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content))["Day closes"]
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert row["Day"].date() == day and row["Z"] == 1
    assert row["Cash expected"] == 130 and row["Cash counted"] == 125
    assert row["Difference"] == -5 and row["Why it differs"] == "Cash: short"
    assert sheet.freeze_panes == "A2"
    assert AuditEvent.objects.filter(action="report.exported", subject="report:day_closes")
    month = client.get("/reports/month.xlsx", {"start": day.isoformat()})
    assert "Day closes" in openpyxl.load_workbook(io.BytesIO(month.content)).sheetnames
    assert client.get("/reports/closes.csv").content.startswith(b"\xef\xbb\xbf")


def test_a_manager_of_one_store_closes_only_its_days(client, manager, store_b, yesterday):
    """Mona manages store A: store B's day is refused (the form and a forged post alike)
    and nothing is written; once she is assigned to no store she works chain-wide."""
    place, day = f"store:{store_b.pk}", yesterday["day"]
    signed_in(client, manager)
    shown = client.get(
        "/reports/closes/new/", {"place": place, "day": day.isoformat()}, follow=True
    )
    assert "You close the days of your own stores; Store B is not one of them." in (
        shown.content.decode()
    )
    forged = client.post(
        "/reports/closes/new/", fields(place, day, "k-1", counted="0"), follow=True
    )
    assert "Store B is not one of them" in forged.content.decode()
    assert not DayClose.objects.exists()

    manager.stores.clear()
    form_key = close_form(client, place, day)
    done = client.post("/reports/closes/new/", fields(place, day, form_key, counted="0"))
    assert done.status_code == 302 and DayClose.objects.get().store == store_b
