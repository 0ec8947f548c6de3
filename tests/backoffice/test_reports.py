"""The Reports pages and their exports, as an owner, a manager and an accountant use
them: the statement with its filters, what was owed day by day, Excel with real numbers
and dates, CSV for Excel, a month in one workbook; every export audited; cashiers
refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from prepaid.ledger import services as ledger
from prepaid.reports import balances, days
from prepaid.reports.models import Outlook
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent
from tests.factories import make_customer, make_product, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold(business, store_a, cashier_a):
    """A top-up with bonus and a sale today at store A."""
    business.currency, business.region = "PHP", "PH"
    business.save()
    actor = ledger.Actor(store=store_a, staff=cashier_a)
    maria = make_customer("Maria Santos")
    sales.top_up(maria, 10000, method=method(), bonus_minor=1000, key="t", actor=actor)
    water = make_product("Purified water", price="0.25")
    sales.sell(maria, [sales.Line(water, "5")], key="s", actor=actor)
    return maria


def signed_in(client, person):
    client.force_login(person.user)
    return client


def test_the_statement_shows_the_days_money(client, owner, sold):
    page = signed_in(client, owner).get("/reports/statement/", {"preset": "today"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Purified water" in body and "₱100.00" in body and "₱1.25" in body
    assert "₱10.00" in body  # the bonus given


def test_a_store_with_nothing_shows_nothing_moved_but_the_chains_liability(
    client, owner, sold, store_b
):
    page = signed_in(client, owner).get("/reports/statement/", {"store": store_b.pk})
    body = page.content.decode()
    assert "No top-ups." in body and "No sales." in body
    assert "₱108.75" in body  # owed at the end: the chain's (98.86 paid + 9.89 bonus)


def test_the_excel_statement_holds_numbers_and_a_frozen_header_per_section(
    client, accountant, sold
):
    answer = signed_in(client, accountant).get("/reports/statement.xlsx", {"preset": "today"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Summary", "Top-ups", "Sales", "Refunds", "Reversals"]
    top_ups = book["Top-ups"]
    assert top_ups.freeze_panes == "A2"
    assert [cell.value for cell in top_ups[1]] == ["Payment method", "Count", "Amount", "Bonus"]
    name, count, amount, bonus = (cell for cell in top_ups[2])
    assert (name.value, count.value) == ("Cash", 1)
    assert isinstance(amount.value, int | float | Decimal) and amount.value == 100
    assert amount.data_type == "n" and bonus.value == 10
    assert "₱" in amount.number_format and "0.00" in amount.number_format
    sale = list(book["Sales"].iter_rows(min_row=2, values_only=True))
    assert sale == [("Purified water", "gallon", 1, 5, 1.25, 1.14, 0.11)]
    assert AuditEvent.objects.filter(action="report.exported", staff=accountant).exists()


def test_the_csv_statement_is_one_table_with_a_bom(client, owner, sold):
    answer = signed_in(client, owner).get("/reports/statement.csv", {"preset": "today"})
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert ["Top-ups", "Cash", "1", "100.00", "10.00"] in rows


def test_a_month_is_one_workbook_with_every_day(client, owner, sold):
    answer = signed_in(client, owner).get("/reports/month.xlsx", {"preset": "this_month"})
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames[0] == "Days" and book.sheetnames[-2:] == ["Owed by day", "Day closes"]
    days_sheet = list(book["Days"].iter_rows(min_row=2, values_only=True))
    today = days.today()
    assert len(days_sheet) == today.day
    assert isinstance(days_sheet[-1][0], dt.datetime) and days_sheet[-1][0].date() == today
    assert days_sheet[-1][2] == 100  # paid in today


def test_what_was_owed_by_day_page_and_export(client, manager, sold):
    page = signed_in(client, manager).get("/reports/liability/", {"preset": "30"})
    assert page.status_code == 200
    assert 'data-chart="' in page.content.decode()
    answer = client.get("/reports/liability.xlsx", {"preset": "30"})
    rows = list(openpyxl.load_workbook(io.BytesIO(answer.content))["Owed by day"].values)
    assert rows[0] == ("Day", "Paid", "Bonus", "Credit", "Customers with a balance")
    assert rows[-1][1:] == (98.86, 9.89, 0, 1)  # the sale took its bonus share


def test_cashiers_read_no_reports_and_an_unknown_format_is_not_found(
    client, cashier_a, owner, sold
):
    assert signed_in(client, cashier_a).get("/reports/statement/").status_code == 403
    assert signed_in(client, owner).get("/reports/statement.pdf").status_code == 404


def test_the_age_and_use_of_balances_page_and_its_export(client, accountant, sold):
    page = signed_in(client, accountant).get("/reports/balances/", {"days": "30"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "₱98.86" in body  # all of the paid balance is younger than 30 days
    assert "Nobody: every customer holding money came back in that time." in body
    answer = client.get("/reports/balances.xlsx", {"days": "30"})
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Aging", "Burn-down", "Dormant"]
    aged = list(book["Aging"].values)
    assert aged[0] == ("Age of the money", "Paid balance", "Computed at")
    assert aged[1][:2] == ("0–30 days", 98.86) and isinstance(aged[1][2], dt.datetime)
    assert list(book["Burn-down"].values)[1][:2] == ("Held (paid and bonus)", 108.75)


def test_aging_and_the_burn_down_are_read_as_computed_once_a_day(
    client, owner, store_a, cashier_a, sold
):
    """The worker stores them once the shop's day has turned; the page shows that
    computation and when it was made, until "Compute again now"."""
    assert "computed now" in signed_in(client, owner).get("/reports/balances/").content.decode()
    assert balances.keep_outlook() == 1
    assert balances.keep_outlook() == 0  # once a day
    sales.top_up(
        sold,
        10_000,
        method=method(),
        key="later",
        actor=ledger.Actor(store=store_a, staff=cashier_a),
    )

    page = client.get("/reports/balances/").content.decode()
    assert "₱98.86" in page and "₱198.86" not in page  # as of the stored computation
    assert "Aging, burn-down and dormant balances as of" in page

    again = client.post("/reports/balances/recompute/", {"query": "days=30"})
    assert again.status_code == 302 and again["Location"] == "/reports/balances/?days=30"
    assert "₱198.86" in client.get("/reports/balances/").content.decode()
    assert Outlook.objects.count() == 2
    assert client.get("/reports/balances/recompute/").status_code == 405
