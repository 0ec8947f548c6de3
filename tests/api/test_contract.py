"""Every endpoint and error code of ../shared/API.md, answered as documented."""

from __future__ import annotations

from decimal import Decimal
from unittest.mock import ANY

import pytest
from django.db import OperationalError, connection

from prepaid.catalog import services as catalog
from prepaid.catalog.models import PriceChange, Product
from prepaid.customers.models import Card, Customer
from prepaid.ledger.models import Batch, Transfer
from prepaid.ledger.verify import verify
from prepaid.staff.models import ApiToken, AuditEvent
from prepaid.staff.tokens import revoke
from tests.api.conftest import register

pytestmark = pytest.mark.django_db


def top_up(api, code, amount="100.00", key="t", **extra):
    body = {"amount": amount, "method": "cash", **extra}
    return api.cashier.post(f"/customers/{code}/top-ups", body, key=key)


def sale(api, code, product, quantity="5", key="s", caller=None):
    body = {"lines": [{"product": str(product), "quantity": quantity}]}
    return (caller or api.cashier).post(f"/customers/{code}/sales", body, key=key)


def test_health_needs_no_token(api):
    response = api.anonymous.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_openapi_document_and_docs_page_are_served(api):
    document = api.anonymous.get("/openapi.json").json()
    assert document["info"]["title"] == "prepaid API"
    sale_body = document["components"]["schemas"]["SaleIn"]
    assert "lines" in sale_body["properties"]
    docs = api.anonymous.client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_no_token_or_a_revoked_one_is_401_in_the_documented_shape(api):
    assert api.anonymous.get("/customers").status_code == 401
    revoke(api.cashier.token)
    response = api.cashier.get("/customers")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert set(response.json()["error"]) >= {"code", "message", "fields"}


def test_a_token_records_when_it_was_last_used(api):
    assert api.accountant.token.last_used_at is None
    api.accountant.get("/products")
    assert ApiToken.objects.get(pk=api.accountant.token.pk).last_used_at is not None


def test_register_normalises_the_phone_and_refuses_duplicates(api):
    maria = register(api, phone="0917 123 4567", email="Maria@Example.com")
    assert maria["phone"] == "+639171234567"
    assert maria["email"] == "maria@example.com"
    assert maria["currency"] == "PHP" and maria["balance"] == "0.00"

    twin = api.cashier.post("/customers", {"name": "Other", "phone": "+63 917 123 4567"})
    assert twin.status_code == 409
    assert twin.json()["error"]["code"] == "duplicate_customer"
    assert twin.json()["error"]["existing"] == maria["code"]
    assert Customer.objects.count() == 1


def test_bad_input_is_a_validation_error_never_a_500(api):
    for body in ({}, {"name": 5}, {"name": "A", "credit_limit": "abc"}, {"name": "x" * 200}):
        response = api.owner.post("/customers", body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
        assert response.json()["error"]["fields"]
    not_json = api.owner.client.post(
        "/api/v1/customers",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.owner.key}"},
    )
    assert not_json.status_code in (400, 422)
    assert "error" in not_json.json()


def test_errors_speak_the_requests_language(api):
    response = api.cashier.get("/customers/ZZZZ-ZZZZ", language="nl")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Geen klant gevonden."


def test_search_by_name_phone_digits_email_and_code(api):
    maria = register(api, "María Santos", phone="0917 123 4567", email="maria@example.com")
    register(api, "Jose Rizal", phone="0918 765 4321")
    for query in ("maria", "4567", "maria@example.com", maria["code"]):
        found = api.accountant.get("/customers", q=query).json()
        assert [c["code"] for c in found["results"]] == [maria["code"]], query
        assert found["next"] is None


