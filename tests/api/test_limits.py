"""Bodies past the cap and absurd query values: answered in the API's error shape, in
the caller's language, never a 500, and nothing written."""

from __future__ import annotations

import pytest
from django.test import Client

from prepaid.customers.models import Customer
from prepaid.staff.models import AuditEvent
from tests.backoffice.test_absurd_queries import ABSURD, api_routes
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "message", "fields"}


def test_a_body_larger_than_the_cap_is_413_in_the_api_shape(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    cashier = api.cashier
    audited = AuditEvent.objects.count()
    response = cashier.post("/customers", {"name": "Maria", "notes": "x" * 100_000})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error.keys() >= ERROR_KEYS and error["code"] == "request_too_large"
    assert error["message"] == "The request body is larger than 64 KB."
    assert not Customer.objects.exists() and AuditEvent.objects.count() == audited


def test_the_413_reads_in_the_callers_language(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = {"name": "Maria", "notes": "x" * 100_000}
    chinese = api.cashier.post("/customers", body, language="zh-hans").json()["error"]
    dutch = api.cashier.post("/customers", body, language="nl").json()["error"]
    assert "64" in chinese["message"] and "64" in dutch["message"]
    english = "The request body is larger than 64 KB."
    assert len({chinese["message"], dutch["message"], english}) == 3


def test_the_default_cap_takes_a_large_real_body(api):
    """1 MB by default: a customer's long notes are far below it."""
    response = api.cashier.post("/customers", {"name": "Maria", "notes": "x" * 100_000})
    assert response.status_code == 201


def test_a_body_of_the_default_cap_and_more_is_413(api):
    response = api.cashier.post("/customers", {"name": "Maria", "notes": "x" * 1_100_000})
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


@pytest.mark.parametrize("params", ABSURD)
def test_api_lists_answer_absurd_queries_in_the_error_shape(api, params):
    make_customer("Maria Santos", balance="10.00")
    failures = {}
    for route in api_routes():
        response = Client(raise_request_exception=False).get(
            route, params, headers={"Authorization": f"Bearer {api.owner.key}"}
        )
        if response.status_code >= 500 or (
            response.status_code >= 400 and "error" not in response.json()
        ):
            failures[route] = response.status_code
    assert failures == {}
