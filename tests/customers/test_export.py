"""Exporting customers with their balances, to Excel and CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command

from prepaid.customers import services as customers
from prepaid.reports import exports
from prepaid.sales import importing
from prepaid.staff.models import AuditEvent
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(business, actor, owner):
    business.currency, business.region = "PHP", "PH"
    business.save()
    maria = make_customer("Maria Santos", balance="1250.50", bonus="100", actor=actor)
    customers.update(
        maria,
        customers.Profile(phone="09171234567", email="maria@example.com", tags=["vip", "a"]),
        by=owner,
    )
    make_customer("王芳", actor=actor)
    customers.register(
        customers.Profile(name='=HYPERLINK("http://x")', phone="+31612345678"), by=None
    )
    return business


def workbook_rows(content):
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [[cell.value for cell in row] for row in book.active.iter_rows()]


def test_the_xlsx_export_lists_customers_with_balances_and_national_phones(shop, owner):
    made = exports.export_customers("xlsx", by=owner)
    rows = workbook_rows(made.content)

    assert rows[0] == [
        "Code", "Name", "Phone", "Email", "Paid balance", "Bonus balance", "Tags", "Created",
    ]  # fmt: skip
    by_name = {row[1]: row for row in rows[1:]}
    maria = by_name["Maria Santos"]
    assert maria[2:7] == ["0917 123 4567", "maria@example.com", 1250.5, 100, "a, vip"]
    assert by_name["王芳"][4:6] == [0, 0]
    assert made.rows == 3 and made.filename.endswith(".xlsx")
    assert_ledger_sound()


def test_the_csv_export_is_utf8_with_a_bom_for_excel(shop, owner):
    made = exports.export_customers("csv", by=owner)
    assert made.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    names = [row[1] for row in rows[1:]]
    assert "王芳" in names
    maria = next(row for row in rows if row[1] == "Maria Santos")
    assert maria[4:6] == ["1250.50", "100.00"]


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_cells_that_look_like_formulas_are_neutralised(shop, owner, file_format):
    made = exports.export_customers(file_format, by=owner)
    if file_format == "xlsx":
        rows = workbook_rows(made.content)
    else:
        rows = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    texts = [str(value) for row in rows for value in row if value is not None]
    assert '\'=HYPERLINK("http://x")' in texts
    assert "'+31 6 12345678" in texts  # a foreign number is written internationally
    assert not any(text.startswith(("=", "@")) for text in texts)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("ok", "ok"),
     (Decimal("-5.00"), Decimal("-5.00")),
     # Full-width forms, which spreadsheets in CJK locales also take as formulas.
     ("＝1+1", "'＝1+1"), ("＋1", "'＋1"), ("－1", "'－1"), ("＠SUM(A1)", "'＠SUM(A1)")],
)  # fmt: skip
def test_neutralise(value, expected):
    assert exports.neutralise(value) == expected


def test_an_export_is_recorded_in_the_audit_trail(shop, owner):
    exports.export_customers("csv", by=owner)
    event = AuditEvent.objects.get(action="customers.exported")
    assert event.staff == owner and event.after == {"format": "csv", "rows": 3}


def test_an_unknown_format_is_refused(shop, owner):
    with pytest.raises(exports.ExportError):
        exports.export_customers("pdf", by=owner)


def test_an_exported_sheet_imports_again_without_changes(shop, owner, store_a, tmp_path):
    path = tmp_path / "customers.xlsx"
    path.write_bytes(exports.export_customers("xlsx", by=owner).content)
    sheet = importing.read_path(path, region="PH")
    mapping = importing.detect(sheet.headers)
    assert importing.Field.BALANCE not in mapping  # a current balance is not an opening
    planned = importing.plan(sheet, mapping)
    assert [row.action for row in planned.rows] == [importing.Action.SKIP] * 3


def test_the_export_command_writes_the_file(shop, tmp_path):
    path = tmp_path / "out.csv"
    out = io.StringIO()
    call_command("export", str(path), stdout=out)
    assert "Exported 3 customers" in out.getvalue()
    assert "Maria Santos" in path.read_bytes().decode("utf-8-sig")
    assert AuditEvent.objects.get(action="customers.exported").staff is None


@pytest.mark.parametrize(
    ("url", "kind"),
    [("/customers/export.xlsx", "spreadsheetml"), ("/customers/export.csv", "text/csv")],
)
def test_the_owner_downloads_the_export(client, shop, owner, url, kind):
    client.force_login(owner.user)
    response = client.get(url)
    assert response.status_code == 200
    assert kind in response["Content-Type"]
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert AuditEvent.objects.filter(action="customers.exported", staff=owner).count() == 1


@pytest.mark.parametrize("persona", ["cashier_a", "accountant"])
def test_cashiers_and_accountants_may_not_export(client, shop, request, persona):
    client.force_login(request.getfixturevalue(persona).user)
    assert client.get("/customers/export.xlsx").status_code == 403
    assert client.get("/customers/export.csv").status_code == 403
    assert not AuditEvent.objects.filter(action="customers.exported").exists()
