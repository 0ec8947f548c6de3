"""Importing the owner's customer sheet: reading messy files, the preview, the commit,
re-importing, the command and the back-office screens."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError

from prepaid.customers import lookup
from prepaid.customers import services as customers
from prepaid.customers.models import Card, Customer, NameKey
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.lib.sealing import open_record
from prepaid.lib.text import fold, name_keys
from prepaid.sales import importing
from prepaid.sales import services as sales
from prepaid.sales.importing import Action, Field, committing, reading
from prepaid.staff.models import AuditEvent
from tests.conftest import assert_ledger_sound
from tests.customers.sheets import committed, csv_file, xlsx
from tests.factories import make_actor, make_customer

pytestmark = pytest.mark.django_db

HEADER = ["Name", "Mobile", "Email", "Balance", "Notes", "Birthday", "Tags"]


@pytest.fixture
def philippines(business):
    business.currency, business.region, business.time_zone = "PHP", "PH", "Asia/Manila"
    business.save()
    return business


@pytest.fixture
def importer(store_a, owner):
    return make_actor(store_a, owner)


def read(path, region="PH"):
    return importing.read_path(path, region=region)


def plan_of(path, region="PH"):
    sheet = read(path, region)
    return importing.plan(sheet, importing.detect(sheet.headers))


def commit(path, actor, region="PH"):
    sheet = read(path, region)
    return importing.commit(sheet, importing.detect(sheet.headers), actor=actor)


def row(planned, number):
    return next(r for r in planned.rows if r.number == number)


def wallet_balance(customer):
    return sales.balances(customer).paid


# -- reading -----------------------------------------------------------------------------


def test_a_title_row_above_the_header_is_passed_over_and_empty_rows_dropped(tmp_path, business):
    path = xlsx(
        tmp_path / "list.xlsx",
        [
            ["Customers of Agua Pura, March"],
            [],
            ["Name ", "Phone", "Balance"],
            ["Maria", "2125550123", 10],
            [None, None, None],
            ["  ", "", None],
            ["Jose", "2125550124", 5],
        ],
    )
    sheet = read(path, "US")
    assert sheet.header_row == 3 and sheet.recognised
    assert [number for number, _cells in sheet.rows] == [4, 7]
    assert importing.detect(sheet.headers) == {Field.NAME: 0, Field.PHONE: 1, Field.BALANCE: 2}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Name", "Phone number", "E-mail", "Balance (PHP)", "Remarks", "Date of birth"],
            [Field.NAME, Field.PHONE, Field.EMAIL, Field.BALANCE, Field.NOTES, Field.BIRTHDAY],
        ),
        (
            ["姓名", "手机号码", "邮箱", "余额（元）", "备注", "生日", "地址", "标签"],
            [
                *(Field.NAME, Field.PHONE, Field.EMAIL, Field.BALANCE, Field.NOTES),
                *(Field.BIRTHDAY, Field.ADDRESS, Field.TAGS),
            ],
        ),
        (
            ["Naam", "Telefoon", "E-mailadres", "Saldo", "Opmerkingen", "Geboortedatum", "Adres"],
            [
                *(Field.NAME, Field.PHONE, Field.EMAIL, Field.BALANCE, Field.NOTES),
                *(Field.BIRTHDAY, Field.ADDRESS),
            ],
        ),
        (
            ["Code", "Customer", "Tel.", "Comments"],
            [Field.CODE, Field.NAME, Field.PHONE, Field.NOTES],
        ),
    ],
)
def test_headers_are_recognised_in_english_chinese_and_dutch(headers, expected):
    mapping = importing.detect(headers)
    assert [field for field, _column in sorted(mapping.items(), key=lambda item: item[1])] == (
        expected
    )


def test_a_dutch_csv_with_semicolons_decimal_commas_and_windows_encoding(business, importer):
    business.currency, business.region = "EUR", "NL"
    business.save()
    planned = plan_of(committed("klanten-nl.csv"), "NL")
    assert planned.error_rows == []
    jose = row(planned, 4)
    assert jose.values.name == "José van Dijk"
    assert jose.values.phone == "+31612345678"  # the leading zero a spreadsheet dropped
    assert jose.values.email == "jose@example.nl"
    assert jose.values.opening_minor == 123450
    assert jose.values.birthday == dt.date(1990, 5, 17)
    assert row(planned, 5).values.opening_minor == 1250
    assert row(planned, 7).values.birthday == dt.date(1985, 11, 3)
    assert [r.action for r in planned.rows] == [Action.CREATE] * 3


def test_a_csv_from_chinese_excel_in_gbk_is_read(business):
    business.currency, business.region = "CNY", "CN"
    business.save()
    planned = plan_of(committed("customers-gbk.csv"), "CN")
    assert planned.error_rows == []
    wang, li = planned.rows
    assert (wang.values.name, wang.values.phone) == ("王芳", "+8613812345678")
    assert (wang.values.opening_minor, wang.values.birthday) == (50000, dt.date(1990, 5, 17))
    assert (li.values.opening_minor, li.values.birthday) == (120050, dt.date(1985, 11, 3))


@pytest.mark.parametrize("name", ["old.xls", "photo.png"])
def test_an_old_xls_or_another_file_is_refused_with_a_clear_message(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0 not a sheet")
    with pytest.raises(importing.ImportProblem, match=r"\.xlsx"):
        read(path)


@pytest.mark.parametrize("write_only", [False, True])
def test_the_sheet_is_read_as_openpyxl_reads_it(tmp_path, write_only):
    """prepaid reads the sheet's XML itself, for speed; it must see what openpyxl sees."""
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    birthday = openpyxl.cell.WriteOnlyCell(sheet, value=dt.datetime(1990, 5, 17, 8, 30))
    birthday.number_format = "dd/mm/yyyy hh:mm"
    rows = [
        ["Name", None, "Phone", "Balance", "VIP", "Birthday", "Since"],
        ["Maria", None, 9171234567, 12.5, True, birthday, dt.date(2019, 1, 2)],
        [],
        [None, "=1+1", "0917 000 0000", -3, False, None, 43831],
        ["王芳", None, None, "1.234,50", None, "#N/A", "1e3"],
    ]
    for values in rows:
        sheet.append(values)
    path = tmp_path / "kinds.xlsx"
    book.save(path)

    with path.open("rb") as source:
        rows = reading._xlsx_rows(source, importing.Limits.of_settings())
        ours = [reading._trim(cells) for cells in rows]
    theirs_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    theirs_sheet = theirs_book.worksheets[0]
    theirs_sheet.reset_dimensions()
    theirs = [reading._trim(tuple(r)) for r in theirs_sheet.iter_rows(values_only=True)]
    theirs_book.close()
    assert ours == theirs
    assert ours[1][5] == dt.datetime(1990, 5, 17, 8, 30) and ours[2] == ()


