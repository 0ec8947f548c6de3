"""The Coupons page: a manager issues a series, filters the list, downloads the series
as CSV, prints it as a sheet of QR codes (each holding its code) and withdraws a
coupon; cashiers and accountants are refused; the navigation links to it."""

from __future__ import annotations

import csv
import io

import pytest
import segno
from django.test import Client

from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon
from prepaid.staff.models import AuditEvent

pytestmark = pytest.mark.django_db


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def test_a_minimum_spend_with_too_many_decimals_is_that_fields_error(manager):
    page = signed_in(manager)
    refused = page.post(
        "/shop/coupons/",
        {"kind": "amount", "value": "5", "count": "1", "uses": "1", "min_spend": "5.005"},
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "min_spend": ["Enter an amount with at most the currency's decimals."]
    }
    assert not Coupon.objects.exists()


def test_a_manager_issues_prints_exports_and_withdraws_a_series(manager):
    page = signed_in(manager)
    assert 'href="/shop/coupons/"' in page.get("/").content.decode()
    issued = page.post(
        "/shop/coupons/",
        {"kind": "percent", "value": "10", "count": "3", "uses": "1", "series": "Flyer March",
         "valid_until": "2099-03-31", "min_spend": "5"},
    )  # fmt: skip
    assert issued.status_code == 302, issued.content.decode()
    made = list(Coupon.objects.filter(series="Flyer March").order_by("id"))
    assert len(made) == 3 and {c.value for c in made} == {10}
    assert made[0].min_spend_minor == 500 and made[0].created_by == manager

    listed = page.get(issued["Location"]).content.decode()
    assert all(coupon.code in listed for coupon in made)
    assert "10% off" in listed and "Print this series" in listed

    exported = page.get("/shop/coupons/coupons.csv", {"series": "Flyer March"})
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0][0] == "code" and sorted(row[0] for row in rows[1:]) == sorted(
        coupon.code for coupon in made
    )
    assert AuditEvent.objects.filter(action="coupons.exported").exists()

    sheet = page.get("/shop/coupons/print/", {"series": "Flyer March"}).content.decode()
    assert sheet.count("<svg") == 3 and made[0].code in sheet

    withdrawn = page.post(f"/shop/coupons/{made[0].pk}/withdraw/")
    assert withdrawn.status_code == 302
    made[0].refresh_from_db()
    assert made[0].withdrawn_at is not None
    only = page.get("/shop/coupons/", {"state": "withdrawn"}).content.decode()
    assert made[0].code in only and made[1].code not in only
    unused = page.get("/shop/coupons/", {"state": "unused"}).content.decode()
    assert made[0].code not in unused and made[1].code in unused


def test_a_printed_coupons_qr_holds_its_code_and_nothing_else(owner):
    (coupon,) = coupons.issue(coupons.Terms(Coupon.Kind.AMOUNT, 200), series="S", by=None)
    sheet = signed_in(owner).get("/shop/coupons/print/", {"code": coupon.code}).content.decode()
    qr = segno.make(coupon.code, error="m", micro=False).svg_inline(scale=3, border=2)
    assert qr in sheet and "$2.00 off" in sheet


def test_wrong_terms_are_shown_on_the_form(owner):
    page = signed_in(owner)
    answer = page.post("/shop/coupons/", {"kind": "percent", "value": "150", "count": "1"})
    assert answer.status_code == 200
    assert "A percentage is a whole number from 1 to 100." in answer.content.decode()
    answer = page.post("/shop/coupons/", {"kind": "product", "value": "1", "count": "1"})
    assert "Choose the product given free." in answer.content.decode()
    assert not Coupon.objects.exists()


@pytest.mark.parametrize("persona", ["cashier_a", "accountant"])
def test_cashiers_and_accountants_are_refused(request, persona):
    page = signed_in(request.getfixturevalue(persona))
    assert page.get("/shop/coupons/").status_code == 403
    assert 'href="/shop/coupons/"' not in page.get("/customers/").content.decode()