def test_the_list_pages_with_a_cursor(api):
    codes = [register(api, f"Customer {n}")["code"] for n in range(5)]
    first = api.accountant.get("/customers", limit=2).json()
    second = api.accountant.get("/customers", limit=2, cursor=first["next"]).json()
    third = api.accountant.get("/customers", limit=2, cursor=second["next"]).json()
    seen = [c["code"] for page in (first, second, third) for c in page["results"]]
    assert seen == codes and third["next"] is None
    assert api.accountant.get("/customers", limit=501).status_code == 422
    assert api.accountant.get("/customers", cursor="x").status_code == 422


def test_patch_changes_contact_data_and_credit_needs_a_manager(api):
    code = register(api)["code"]
    changed = api.cashier.patch(f"/customers/{code}", {"email": "m@example.com"})
    assert changed.status_code == 200 and changed.json()["email"] == "m@example.com"
    assert api.cashier.patch(f"/customers/{code}", {"credit_limit": "20.00"}).status_code == 403
    # the owner's: a manager's raise waits for approval (tests/api/test_approvals.py)
    credit = api.owner.patch(f"/customers/{code}", {"credit_limit": "20.00"})
    assert credit.json()["credit_limit"] == "20.00"
    assert credit.json()["available"] == "20.00"


def test_cards_are_issued_and_replaced_and_lookup_resolves_them(api):
    code = register(api)["code"]
    first = api.cashier.post(f"/customers/{code}/cards", {})
    assert first.status_code == 201
    card = first.json()
    assert card["url"].endswith("/c/" + card["token"])
    assert api.cashier.get("/lookup", scan=card["url"]).json()["code"] == code
    assert api.anonymous.client.get(card["qr_svg_url"]).status_code == 200

    replaced = api.cashier.post(f"/customers/{code}/cards", {"replace": True}).json()
    assert api.cashier.get("/lookup", scan=card["url"]).status_code == 404
    assert api.cashier.get("/lookup", scan=replaced["token"]).json()["code"] == code
    assert Card.objects.filter(customer__code=code, revoked_at__isnull=True).count() == 1


def test_top_up_with_a_plan_and_rules_and_a_reference(api):
    plan = catalog.save_plan(None, name="100 → +10", amount_minor=10000, bonus_minor=1000, by=None)
    gcash = catalog.save_payment_method(None, name="GCash", requires_reference=True, by=None)
    code = register(api)["code"]

    planned = top_up(api, code, plan=plan.pk, key="p1")
    assert planned.status_code == 201, planned.content
    body = planned.json()
    assert (body["kind"], body["total"], body["bonus_amount"]) == ("top_up", "100.00", "10.00")
    assert (body["balance"], body["bonus_balance"]) == ("100.00", "10.00")

    wrong_plan = top_up(api, code, amount="50.00", plan=plan.pk, key="p2")
    assert wrong_plan.status_code == 422
    no_reference = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "5.00", "method": gcash.code}, key="g1"
    )
    assert no_reference.status_code == 422
    assert list(no_reference.json()["error"]["fields"]) == ["reference"]
    with_reference = api.cashier.post(
        f"/customers/{code}/top-ups",
        {"amount": "5.00", "method": gcash.code, "reference": "GC-1"},
        key="g1",  # the refused request was not stored: the key may be used again
    )
    assert with_reference.status_code == 201
    assert with_reference.json()["reference"] == "GC-1"
    for amount in ("0", "-5", "1.005", "abc"):
        assert top_up(api, code, amount=amount, key=f"bad-{amount}").status_code == 422
    assert top_up(api, code, key="m", method="bitcoin").status_code == 422
    assert verify() == []


def test_a_sale_answers_the_lines_and_the_new_balances(api, water):
    code = register(api)["code"]
    top_up(api, code, "10.00")
    response = sale(api, code, water.pk, "2.5")
    assert response.status_code == 201
    body = response.json()
    assert body["total"] == "0.63"  # 2.5 × 0.25 = 0.625, half-up
    assert body["lines"] == [
        {
            "product": water.pk,
            "name": "Purified water",
            "unit": "gallon",
            "quantity": "2.500",
            "unit_price": "0.2500",
            "amount": "0.63",
            "discount": "0.00",
            "tier_discount": "0.00",
        }
    ]
    assert body["balance"] == "9.37" and body["currency"] == "PHP"