def test_a_file_that_only_claims_to_be_xlsx_is_refused(tmp_path):
    path = tmp_path / "customers.xlsx"
    path.write_text("Name,Phone\nMaria,123\n")
    with pytest.raises(importing.ImportProblem, match="Excel workbook"):
        read(path)


def test_without_known_headers_the_first_row_is_the_header_to_map_by_hand(tmp_path, business):
    path = csv_file(tmp_path / "x.csv", [["Klant nr", "Wie"], ["1", "Maria"], ["2", "Jose"]])
    sheet = read(path, "US")
    assert not sheet.recognised and sheet.headers == ["Klant nr", "Wie"]
    assert sheet.samples(1) == ["Maria", "Jose"]
    planned = importing.plan(sheet, importing.mapping_of(["", "name"]))
    assert [r.values.name for r in planned.rows] == ["Maria", "Jose"]


def test_a_field_chosen_for_two_columns_is_refused():
    with pytest.raises(importing.ImportProblem, match="two columns"):
        importing.mapping_of(["name", "phone", "name"])


# -- cleaning cells ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "currency", "minor"),
    [
        ("12,50", "EUR", 1250),
        ("1.234,50", "EUR", 123450),
        ("1,234.50", "USD", 123450),
        ("₱1,234.50", "PHP", 123450),
        ("€ 12,50", "EUR", 1250),
        ("PHP 500", "PHP", 50000),
        ("1 234,5 EUR", "EUR", 123450),
        ("1.234", "EUR", 123400),
        ("1,234,567", "USD", 123456700),
        ("0.500", "USD", 50),
        ("¥500", "JPY", 500),
        ("1.234", "KWD", 1234),
        (12.5, "USD", 1250),
        (12.350000000000001, "USD", 1235),
        (500, "PHP", 50000),
        (Decimal("7.25"), "USD", 725),
        ("  42 ", "USD", 4200),
    ],
)
def test_amounts_as_sheets_write_them(cell, currency, minor):
    assert importing.parse_amount(cell, currency) == minor


