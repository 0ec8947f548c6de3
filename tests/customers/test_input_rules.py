"""A customer's details follow one set of rules whichever way they come in (#12): the
API checks an e-mail address as the back office's form does, a name needs a character
that shows, a birthday is a day from 1900 to today."""

from __future__ import annotations

import datetime as dt

import pytest

from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.sales import importing
from prepaid.staff.refusals import Refusal
from tests.api.conftest import register
from tests.customers.sheets import xlsx

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"name": "\u200b \u200b"}, "name_required", "name"),  # zero-width spaces only
        ({"name": "\u202e\u2066"}, "name_required", "name"),  # direction marks only
        ({"name": "Maria", "email": "not-an-email"}, "email_not_valid", "email"),
        ({"name": "Maria", "email": "maria@@example.com"}, "email_not_valid", "email"),
    ],
)
def test_the_api_refuses_what_the_forms_refuse(api, fields, code, field):
    refused = api.cashier.post("/customers", fields)
    assert refused.status_code == 422, refused.content
    error = refused.json()["error"]
    assert (error["code"], list(error["fields"])) == (code, [field])
    assert not Customer.objects.exists()


def test_an_edit_is_held_to_the_same_rules(api):
    code = register(api, email="maria@example.com")["code"]
    refused = api.cashier.patch(f"/customers/{code}", {"email": "maria at example"})
    assert refused.json()["error"]["code"] == "email_not_valid"
    assert Customer.objects.get().email == "maria@example.com"


@pytest.mark.parametrize("day", [dt.date(1850, 1, 1), dt.date.today() + dt.timedelta(days=1)])
def test_a_birthday_is_a_day_from_1900_to_today(business, day):
    with pytest.raises(Refusal) as refused:
        customers.register(customers.Profile(name="Maria", birthday=day), by=None)
    assert (refused.value.code, refused.value.field) == ("birthday_not_valid", "birthday")
    assert not Customer.objects.exists()
    kept = customers.register(customers.Profile(name="Maria", birthday=dt.date.today()), by=None)
    assert kept.birthday == dt.date.today()


def test_an_imported_name_with_nothing_visible_is_a_missing_name(tmp_path, business):
    path = xlsx(tmp_path / "names.xlsx", [["Name", "Mobile"], ["\u200b\u200b", "09171234567"]])
    sheet = importing.read_path(path, region="PH")
    planned = importing.plan(sheet, importing.detect(sheet.headers))
    assert "The name is missing" in " ".join(planned.error_rows[0].errors)
