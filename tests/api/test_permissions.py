"""Role × endpoint × method: every cell of the permission table, tried for real.

The endpoints and their actions come from the served OpenAPI document (``x-permission``),
the allowed roles from ``prepaid.api.permissions.ACTIONS``: a new endpoint without a
declared action, or a view that checks another action than it declares, fails here.
"""

from __future__ import annotations

import itertools

import pytest

from prepaid.programs.models import Package
from prepaid.programs.services import create_package
from prepaid.staff.models import Role
from prepaid.staff.roles import PERMISSIONS as ACTIONS
from tests.api.conftest import register

pytestmark = pytest.mark.django_db
_keys = itertools.count()


def operations(api):
    document = api.anonymous.get("/openapi.json").json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def sample(api, caller, path, method, customer, product):
    """A valid request for the operation, made with ``caller``'s token."""
    sale = {"lines": [{"product": str(product.pk), "quantity": "1"}]}
    bodies = {
        ("post", "/api/v1/customers"): {"name": f"New {next(_keys)}"},
        ("patch", "/api/v1/customers/{code}"): {"notes": "x"},
        ("post", "/api/v1/customers/{code}/cards"): {},
        ("post", "/api/v1/customers/{code}/erasure"): {"reason": "asked"},
        ("post", "/api/v1/customers/{code}/top-ups"): {"amount": "1.00", "method": "cash"},
        ("post", "/api/v1/customers/{code}/sales"): sale,
        ("post", "/api/v1/customers/{code}/refunds"): {
            "amount": "0.01",
            "method": "cash",
            "reason": "r",
        },
        ("post", "/api/v1/transactions/{transaction_id}/reversal"): {"reason": "r"},
        ("post", "/api/v1/transactions/{transaction_id}/move"): {
            "customer": register(api, f"Other {next(_keys)}")["code"],
            "reason": "r",
        }
        if path.endswith("/move")
        else {},
        ("post", "/api/v1/products"): {"name": "P", "unit": "l", "unit_price": "1"},
        ("patch", "/api/v1/products/{product_id}"): {"position": 1},
        ("post", "/api/v1/webhooks"): {
            "url": "https://93.184.215.14/hook",
            "events": ["sale.created"],
        },
        ("post", "/api/v1/packages"): {
            "name": "P",
            "product": product.pk,
            "count": 2,
            "price": "1",
        },
        ("post", "/api/v1/customers/{code}/packages"): {
            "package": Package.objects.order_by("pk").values_list("pk", flat=True).first(),
            "method": "cash",
        },
        ("post", "/api/v1/customers/{code}/redemptions"): {"product": product.pk, "quantity": 1},
        ("post", "/api/v1/customers/{code}/points/redemptions"): {"points": 1},
        ("post", "/api/v1/punch-cards/{card_id}/refund"): {"method": "cash", "reason": "r"},
        ("post", "/api/v1/coupons"): {"kind": "percent", "value": 10},
        ("post", "/api/v1/approvals/{approval_id}/approve"): {"note": "ok"},
        ("post", "/api/v1/approvals/{approval_id}/reject"): {"reason": "r"},
        ("post", "/api/v1/approvals/{approval_id}/withdraw"): {},
    }
    # A transaction of the caller's own where one is needed, so "own" never hides a 403.
    own = api.owner
    if caller.token and caller.token.role != Role.ACCOUNTANT:
        own = caller
    made = own.post(f"/customers/{customer}/sales", sale, key=f"own-{next(_keys)}").json()
    url = (
        path.replace("{code}", customer)
        .replace("{product_id}", str(product.pk))
        .replace("{transaction_id}", str(made["id"]))
        .replace("{card_id}", "1")  # none: the role is checked before the card is looked for
        .replace("{approval_id}", "999999")  # none either: a 404 for those who may
        .removeprefix("/api/v1")
    )
    params = {
        "/lookup": {"scan": customer},
        "/reports/daily": {"date": "2026-03-01"},
        "/reports/statement": {"from": "2026-03-01", "to": "2026-03-31"},
        "/reports/liability": {"from": "2026-03-01", "to": "2026-03-03"},
    }.get(url, {})
    if method == "get":
        return caller.get(url, **params)
    if method == "patch":
        return caller.patch(url, bodies[(method, path)])
    if method == "delete":  # no body: the token alone
        return caller.client.delete(f"/api/v1{url}", headers=caller._headers(None, None))
    return caller.post(url, bodies[(method, path)], key=f"m-{next(_keys)}")


def test_every_endpoint_declares_an_action_from_the_table(api):
    for path, method, operation in operations(api):
        if path == "/api/v1/health":
            assert operation.get("security") in (None, [], [{}]) or "x-permission" not in operation
            continue
        action = operation.get("x-permission")
        assert action in ACTIONS, (method, path)
        assert operation["x-roles"] == sorted(ACTIONS[action])


def test_every_role_on_every_endpoint_is_allowed_or_refused_by_the_table(api, water):
    customer = register(api)["code"]
    create_package(name="10 refills", product=water, count=10, price_minor=100, by=None)
    api.owner.post(
        f"/customers/{customer}/top-ups", {"amount": "1000.00", "method": "cash"}, key="funds"
    )
    unexpected = []
    cells = 0
    for path, method, operation in operations(api):
        action = operation.get("x-permission")
        if action is None:
            continue
        for role in Role:
            caller = api.as_role(role)
            response = sample(api, caller, path, method, customer, water)
            cells += 1
            allowed = role in ACTIONS[action]
            if response.status_code >= 500 or (response.status_code == 403) == allowed:
                unexpected.append((role.value, method, path, response.status_code))
            if response.status_code == 403:
                assert response.json()["error"]["code"] == "permission_denied"
    assert unexpected == []
    assert cells == 4 * sum(1 for *_, op in operations(api) if "x-permission" in op)


def test_a_cashier_reverses_only_their_own_transactions(api, water):
    customer = register(api)["code"]
    api.owner.post(f"/customers/{customer}/top-ups", {"amount": "10", "method": "cash"}, key="t")
    body = {"lines": [{"product": str(water.pk), "quantity": "1"}]}
    by_owner = api.owner.post(f"/customers/{customer}/sales", body, key="s").json()
    refused = api.cashier.post(f"/transactions/{by_owner['id']}/reversal", {"reason": "r"}, key="r")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "undo_not_allowed"
    allowed = api.manager.post(f"/transactions/{by_owner['id']}/reversal", {"reason": "r"}, key="r")
    assert allowed.status_code == 201


def test_the_table_says_what_the_issue_asks(api):
    """Pinned independently of the table: cashiers sell and top up but cannot refund,
    change prices or credit; accountants only read."""
    cashier = {action for action, roles in ACTIONS.items() if Role.CASHIER in roles}
    assert {"sell", "top_up"} <= cashier
    assert not {"refund", "catalog.write", "customers.credit"} & cashier
    for path, method, operation in operations(api):
        action = operation.get("x-permission")
        if action is not None and Role.ACCOUNTANT in ACTIONS[action]:
            assert method == "get", (method, path)