@pytest.mark.parametrize("cell", ["abc", "12.5.6,7", "--5", "", True, "1,2,3"])
def test_unreadable_amounts_are_refused(cell):
    with pytest.raises(ValueError, match="not an amount"):
        importing.parse_amount(cell, "USD")


def test_an_amount_with_more_decimals_than_the_currency_is_refused():
    with pytest.raises(ValueError, match="more decimals"):
        importing.parse_amount("12.50", "JPY")


@pytest.mark.parametrize(
    ("cell", "region", "day"),
    [
        (dt.datetime(1990, 5, 17), "PH", dt.date(1990, 5, 17)),
        (dt.date(1990, 5, 17), "PH", dt.date(1990, 5, 17)),
        (33010, "PH", dt.date(1990, 5, 17)),  # an Excel serial in a number cell
        ("33010", "NL", dt.date(1990, 5, 17)),  # … or as text in a CSV
        ("1990-05-17", "NL", dt.date(1990, 5, 17)),
        ("1990-05-17 00:00:00", "NL", dt.date(1990, 5, 17)),
        ("17/05/1990", "NL", dt.date(1990, 5, 17)),
        ("05/17/1990", "US", dt.date(1990, 5, 17)),
        ("03/11/1985", "US", dt.date(1985, 3, 11)),
        ("03/11/1985", "NL", dt.date(1985, 11, 3)),
        ("17.05.1990", "NL", dt.date(1990, 5, 17)),
        ("1990年5月17日", "CN", dt.date(1990, 5, 17)),
        ("1990/5/17", "CN", dt.date(1990, 5, 17)),
        ("17 May 1990", "PH", dt.date(1990, 5, 17)),
        ("May 17, 1990", "PH", dt.date(1990, 5, 17)),
    ],
)
def test_birthdays_as_dates_serials_and_text(cell, region, day):
    assert importing.parse_date(cell, region) == day


@pytest.mark.parametrize("cell", ["31/02/1990", "someday", "2999-01-01", "1850-01-01", 0])
def test_impossible_birthdays_are_refused(cell):
    with pytest.raises(ValueError, match=r"date|birthday"):
        importing.parse_date(cell, "NL")


def test_phone_numbers_stored_as_numbers_get_their_leading_zero_back(tmp_path, philippines):
    path = xlsx(
        tmp_path / "phones.xlsx",
        [["Name", "Mobile"], ["Ana", 9171234567], ["Ben", 9181234567.0], ["Cy", "0919 123 4567 "]],
    )
    phones = [r.values.phone for r in plan_of(path).rows]
    assert phones == ["+639171234567", "+639181234567", "+639191234567"]


# -- the preview -------------------------------------------------------------------------


