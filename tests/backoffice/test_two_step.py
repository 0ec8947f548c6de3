"""Two-step sign-in (TOTP) for owners and accountants: turned on from the back office
with a code from the app, asked for after the password, once per code; wrong codes
count towards the login throttle; the owner (or ``prepaid two_step_off``) turns it off
for someone who lost their phone."""

from __future__ import annotations

import base64
import io
import re
import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from prepaid.lib import sealing
from prepaid.staff import two_step
from prepaid.staff.models import AuditEvent, LoginThrottle

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
RIGHT = "owner-pass-1"


def code(now: float | None = None, secret: str = SECRET) -> str:
    return two_step.current_code(secret, now=now)


def turned_on(staff, secret: str = SECRET):
    """``staff`` with two-step sign-in on, its last used step well in the past."""
    staff.totp_secret, staff.totp_last_step = sealing.seal_record(secret), 0
    staff.save(update_fields=["totp_secret", "totp_last_step"])
    return staff


def password_step(client: Client, username: str = "olivia", password: str = RIGHT, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_an_owner_turns_it_on_with_a_qr_code_and_a_code_from_the_app(client, owner):
    client.force_login(owner.user)
    assert "Set up two-step sign-in" in client.get("/account/two-step/").content.decode()

    started = client.post("/account/two-step/", {"action": "start"}, follow=True)
    page = started.content.decode()
    shown = re.search(r"data-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    # The QR code (read back by a camera in tests/e2e/test_login.py).
    assert re.search(r'<div class="qr"><svg', page)
    owner.refresh_from_db()
    assert owner.totp_secret == ""  # not on until a code shows the app has it

    wrong = client.post("/account/two-step/", {"action": "confirm", "code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    owner.refresh_from_db()
    assert owner.totp_secret == ""

    client.post("/account/two-step/", {"action": "confirm", "code": code(secret=shown)})
    owner.refresh_from_db()
    assert owner.totp_secret.startswith(sealing.RECORD)  # sealed in the database
    assert sealing.open_record(owner.totp_secret) == shown
    event = AuditEvent.objects.get(action="two_step.on")
    assert (event.staff, event.subject) == (owner, f"staff:{owner.pk}")
    assert shown not in str(event.after)


def test_a_manager_has_no_two_step_page(client, manager):
    client.force_login(manager.user)
    assert client.get("/account/two-step/").status_code == 403


def test_an_accountant_may_turn_it_on(client, accountant):
    client.force_login(accountant.user)
    client.post("/account/two-step/", {"action": "start"})
    secret = client.session["two_step_new_secret"]
    client.post("/account/two-step/", {"action": "confirm", "code": code(secret=secret)})
    accountant.refresh_from_db()
    assert sealing.open_record(accountant.totp_secret) == secret


def test_with_it_on_the_password_alone_does_not_log_in(client, owner):
    turned_on(owner)
    response = password_step(client)
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert client.get("/").status_code == 302  # not logged in yet
    assert not AuditEvent.objects.filter(action="login").exists()

    page = client.get("/login/code/")
    assert "enter the code it shows" in page.content.decode()
    response = client.post("/login/code/", {"code": code()})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.get(action="login").staff == owner


def test_the_code_step_goes_back_to_where_the_person_was_going(client, owner):
    turned_on(owner)
    client.post("/login/", {"username": "olivia", "password": RIGHT, "next": "/customers/"})
    assert client.post("/login/code/", {"code": code()})["Location"] == "/customers/"


def test_a_wrong_code_is_refused_and_counts_towards_the_throttle(client, owner):
    turned_on(owner)
    password_step(client)
    response = client.post("/login/code/", {"code": "000000" if code() != "000000" else "111111"})
    assert "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302
    event = AuditEvent.objects.get(action="login.failed")
    assert event.after == {"username": "olivia", "address": "127.0.0.1", "step": "code"}
    assert LoginThrottle.objects.get(kind="name", value="olivia").failures == 1

    # Four more wrong codes: the right one now waits, like a password would.
    for _attempt in range(4):
        client.post("/login/code/", {"code": "abcdef"})
    refused = client.post("/login/code/", {"code": code()})
    assert "Too many failed attempts. Try again in 1 minute." in refused.content.decode()
    assert client.get("/").status_code == 302


def test_a_right_password_does_not_start_the_count_again_before_the_code(client, owner):
    """Else whoever knows the password could guess codes for ever, a password between
    every four guesses."""
    turned_on(owner)
    password_step(client)
    for _attempt in range(4):
        client.post("/login/code/", {"code": "abcdef"})
    password_step(client)
    assert LoginThrottle.objects.get(kind="name", value="olivia").failures == 4
    client.post("/login/code/", {"code": code()})
    assert LoginThrottle.objects.get(kind="name", value="olivia").failures == 0


def test_a_code_used_once_is_refused_the_second_time(owner):
    turned_on(owner)
    now = time.time()
    first, second = Client(), Client()
    password_step(first)
    password_step(second)
    with mock.patch("prepaid.staff.two_step.time.time", return_value=now):
        assert first.post("/login/code/", {"code": code(now)}).status_code == 302
        replay = second.post("/login/code/", {"code": code(now)})
    assert "This code was used already" in replay.content.decode()
    assert second.get("/").status_code == 302
    assert AuditEvent.objects.get(action="login.failed").after["reason"] == "used"


def test_the_code_of_the_step_before_and_after_is_accepted(owner):
    now = time.time()
    turned_on(owner)
    assert two_step.check(owner, code(now - 30), now=now) is two_step.Check.RIGHT
    assert two_step.check(owner, code(now + 30), now=now) is two_step.Check.RIGHT
    # ...but nothing older than the last code used, and nothing further off.
    assert two_step.check(owner, code(now), now=now) is two_step.Check.USED
    assert two_step.check(owner, code(now + 90), now=now) is two_step.Check.WRONG


def test_the_code_step_needs_a_right_password_first(client, owner):
    turned_on(owner)
    response = client.get("/login/code/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    response = client.post("/login/code/", {"code": code()})
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_a_right_password_waits_for_its_code_five_minutes_at_most(client, owner):
    turned_on(owner)
    password_step(client)
    later = time.time() + 301
    with mock.patch("prepaid.backoffice.logins.time.time", return_value=later):
        response = client.post("/login/code/", {"code": code()})
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_turning_it_off_oneself_needs_a_code(client, owner):
    turned_on(owner)
    client.force_login(owner.user)
    client.post("/account/two-step/", {"action": "off", "code": "abcdef"})
    owner.refresh_from_db()
    assert sealing.open_record(owner.totp_secret) == SECRET
    client.post("/account/two-step/", {"action": "off", "code": code()})
    owner.refresh_from_db()
    assert owner.totp_secret == ""
    assert AuditEvent.objects.get(action="two_step.off").staff == owner


def test_the_owner_turns_it_off_for_someone_else(client, owner, accountant):
    turned_on(accountant)
    client.force_login(owner.user)
    staff_page = client.get("/shop/staff/").content.decode()
    assert "Turn two-step sign-in off for Adel" in staff_page
    response = client.post(f"/shop/staff/{accountant.pk}/two-step-off/", follow=True)
    assert "Two-step sign-in is off for Adel." in response.content.decode()
    accountant.refresh_from_db()
    assert accountant.totp_secret == ""
    event = AuditEvent.objects.get(action="two_step.off")
    assert (event.staff, event.subject) == (owner, f"staff:{accountant.pk}")

    # Adel logs in with the password alone again.
    assert password_step(Client(), "adel", "acct-pass-1")["Location"] == "/"


def test_only_the_owner_turns_it_off_for_someone_else(client, manager, accountant):
    turned_on(accountant)
    client.force_login(manager.user)
    assert client.post(f"/shop/staff/{accountant.pk}/two-step-off/").status_code == 403
    accountant.refresh_from_db()
    assert sealing.open_record(accountant.totp_secret) == SECRET


def test_the_command_turns_it_off_for_an_owner_who_lost_their_phone(owner):
    turned_on(owner)
    out = io.StringIO()
    call_command("two_step_off", "olivia", stdout=out)
    assert "off for olivia" in out.getvalue()
    owner.refresh_from_db()
    assert owner.totp_secret == ""
    event = AuditEvent.objects.get(action="two_step.off")
    assert (event.staff, event.after) == (None, {"how": "command"})
    with pytest.raises(CommandError, match="no back-office user"):
        call_command("two_step_off", "nobody", stdout=io.StringIO())


def test_the_secret_is_random_base32_of_160_bits():
    secrets = {two_step.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(len(base64.b32decode(secret)) == 20 for secret in secrets)
