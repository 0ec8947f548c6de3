"""Coupons through the API, as an integrator uses them: an owner issues a series, a
cashier's till sells with one, a second use is refused with its reason and posts
nothing, the transaction reads back with its discount; listing, one coupon, withdrawal;
who may issue."""

from __future__ import annotations

import pytest

from prepaid.coupons.models import Coupon, CouponUse
from prepaid.ledger.models import Batch, Transfer
from prepaid.staff.models import AuditEvent
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(api):
    code = register(api)["code"]
    answer = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "100.00", "method": "cash"}, key="fund"
    )
    assert answer.status_code == 201
    return code


def issue(api, **body):
    answer = api.owner.post("/coupons", {"kind": "amount", "value": "1.00", **body})
    assert answer.status_code == 201, answer.content
    return answer.json()


def sell(api, customer, water, key, coupon="", quantity="10"):
    body = {"lines": [{"product": water.pk, "quantity": quantity}], "coupon": coupon}
    return api.cashier.post(f"/customers/{customer}/sales", body, key=key)


def test_a_series_is_issued_and_a_sale_takes_one_code_once(api, water, maria):
    issued = issue(api, count=3, series="Flyer", valid_until="2099-12-31")
    assert len(issued["codes"]) == 3 and issued["series"] == "Flyer"
    code = issued["codes"][0]

    sold = sell(api, maria, water, "s1", coupon=code.lower().replace("-", " "))
    assert sold.status_code == 201, sold.content
    body = sold.json()
    assert (body["total"], body["discount"], body["coupon"]) == ("1.50", "1.00", code)
    assert body["lines"][0]["amount"] == "1.50" and body["lines"][0]["discount"] == "1.00"
    assert body["balance"] == "98.50"
    assert api.accountant.get(f"/transactions/{body['id']}").json()["coupon"] == code

    replay = sell(api, maria, water, "s1", coupon=code.lower().replace("-", " "))
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == body

    counts = (Batch.objects.count(), Transfer.objects.count())
    again = sell(api, maria, water, "s2", coupon=code)
    assert again.status_code == 409
    error = again.json()["error"]
    assert (error["code"], error["reason"], error["coupon"]) == ("coupon_not_valid", "used", code)
    assert error["fields"] == {"coupon": f"Coupon {code} has already been used."}
    assert (Batch.objects.count(), Transfer.objects.count()) == counts
    assert CouponUse.objects.count() == 1
    assert_ledger_sound()


def test_each_kind_reads_its_value(api, water, maria):
    percent = issue(api, kind="percent", value=20)["codes"][0]
    free = issue(api, kind="product", value=1, product=water.pk)["codes"][0]
    assert sell(api, maria, water, "p", coupon=percent).json()["discount"] == "0.50"
    assert sell(api, maria, water, "f", coupon=free).json()["discount"] == "0.25"
    listed = {item["code"]: item for item in api.owner.get("/coupons").json()["results"]}
    assert listed[percent]["value"] == 20 and listed[percent]["used"] == 1
    assert listed[free]["product"] == water.pk and listed[free]["kind"] == "product"
    assert_ledger_sound()


def test_terms_that_cannot_be_are_refused_by_field(api, water):
    for body, field in [
        ({"kind": "percent", "value": 0}, "value"),
        ({"kind": "percent", "value": "ten"}, "value"),
        ({"kind": "amount", "value": "1.001"}, "value"),
        ({"kind": "product", "value": 1}, "product"),
        ({"kind": "gift", "value": 1}, "kind"),
        ({"kind": "amount", "value": "1", "valid_until": "2001-01-01"}, "valid_until"),
        ({"kind": "amount", "value": "1", "count": 1001}, "count"),
    ]:
        answer = api.owner.post("/coupons", body)
        assert answer.status_code == 422, (body, answer.content)
        assert field in answer.json()["error"]["fields"], (body, answer.json())
    assert not Coupon.objects.exists()


def test_only_owners_and_managers_issue_list_and_withdraw(api):
    assert api.cashier.post("/coupons", {"kind": "percent", "value": 5}).status_code == 403
    assert api.accountant.get("/coupons").status_code == 403
    code = issue(api)["codes"][0]
    assert api.manager.get(f"/coupons/{code}").json()["used"] == 0
    cashier = {"Authorization": f"Bearer {api.cashier.key}"}
    assert api.cashier.client.delete(f"/api/v1/coupons/{code}", headers=cashier).status_code == 403
    manager = {"Authorization": f"Bearer {api.manager.key}"}
    withdrawn = api.manager.client.delete(f"/api/v1/coupons/{code}", headers=manager)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn"] is True
    assert AuditEvent.objects.filter(action="coupon.withdrawn", subject=f"coupon:{code}").exists()


def test_the_list_filters_by_series_and_state(api, water, maria):
    first = issue(api, series="A", count=2)["codes"]
    issue(api, series="B")
    sell(api, maria, water, "u", coupon=first[0])
    page = api.owner.get("/coupons", series="A", state="used").json()
    assert [item["code"] for item in page["results"]] == [first[0]]
    unused = api.owner.get("/coupons", series="A", state="unused").json()["results"]
    assert [item["code"] for item in unused] == [first[1]]
    paged = api.owner.get("/coupons", limit=2).json()
    assert len(paged["results"]) == 2 and paged["next"]
    rest = api.owner.get("/coupons", limit=2, cursor=paged["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    assert api.owner.get("/coupons", state="odd").status_code == 422