def test_every_row_shows_its_errors_and_what_will_happen(tmp_path, philippines, importer):
    known = customers.register(
        customers.Profile(name="Rosa Cruz", phone="09171110000", email="rosa@example.com"),
        by=None,
    )
    same = customers.register(customers.Profile(name="Leo", phone="09172220000"), by=None)
    customers.register(customers.Profile(name="Zed", phone="09178880000"), by=None)
    path = xlsx(
        tmp_path / "mixed.xlsx",
        [
            HEADER,
            ["Maria Santos", 9171234567, "maria@example.com", "₱1,250.50", "", None, "vip"],
            ["Rosa Cruz", "0917 111 0000", None, None, "prefers alkaline", None, None],
            ["Leo", "09172220000", None, None, None, None, None],
            ["Juan", "12345", "not-an-email", "-5", None, "31/02/1990", None],
            ["Mae", 9173334444, None, "lots", None, None, None],
            ["Maria S.", "09171234567", None, None, None, None, None],
            [None, "09175556666", None, "10", None, None, None],
            ["Zed", "09178880000", "rosa@example.com", None, None, None, None],
        ],
    )
    planned = plan_of(path)
    actions = {r.number: r.action for r in planned.rows}
    assert actions == {
        2: Action.CREATE,
        3: Action.UPDATE,
        4: Action.SKIP,
        5: Action.ERROR,
        6: Action.ERROR,
        7: Action.ERROR,
        8: Action.ERROR,
        9: Action.ERROR,
    }
    assert row(planned, 3).customer == known and row(planned, 3).changes == [Field.NOTES]
    assert row(planned, 4).customer == same
    errors = {r.number: " ".join(r.errors) for r in planned.error_rows}
    assert "“12345” is not a phone number" in errors[5]
    assert "“not-an-email” is not an email address" in errors[5]
    assert "cannot be negative" in errors[5] and "“31/02/1990” is not a date" in errors[5]
    assert "“lots” is not an amount" in errors[6]
    assert "Same phone number as row 2" in errors[7]
    assert "The name is missing" in errors[8]
    assert "This email address belongs to Rosa Cruz" in errors[9]
    assert planned.details(row(planned, 2)) == ["Opening balance ₱1,250.50."]
    assert planned.opening_minor == 125050
    assert Customer.objects.count() == 3  # planning writes nothing


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (["Jose", "0917 123 4567", None], "Same phone number as row 2"),
        (["Jose", None, "MARIA@example.com "], "Same email address as row 2"),
        (["Maria Santos", None, None], "neither has a code, phone or email"),
    ],
)
def test_duplicates_inside_the_file_are_row_errors(tmp_path, philippines, second, message):
    first = ["Maria Santos", 9171234567, "maria@example.com"]
    if second[0] == "Maria Santos":
        first = ["Maria Santos", None, None]
    path = xlsx(tmp_path / "dup.xlsx", [["Name", "Phone", "Email"], first, second])
    planned = plan_of(path)
    assert row(planned, 2).action == Action.CREATE
    assert message in " ".join(row(planned, 3).errors)


def test_rows_match_by_code_then_phone_then_email(tmp_path, philippines):
    by_code = customers.register(customers.Profile(name="A", phone="09170000001"), by=None)
    by_phone = customers.register(customers.Profile(name="B", phone="09170000002"), by=None)
    by_email = customers.register(customers.Profile(name="C", email="c@example.com"), by=None)
    path = xlsx(
        tmp_path / "match.xlsx",
        [
            ["Code", "Name", "Phone", "Email"],
            [by_code.code.lower().replace("-", ""), "A", "09170000001", None],
            [None, "B", "09170000002", "new-b@example.com"],
            [None, "C", "09170000099", "C@example.com"],
            ["2222-2222", "New with a code", None, None],
        ],
    )
    planned = plan_of(path)
    assert [r.customer for r in planned.rows] == [by_code, by_phone, by_email, None]
    assert row(planned, 3).changes == [Field.EMAIL]
    assert row(planned, 4).changes == [Field.PHONE]
    assert row(planned, 5).values.code == "2222-2222"


def test_a_code_that_is_not_one_of_ours_says_how_to_go_on(tmp_path, philippines):
    path = xlsx(tmp_path / "codes.xlsx", [["Code", "Name"], ["C-001", "Maria"]])
    (only,) = plan_of(path).rows
    assert "is not a customer code" in only.errors[0]
    assert "leave the code column out" in only.errors[0]


def test_a_row_with_only_a_name_matches_the_one_customer_of_that_name(tmp_path, philippines):
    maria = customers.register(customers.Profile(name="Maria Santos"), by=None)
    customers.register(customers.Profile(name="Jose Cruz"), by=None)
    customers.register(customers.Profile(name="Jose Cruz"), by=None)
    path = xlsx(
        tmp_path / "names.xlsx", [["Name", "Notes"], ["maria santos", "x"], ["Jose Cruz", "y"]]
    )
    planned = plan_of(path)
    assert row(planned, 2).customer == maria and row(planned, 2).action == Action.UPDATE
    assert "2 customers are called Jose Cruz" in row(planned, 3).errors[0]


def test_an_existing_customer_needs_no_name_in_the_sheet(tmp_path, philippines):
    known = customers.register(customers.Profile(name="Ana", phone="09171234567"), by=None)
    path = xlsx(tmp_path / "no-name.xlsx", [["Name", "Phone", "Notes"], [None, 9171234567, "hi"]])
    (only,) = plan_of(path).rows
    assert (only.customer, only.action, only.errors) == (known, Action.UPDATE, [])


# -- the commit --------------------------------------------------------------------------


