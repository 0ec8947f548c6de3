"""The first run: an empty installation leads to the set-up form, and nowhere else."""

from __future__ import annotations

import io
import os
import re
import stat
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from prepaid.ledger.models import PaymentMethod
from prepaid.sales.setup import Setup, set_up
from prepaid.staff import setup_code
from prepaid.staff.models import AuditEvent, Business, Staff, Store

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


def with_code() -> dict[str, str]:
    """The form as the person at the machine fills it: with the set-up code."""
    return {**VALID, "setup_code": setup_code.code()}


@pytest.mark.parametrize("path", ["/", "/login/", "/anything/"])
def test_an_empty_installation_sends_every_page_to_set_up(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/setup/"


def test_the_set_up_form_creates_the_shop_and_logs_the_owner_in(client):
    response = client.post("/setup/", with_code(), follow=True)

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
    response = client.post("/setup/", {**with_code(), field: value})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Business.objects.exists()
    assert not get_user_model().objects.exists()


def test_the_set_up_form_is_gone_once_the_shop_exists(client):
    client.post("/setup/", with_code())
    client.logout()
    response = client.post("/setup/", {**with_code(), "business": "Hijacked"})
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


# -- the one-time set-up code ---------------------------------------------------------


@pytest.mark.parametrize("code", ["", "2345-6789-ABCD", "not the code"])
def test_without_the_set_up_code_nobody_becomes_the_owner(client, code):
    setup_code.code()  # the code exists, as `prepaid serve` made it
    response = client.post("/setup/", {**VALID, "setup_code": code})

    assert response.status_code == 200
    assert response.context["form"].errors["setup_code"]
    assert not Business.objects.exists()
    assert not get_user_model().objects.exists()
    assert not response.context["user"].is_authenticated
    if code:
        event = AuditEvent.objects.get(action="setup.code_failed")
        assert event.after == {"address": "127.0.0.1"}


def test_the_code_is_read_with_spaces_dashes_and_case_aside(client):
    code = setup_code.code().lower().replace("-", " ")
    response = client.post("/setup/", {**VALID, "setup_code": code})
    assert response.status_code == 302
    assert Business.objects.exists()


def test_the_code_is_kept_private_and_works_once(
    client, settings, django_capture_on_commit_callbacks
):
    code = setup_code.code()
    path = settings.SETUP_CODE_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().strip() == code

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/setup/", with_code()).status_code == 302
    assert not path.exists()  # used: gone


def test_wrong_codes_are_throttled_per_address(client):
    code = setup_code.code()
    for _attempt in range(5):
        client.post("/setup/", {**VALID, "setup_code": "WRNG-WRNG-WRNG"})

    # The right code now waits too: a minute after the fifth wrong one.
    response = client.post("/setup/", {**VALID, "setup_code": code})
    assert response.context["form"].errors["setup_code"] == [
        "Too many failed attempts. Try again in 1 minute."
    ]
    assert not Business.objects.exists()
    assert AuditEvent.objects.filter(action="setup.throttled").count() == 1

    # Another address is not held back by this one.
    other = client.post("/setup/", {**VALID, "setup_code": code}, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302
    assert Business.objects.exists()


def test_the_wait_ends_by_itself(client):
    code = setup_code.code()
    for _attempt in range(5):
        client.post("/setup/", {**VALID, "setup_code": "WRNG-WRNG-WRNG"})
    later = timezone.now() + timedelta(minutes=1, seconds=1)
    with mock.patch("prepaid.staff.logins.timezone.now", return_value=later):
        response = client.post("/setup/", {**VALID, "setup_code": code})
    assert response.status_code == 302
    assert Business.objects.exists()


def test_prepaid_serve_prints_the_code_while_the_shop_has_no_owner(settings):
    out = io.StringIO()
    command = "prepaid.ops.management.commands.serve"
    with mock.patch(f"{command}._serve"), mock.patch(f"{command}.call_command"):
        call_command("serve", "--no-worker", stdout=out)

    code = settings.SETUP_CODE_FILE.read_text().strip()
    assert f"Set-up code: {code}" in out.getvalue()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)

    # Once the shop is set up there is no code to print.
    set_up(Setup(**{**VALID, "currency": "PHP", "region": "PH"}))
    out = io.StringIO()
    with mock.patch(f"{command}._serve"), mock.patch(f"{command}.call_command"):
        call_command("serve", "--no-worker", stdout=out)
    assert "Set-up code" not in out.getvalue()
