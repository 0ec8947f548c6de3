"""The first run: an empty installation leads to the set-up form, and nowhere else."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from prepaid.ledger.models import PaymentMethod
from prepaid.staff.models import Business, Staff, Store

pytestmark = pytest.mark.django_db

VALID = {
    "business": "Agua Pura",
    "currency": "php",
    "region": "ph",
    "time_zone": "Asia/Manila",
    "store": "Main Street",
    "owner": "rosa",
    "password": "refill-2026!",
}


@pytest.mark.parametrize("path", ["/", "/login/", "/anything/"])
def test_an_empty_installation_sends_every_page_to_set_up(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/setup/"


def test_the_set_up_form_creates_the_shop_and_logs_the_owner_in(client):
    response = client.post("/setup/", VALID, follow=True)

    assert response.redirect_chain[-1] == ("/", 302)
    assert "Agua Pura" in response.content.decode()
    business = Business.current()
    assert (business.name, business.currency, business.region, business.time_zone) == (
        "Agua Pura",
        "PHP",
        "PH",
        "Asia/Manila",
    )
    assert list(Store.objects.values_list("name", flat=True)) == ["Main Street"]
    owner = Staff.objects.get()
    assert (owner.role, owner.user.username) == ("owner", "rosa")
    assert list(owner.stores.all()) == list(Store.objects.all())
    assert sorted(PaymentMethod.objects.values_list("code", flat=True)) == [
        "card",
        "cash",
        "mobile",
    ]
    assert response.context["user"].is_authenticated


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "XYZ"),
        ("region", "QQ"),
        ("time_zone", "Mars/Olympus"),
        ("business", " "),
        ("password", "short"),
    ],
)
def test_a_bad_value_is_explained_and_nothing_is_created(client, field, value):
    response = client.post("/setup/", {**VALID, field: value})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Business.objects.exists()
    assert not get_user_model().objects.exists()


def test_the_set_up_form_is_gone_once_the_shop_exists(client):
    client.post("/setup/", VALID)
    client.logout()
    response = client.post("/setup/", {**VALID, "business": "Hijacked"})
    assert response.status_code == 302
    assert Business.current().name == "Agua Pura"


def test_the_overview_needs_a_login(client, owner):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_login_page_refuses_a_wrong_password_with_a_message(client, owner):
    response = client.post("/login/", {"username": "olivia", "password": "nope"})
    assert response.status_code == 200
    assert "not right" in response.content.decode()