def sheet_with_balances(tmp_path, name="customers.xlsx", balance="₱1,250.50"):
    return xlsx(
        tmp_path / name,
        [
            ["Customer list — Agua Pura"],
            HEADER,
            ["Maria Santos ", 9171234567, "Maria@Example.com", balance, "likes alkaline",
             dt.datetime(1990, 5, 17), "vip, weekly"],
            ["王芳", "0917 765 4321", None, 500, None, 33010, "vip"],
            ["Jose Cruz", None, None, None, None, None, None],
        ],
    )  # fmt: skip


def test_a_commit_registers_customers_with_cards_search_keys_and_opening_balances(
    tmp_path, philippines, importer, owner, store_a
):
    result = commit(sheet_with_balances(tmp_path), importer)

    assert (result.created, result.updated, result.skipped) == (3, 0, 0)
    assert (result.openings, result.opening_minor) == (2, 175050)
    maria = customers.with_phone("+639171234567").get()
    assert (maria.name, maria.email, maria.notes) == (
        "Maria Santos",
        "maria@example.com",
        "likes alkaline",
    )
    assert maria.birthday == dt.date(1990, 5, 17) and maria.home_store == store_a
    assert maria.search_name == fold("Maria Santos") and maria.phone == "+639171234567"
    assert set(NameKey.objects.filter(customer=maria).values_list("key", flat=True)) == name_keys(
        maria.search_name
    )
    assert sorted(maria.tags.values_list("name", flat=True)) == ["vip", "weekly"]
    assert Card.objects.filter(customer=maria, revoked_at__isnull=True).count() == 1
    wang = Customer.objects.get(name="王芳")
    assert wang.birthday == dt.date(1990, 5, 17)
    assert (wallet_balance(maria), wallet_balance(wang)) == (125050, 50000)

    batch = Batch.objects.get(key=f"opening:{maria.code}")
    assert (batch.code, batch.customer, batch.staff, batch.store) == (
        "opening",
        maria,
        owner,
        store_a,
    )
    (transfer,) = batch.transfers.all()
    assert (transfer.code, transfer.amount) == (Transfer.Code.OPENING, 125050)
    assert transfer.debit_account.kind == Account.Kind.OPENING
    assert transfer.debit_account.store == store_a and transfer.debit_account.customer is None
    jose = Account.objects.filter(customer__name="Jose Cruz")  # opened at registration, empty
    assert sorted(jose.values_list("kind", "credits_posted")) == [("bonus", 0), ("wallet", 0)]

    registered = AuditEvent.objects.get(
        action="customer.registered", subject=f"customer:{maria.code}"
    )
    assert registered.staff == owner and "+639171234567" not in str(registered.after)
    assert customers.revealed(maria, registered.after)["phone"] == "+639171234567"
    imported = AuditEvent.objects.get(action="customers.imported")
    assert imported.after["created"] == 3 and imported.after["file"] == "customers.xlsx"
    assert_ledger_sound()


def test_imported_customers_are_found_by_name_phone_and_two_chinese_characters(
    tmp_path, philippines, importer
):
    commit(sheet_with_balances(tmp_path), importer)
    assert [c.name for c in lookup.search("santos")] == ["Maria Santos"]
    assert [c.name for c in lookup.search("1234567")] == ["Maria Santos"]
    assert [c.name for c in lookup.search("王芳")] == ["王芳"]


def test_reimporting_the_same_file_posts_nothing_twice_and_creates_no_duplicate(
    tmp_path, philippines, importer
):
    path = sheet_with_balances(tmp_path)
    commit(path, importer)
    again = commit(path, importer)

    assert (again.created, again.updated, again.skipped, again.openings) == (0, 0, 3, 0)
    assert Customer.objects.count() == 3
    assert Batch.objects.filter(code=Batch.Code.OPENING).count() == 2
    assert wallet_balance(Customer.objects.get(name="Maria Santos")) == 125050
    assert_ledger_sound()


def test_another_amount_for_an_imported_opening_balance_is_a_row_error(
    tmp_path, philippines, importer
):
    commit(sheet_with_balances(tmp_path), importer)
    changed = sheet_with_balances(tmp_path, "changed.xlsx", balance="2000")

    planned = plan_of(changed)
    maria = row(planned, 3)
    assert maria.errors == ["Opening balance already imported (₱1,250.50)."]
    with pytest.raises(importing.RowErrors) as refused:
        commit(changed, importer)
    assert [r.number for r in refused.value.plan.error_rows] == [3]
    assert wallet_balance(Customer.objects.get(name="Maria Santos")) == 125050
    assert_ledger_sound()


