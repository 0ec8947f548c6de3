"""No page or API answer is kept in a cache (#12): they carry names, phone numbers and
balances, which a shared computer's browser or a proxy must not keep. Static files
keep their own long caching."""

from __future__ import annotations

import pytest

from prepaid.customers.models import Card
from tests.api.conftest import register
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_the_customers_own_page_is_not_stored(client, actor):
    card = Card.objects.get(customer=make_customer("Maria", balance="5.00", actor=actor))
    assert "no-store" in client.get(f"/c/{card.token}")["Cache-Control"]
    assert "no-store" in client.get("/c/nope")["Cache-Control"]  # a 404 too


def test_back_office_pages_and_the_login_are_not_stored(client, owner):
    assert "no-store" in client.get("/login/")["Cache-Control"]
    client.force_login(owner.user)
    assert "no-store" in client.get("/customers/")["Cache-Control"]


def test_api_answers_are_not_stored(api):
    code = register(api)["code"]
    assert "no-store" in api.cashier.get(f"/customers/{code}")["Cache-Control"]
    assert "no-store" in api.anonymous.get("/health")["Cache-Control"]


def test_static_files_keep_their_own_caching(client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # the tests have no collectstatic
    response = client.get("/static/prepaid/app.css")
    response.close()  # a file answer: its file is closed with it
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