def test_a_sale_by_sku_and_unknown_products_and_quantities(api):
    Product.objects.create(name="Alkaline", sku="ALK", unit="gallon", unit_price=Decimal("0.5"))
    code = register(api)["code"]
    top_up(api, code)
    assert sale(api, code, "ALK", key="a").status_code == 201
    assert sale(api, code, "NOPE", key="b").status_code == 422
    for quantity in ("0", "-1", "1.0001", "x"):
        assert sale(api, code, "ALK", quantity, key=f"q{quantity}").status_code == 422


def test_insufficient_funds_is_409_with_what_is_available_and_nothing_posted(api, water):
    code = register(api)["code"]
    top_up(api, code, "1.00")
    response = sale(api, code, water.pk, "5")
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["available"], error["shortfall"]) == (
        "insufficient_funds",
        "1.00",
        "0.25",
    )
    assert error["message"] == "The balance does not cover this: ₱0.25 short. Nothing was charged."
    assert Batch.objects.filter(code=Batch.Code.SALE).count() == 0


def test_refund_needs_a_reason_and_forfeits_the_bonus(api):
    plan = catalog.save_plan(None, name="P", amount_minor=10000, bonus_minor=1000, by=None)
    code = register(api)["code"]
    top_up(api, code, plan=plan.pk)
    body = {"amount": "100.00", "method": "cash", "reason": ""}
    assert api.manager.post(f"/customers/{code}/refunds", body, key="r").status_code == 422
    body["reason"] = "Moving away"
    assert api.cashier.post(f"/customers/{code}/refunds", body, key="r").status_code == 403
    response = api.manager.post(f"/customers/{code}/refunds", body, key="r")
    assert response.status_code == 201
    assert (response.json()["balance"], response.json()["bonus_balance"]) == ("0.00", "0.00")
    assert response.json()["note"] == "Moving away"
    too_much = api.manager.post(f"/customers/{code}/refunds", body, key="r2")
    assert too_much.status_code == 409


def test_reversal_once_with_a_reason_and_cashiers_only_their_own(api, water):
    code = register(api)["code"]
    top_up(api, code, "10.00")
    sold = sale(api, code, water.pk).json()
    other = api.as_role("cashier", "second cashier")

    refused = other.post(f"/transactions/{sold['id']}/reversal", {"reason": "x"}, key="o")
    assert refused.status_code == 403
    first = api.cashier.post(f"/transactions/{sold['id']}/reversal", {"reason": "Oops"}, key="v1")
    assert first.status_code == 201
    assert first.json()["reverses"] == sold["id"] and first.json()["balance"] == "10.00"
    second = api.manager.post(f"/transactions/{sold['id']}/reversal", {"reason": "x"}, key="v2")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "already_reversed"
    shown = api.accountant.get(f"/transactions/{sold['id']}").json()
    assert shown["reversed_by"] == first.json()["id"]
    assert AuditEvent.objects.filter(action="transaction.reversed").count() == 1
    assert (
        api.manager.post("/transactions/999999/reversal", {"reason": "x"}, key="v3").status_code
        == 404
    )