def test_an_existing_customer_is_updated_through_the_service_and_gets_an_opening_balance(
    tmp_path, philippines, importer, owner
):
    ana = make_customer("Ana Reyes", balance="20.00", actor=importer)
    customers.update(ana, customers.Profile(phone="09171234567"), by=owner)
    path = xlsx(
        tmp_path / "ana.xlsx",
        [
            ["Name", "Phone", "Notes", "Balance"],
            ["Ana Reyes", "09171234567", "VIP since 2019", "150"],
        ],
    )
    result = commit(path, importer)

    assert (result.created, result.updated, result.openings) == (0, 1, 1)
    ana.refresh_from_db()
    assert ana.notes == "VIP since 2019"
    assert wallet_balance(ana) == 2000 + 15000
    event = AuditEvent.objects.filter(action="customer.updated").latest("id")
    assert customers.revealed(ana, event.after) == {"notes": "VIP since 2019"}
    assert event.staff == owner
    assert Batch.objects.get(key=f"opening:{ana.code}").transfers.get().amount == 15000
    assert_ledger_sound()


def test_any_row_error_means_nothing_is_written(tmp_path, philippines, importer):
    path = xlsx(
        tmp_path / "bad.xlsx",
        [["Name", "Phone", "Balance"], ["Maria", 9171234567, 100], ["Jose", "0917", 50]],
    )
    with pytest.raises(importing.RowErrors, match="1 rows have errors"):
        commit(path, importer)
    assert not Customer.objects.exists() and not Batch.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_failure_half_way_rolls_back_the_whole_file(tmp_path, philippines, importer, monkeypatch):
    existing = customers.register(customers.Profile(name="Rey", phone="09170000000"), by=None)
    path = xlsx(
        tmp_path / "half.xlsx",
        [["Name", "Phone", "Balance"], ["Maria", 9171234567, 100], ["Rey", "09170000000", 50]],
    )

    def refuse(*args, **kwargs):
        raise IntegrityError("a concurrent import posted the same key")

    monkeypatch.setattr(committing, "_post_opening", refuse)  # runs after the new customers
    with pytest.raises(importing.ImportProblem, match="Nothing was imported"):
        commit(path, importer)
    assert list(Customer.objects.all()) == [existing]
    assert not Batch.objects.exists() and not Account.objects.exists()
    assert_ledger_sound()


def test_a_phone_registered_at_the_counter_while_importing_refuses_the_whole_file(
    tmp_path, philippines, importer, monkeypatch
):
    path = xlsx(
        tmp_path / "race.xlsx",
        [["Name", "Phone", "Balance"], ["Maria", 9171234567, 100], ["Jose", 9181234567, 50]],
    )
    register_many = customers.register_many

    def counter_first(*args, **kwargs):  # the counter registers Maria's phone meanwhile
        customers.register(customers.Profile(name="Rey", phone="09171234567"), by=None)
        return register_many(*args, **kwargs)

    monkeypatch.setattr(customers, "register_many", counter_first)
    with pytest.raises(importing.ImportProblem, match="Nothing was imported"):
        commit(path, importer)
    assert not Customer.objects.exists() and not Batch.objects.exists()
    assert_ledger_sound()


def test_opening_balances_posted_meanwhile_refuse_the_whole_file(
    tmp_path, philippines, importer, monkeypatch
):
    path = sheet_with_balances(tmp_path)
    open_new_accounts = committing._open_new_accounts

    def twice(*args, **kwargs):  # as if a concurrent import had opened the same accounts
        open_new_accounts(*args, **kwargs)
        open_new_accounts(*args, **kwargs)

    monkeypatch.setattr(committing, "_open_new_accounts", twice)
    with pytest.raises(importing.ImportProblem, match="Nothing was imported"):
        commit(path, importer)
    assert not Customer.objects.exists() and not Batch.objects.exists()
    assert not Account.objects.filter(customer__isnull=False).exists()
    assert_ledger_sound()


def test_a_plan_that_changed_since_the_preview_is_refused(tmp_path, philippines, importer):
    path = sheet_with_balances(tmp_path)
    sheet = read(path)
    mapping = importing.detect(sheet.headers)
    previewed = importing.plan(sheet, mapping).digest
    customers.register(customers.Profile(name="Jose Cruz"), by=None)  # row 5 is now an update
    with pytest.raises(importing.ImportProblem, match="changed since the preview"):
        importing.commit(sheet, mapping, actor=importer, expected=previewed)
    assert Customer.objects.count() == 1


def test_many_rows_are_written_in_chunks_with_progress(
    tmp_path, philippines, importer, monkeypatch
):
    monkeypatch.setattr(customers, "WRITE_CHUNK", 7)
    rows = [["Name", "Phone", "Balance"]]
    rows += [[f"Customer {i}", 9170000000 + i, i % 3] for i in range(30)]
    path = xlsx(tmp_path / "many.xlsx", rows)
    seen = []
    sheet = read(path)
    result = importing.commit(
        sheet, importing.detect(sheet.headers), actor=importer, progress=lambda *a: seen.append(a)
    )
    assert result.created == 30 and result.openings == 20
    assert ("write", 30, 30) in seen and ("write", 7, 30) in seen
    assert Card.objects.count() == 30 and len({c.code for c in Customer.objects.all()}) == 30
    assert_ledger_sound()


# -- the command -------------------------------------------------------------------------


def test_the_import_command_dry_run_writes_nothing_then_imports(tmp_path, philippines, owner):
    path = sheet_with_balances(tmp_path)
    out = io.StringIO()
    call_command("import", str(path), "--dry-run", stdout=out)
    assert "3 to create" in out.getvalue() and "Dry run" in out.getvalue()
    assert not Customer.objects.exists()

    out = io.StringIO()
    call_command("import", str(path), stdout=out)
    assert "3 created" in out.getvalue() and "₱1,750.50" in out.getvalue()
    assert Customer.objects.count() == 3
    assert_ledger_sound()


def test_the_import_command_lists_row_errors_and_imports_nothing(tmp_path, philippines, owner):
    path = xlsx(tmp_path / "bad.xlsx", [["Name", "Phone"], ["Maria", "0917"], ["Jose", "0918"]])
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 rows have errors"):
        call_command("import", str(path), stdout=io.StringIO(), stderr=err)
    assert "Row 2: “0917” is not a phone number" in err.getvalue()
    assert not Customer.objects.exists()


def test_the_import_command_takes_a_mapping(tmp_path, philippines, owner):
    path = csv_file(tmp_path / "odd.csv", [["Who", "Nummer"], ["Maria", "09171234567"]])
    call_command("import", str(path), "--map", "name=Who", "--map", "phone=B", stdout=io.StringIO())
    assert Customer.objects.get().phone == "+639171234567"


# -- the back-office screens -------------------------------------------------------------


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def upload(client, path, **extra):
    with path.open("rb") as sheet:
        return client.post("/customers/import/new/", {"file": sheet, **extra})


def test_the_owner_uploads_previews_and_imports_a_sheet(client, tmp_path, philippines, owner):
    client.force_login(owner.user)
    response = upload(client, sheet_with_balances(tmp_path))
    assert response.status_code == 302
    preview_url = response["Location"]
    (waiting,) = (tmp_path / "data" / "imports").iterdir()
    assert b"Maria" not in waiting.read_bytes()  # sealed while it waits (docs/privacy.md)
    assert b"9171234567" not in waiting.read_bytes()

    preview = client.get(preview_url)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert 'data-count="create">3<' in page and "Opening balance ₱1,250.50." in page
    assert "Maria Santos" in page and "王芳" in page
    assert not Customer.objects.exists()

    form = preview.context["columns"]
    data = {f"column-{c['index']}": c["field"] for c in form}
    data["digest"] = preview.context["plan"].digest
    done = client.post(preview_url + "commit/", data)
    assert done.status_code == 302 and done["Location"] == "/customers/"
    assert Customer.objects.count() == 3
    assert wallet_balance(Customer.objects.get(name="Maria Santos")) == 125050
    assert client.get(preview_url).status_code == 404  # imported: the upload is gone
    assert_ledger_sound()