def test_a_sale_moves_to_the_right_customer_once_both_or_neither(api, water):
    maria = register(api)["code"]
    jose = register(api, "Jose Cruz")["code"]
    top_up(api, maria, "10.00")
    sold = sale(api, maria, water.pk, "4").json()  # 1.00
    poor = api.cashier.post(
        f"/transactions/{sold['id']}/move", {"customer": jose, "reason": "Her neighbour"}, key="m0"
    )
    assert poor.status_code == 409 and poor.json()["error"]["code"] == "insufficient_funds"
    assert Batch.objects.filter(reverses_id=sold["id"]).count() == 0  # neither

    top_up(api, jose, "5.00", key="t2")
    body = {"customer": jose.lower(), "reason": "Her neighbour"}
    keyless = api.cashier.post(f"/transactions/{sold['id']}/move", body)
    assert keyless.status_code == 400  # money moves: the key is required
    moved = api.cashier.post(f"/transactions/{sold['id']}/move", body, key="m1")
    assert moved.status_code == 201, moved.content
    assert moved.json()["kind"] == "sale" and moved.json()["balance"] == "4.00"
    assert moved.json()["lines"][0]["quantity"] == "4.000"
    again = api.cashier.post(f"/transactions/{sold['id']}/move", body, key="m1")
    assert again.json()["id"] == moved.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert api.accountant.get(f"/customers/{maria}").json()["balance"] == "10.00"
    assert api.accountant.get(f"/customers/{jose}").json()["balance"] == "4.00"

    same = api.manager.post(
        f"/transactions/{moved.json()['id']}/move", {"customer": jose, "reason": "x"}, key="m2"
    )
    assert same.status_code == 422 and same.json()["error"]["code"] == "same_customer"
    twice = api.manager.post(
        f"/transactions/{sold['id']}/move", {"customer": jose, "reason": "x"}, key="m3"
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_reversed"
    assert verify() == []


def test_a_spent_top_up_cannot_be_reversed(api, water):
    code = register(api)["code"]
    added = top_up(api, code, "10.00").json()
    sale(api, code, water.pk)
    response = api.manager.post(f"/transactions/{added['id']}/reversal", {"reason": "x"}, key="v")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "top_up_spent"


def test_history_is_newest_first_with_balances_after_and_pages(api, water):
    code = register(api)["code"]
    top_up(api, code, "10.00")
    for number in range(3):
        sale(api, code, water.pk, "4", key=f"s{number}")  # 1.00 each
    first = api.accountant.get(f"/customers/{code}/transactions", limit=2).json()
    rest = api.accountant.get(
        f"/customers/{code}/transactions", limit=2, cursor=first["next"]
    ).json()
    rows = first["results"] + rest["results"]
    assert [row["kind"] for row in rows] == ["sale", "sale", "sale", "top_up"]
    assert [row["balance_after"] for row in rows] == ["7.00", "8.00", "9.00", "10.00"]
    assert rest["next"] is None


def test_products_price_changes_apply_to_later_sales(api, water):
    listed = api.cashier.get("/products").json()
    assert listed[0]["unit_price"] == "0.2500"
    assert api.cashier.patch(f"/products/{water.pk}", {"unit_price": "0.3"}).status_code == 403
    created = api.manager.post(
        "/products",
        {"name": "Alkaline", "unit": "gallon", "unit_price": "0.3490", "colour": "#1e88e5"},
    )
    assert created.status_code == 201 and created.json()["unit_price"] == "0.3490"
    changed = api.manager.patch(f"/products/{water.pk}", {"unit_price": "0.30"})
    assert changed.json()["unit_price"] == "0.3000"
    assert PriceChange.objects.filter(product=water).count() == 1  # made before the API
    bad = api.manager.post("/products", {"name": "X", "unit": "l", "unit_price": "0.12345"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {
        "unit_price": "Enter a number such as 12.50: digits and at most one decimal point."
    }


def test_payment_methods_and_plans_are_listed(api):
    methods = api.accountant.get("/payment-methods").json()
    assert [m["code"] for m in methods] == ["cash", "card", "mobile"]
    catalog.save_plan(None, name="P", amount_minor=10000, bonus_minor=1000, by=None)
    plans = api.accountant.get("/top-up-plans").json()
    assert plans[0]["amount"] == "100.00" and plans[0]["bonus"] == "10.00"


def test_every_posting_carries_the_token_and_store(api, water):
    code = register(api)["code"]
    top_up(api, code, "10.00")
    sale(api, code, water.pk)
    assert set(Transfer.objects.values_list("api_token", flat=True)) == {api.cashier.token.pk}
    assert set(Transfer.objects.values_list("store", flat=True)) == {api.store.pk}
    assert verify() == []


def test_a_fresh_sale_is_answered_as_it_reads_back(api, water):
    """The sale's answer is built from the posting, not read back: it must say the same."""
    plan = catalog.save_plan(None, name="P", amount_minor=1000, bonus_minor=100, by=None)
    code = register(api)["code"]
    top_up(api, code, "10.00", plan=plan.pk)
    answer = sale(api, code, water.pk, "3").json()
    read_back = api.accountant.get(f"/transactions/{answer['id']}").json()
    for field in ("balance", "bonus_balance", "balance_after", "bonus_balance_after"):
        answer.pop(field), read_back.pop(field)
    assert answer == read_back
    assert answer["bonus_amount"] != "0.00"  # proportional spending touched both accounts


def test_a_busy_or_lost_database_is_503_with_retry_after(api, monkeypatch):
    from django.db import InterfaceError, OperationalError

    from prepaid.customers import lookup

    for error in (OperationalError("database is locked"), InterfaceError("connection closed")):

        def failing(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(lookup, "search", failing)
        response = api.accountant.get("/customers", q="maria")
        assert response.status_code == 503
        assert response["Retry-After"] == "2"
        assert response.json()["error"]["code"] == "service_unavailable"


def _connection_refused(execute, sql, params, many, context):
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def test_a_database_that_does_not_answer_at_all_is_the_apis_503(api):
    # The first query (the shop's settings, read before any endpoint runs) fails too.
    api.cashier.client.raise_request_exception = False
    with connection.execute_wrapper(_connection_refused):
        response = api.cashier.get("/customers")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["error"]["code"] == "service_unavailable"


@pytest.mark.parametrize("reference", ["²", "٣", "1" * 5000], ids=["super-2", "arabic-3", "long"])
def test_a_product_reference_that_only_looks_like_a_number_is_a_422(api, water, reference):
    code = register(api)["code"]
    paid = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "10.00", "method": "cash"}, key="t"
    )
    assert paid.status_code == 201
    body = {"lines": [{"product": reference, "quantity": "1"}]}
    response = api.cashier.post(f"/customers/{code}/sales", body, key="s")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["fields"] == {"lines.0.product": ANY}


def test_an_idempotency_key_with_control_characters_is_a_400(api, water):
    code = register(api)["code"]
    for bad in ("a\x00b", "line\nbreak", "tab\there"):
        response = api.cashier.post(
            f"/customers/{code}/top-ups", {"amount": "1", "method": "cash"}, key=bad
        )
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "validation_error"
    assert not Batch.objects.exists()


def test_an_address_the_api_does_not_have_is_a_json_404(api):
    response = api.cashier.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    for path in ("/api/v1/customers//sales", "/api/v2/customers"):
        answer = api.cashier.client.get(path)
        assert answer.status_code == 404
        assert answer["Content-Type"] == "application/json"


def test_the_messages_preferences_are_read_and_written_by_the_api(api):
    made = api.cashier.post(
        "/customers",
        {"name": "Li Wei", "email": "li@example.com", "language": "zh-hans",
         "email_receipts": False, "low_balance": "50.00"},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    assert (made.json()["language"], made.json()["email_receipts"]) == ("zh-hans", False)
    assert made.json()["low_balance"] == "50.00"
    code = made.json()["code"]
    person = Customer.objects.get(code=code)
    assert (person.language, person.email_receipts, person.low_balance_minor) == (
        "zh-hans",
        False,
        5000,
    )

    back = api.cashier.patch(f"/customers/{code}", {"low_balance": "", "language": ""})
    assert back.status_code == 200
    assert (back.json()["low_balance"], back.json()["language"]) == (None, "")
    assert back.json()["email_receipts"] is False  # not sent: left as it was

    for wrong in ({"language": "fr"}, {"low_balance": "-1"}, {"low_balance": "1.005"}):
        refused = api.cashier.patch(f"/customers/{code}", wrong)
        assert refused.status_code == 422, wrong
    assert Customer.objects.get(code=code).language == ""