def test_the_preview_shows_row_errors_and_refuses_to_import(client, tmp_path, philippines, owner):
    client.force_login(owner.user)
    path = xlsx(tmp_path / "bad.xlsx", [["Name", "Phone", "Balance"], ["Maria", "0917", "-5"]])
    preview_url = upload(client, path)["Location"]
    page = client.get(preview_url + "?errors=1").content.decode()
    assert "is not a phone number" in page and "cannot be negative" in page
    assert "disabled" in page

    done = client.post(preview_url + "commit/", {"column-0": "name", "column-1": "phone"})
    assert done.status_code == 302 and "commit" not in done["Location"]
    assert not Customer.objects.exists()


def test_the_columns_can_be_chosen_in_the_preview(client, tmp_path, philippines, owner):
    client.force_login(owner.user)
    path = csv_file(tmp_path / "odd.csv", [["Who", "Number"], ["Maria", "09171234567"]])
    preview_url = upload(client, path)["Location"]
    assert "first row is taken as the header" in client.get(preview_url).content.decode()

    chosen = client.get(preview_url, {"column-0": "name", "column-1": "phone"})
    assert chosen.context["counts"][Action.CREATE] == 1
    twice = client.get(preview_url, {"column-0": "name", "column-1": "name"})
    assert "chosen for two columns" in twice.content.decode()


def test_an_unreadable_upload_is_refused_on_the_form(client, tmp_path, business, owner):
    client.force_login(owner.user)
    path = tmp_path / "customers.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0old excel")
    response = upload(client, path)
    assert response.status_code == 200
    assert "save the sheet as .xlsx or .csv" in response.content.decode()


def test_an_upload_of_another_session_is_not_found(client, tmp_path, business, owner):
    client.force_login(owner.user)
    path = csv_file(tmp_path / "a.csv", [["Name", "Phone"], ["Maria", "2125550123"]])
    preview_url = upload(client, path)["Location"]
    client.logout()
    client.force_login(owner.user)  # a new session
    assert client.get(preview_url).status_code == 404
    assert client.get("/customers/import/not-a-token/").status_code == 404


@pytest.mark.parametrize("persona", ["cashier_a", "accountant"])
def test_cashiers_and_accountants_may_not_import(client, tmp_path, business, request, persona):
    staff = request.getfixturevalue(persona)
    client.force_login(staff.user)
    path = csv_file(tmp_path / "a.csv", [["Name"], ["Maria"]])
    assert client.get("/customers/import/new/").status_code == 403
    assert upload(client, path).status_code == 403
    assert client.post("/customers/import/abc/commit/", {}).status_code == 403
    assert not Customer.objects.exists()


def test_the_import_needs_a_login(client, business):
    response = client.get("/customers/import/new/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_import_tells_the_outbox_of_every_customer_it_registers_or_changes(
    tmp_path, philippines, importer
):
    """Through the operation that the back office and the command run: each new customer
    gets a customer.created event with its opening balance, in the import's transaction."""
    from prepaid.operations import imports
    from prepaid.operations.models import Event

    path = sheet_with_balances(tmp_path)
    sheet = read(path)
    imports.commit(sheet, importing.detect(sheet.headers), actor=importer)

    opened = [
        json.loads(open_record(e.data)) for e in Event.objects.filter(type="customer.created")
    ]
    created = {data["name"]: data for data in opened}
    assert set(created) == {"Maria Santos", "王芳", "Jose Cruz"}
    assert (created["Maria Santos"]["balance"], created["Jose Cruz"]["balance"]) == (
        "1250.50",
        "0.00",
    )
    assert created["王芳"]["currency"] == "PHP" and created["王芳"]["created_at"]
    maria = Customer.objects.get(name="Maria Santos")
    assert Event.objects.get(type="customer.created", customer=maria)

    changed = xlsx(
        tmp_path / "again.xlsx",
        [HEADER, ["Maria Santos", 9171234567, None, None, "now likes purified"]],
    )
    again = read(changed)
    imports.commit(again, importing.detect(again.headers), actor=importer)
    updated = Event.objects.get(type="customer.updated")
    assert updated.customer == maria
    assert json.loads(open_record(updated.data))["notes"] == "now likes purified"


def test_only_who_may_import_imports(tmp_path, philippines, store_a, cashier_a):
    from prepaid.operations import imports
    from prepaid.staff.refusals import Refusal

    sheet = read(sheet_with_balances(tmp_path))
    with pytest.raises(Refusal, match="role"):
        imports.commit(sheet, importing.detect(sheet.headers), actor=make_actor(store_a, cashier_a))
    assert not Customer.objects.exists()
