"""Login throttling (docs/security.md): failures counted per user name and per address,
in the database; from the 5th failure of a name each attempt waits (1, 2, 4… minutes),
the 10th locks it for an hour; an address gets twice the room. A refused attempt never
reaches the password, is audited, and reads the same whether the user exists or not."""

from __future__ import annotations

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from prepaid.staff.models import AuditEvent, LoginThrottle

pytestmark = pytest.mark.django_db

RIGHT = "owner-pass-1"
WAIT_1 = "Too many failed attempts. Try again in 1 minute."
WRONG = "The user name or password is not right. Please try again."


def log_in(client: Client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client: Client, username: str, times: int, address: str = "127.0.0.1") -> None:
    for _attempt in range(times):
        response = log_in(client, username, "not-it", address)
        assert WRONG in response.content.decode()


def at(delta: timedelta):
    """Run the block as if ``delta`` had passed (the throttle's clock)."""
    return mock.patch("prepaid.staff.logins.timezone.now", return_value=timezone.now() + delta)


def test_four_wrong_passwords_cost_nothing(client, owner):
    fail(client, "olivia", 4)
    assert log_in(client, "olivia", RIGHT).status_code == 302


def test_from_the_fifth_failure_the_next_attempt_waits_before_the_password_is_read(client, owner):
    fail(client, "olivia", 5)
    with mock.patch("prepaid.backoffice.logins.authenticate") as authenticate:
        response = log_in(client, "olivia", RIGHT)
    authenticate.assert_not_called()
    assert response.status_code == 200
    assert WAIT_1 in response.content.decode()
    assert not response.context["user"].is_authenticated
    event = AuditEvent.objects.get(action="login.throttled")
    assert event.after["username"] == "olivia" and event.after["counted"] == "name"
    assert RIGHT not in str(event.after)

    with at(timedelta(seconds=61)):
        assert log_in(client, "olivia", RIGHT).status_code == 302


def test_the_waits_double(client, owner):
    fail(client, "olivia", 5)
    throttle = LoginThrottle.objects.get(kind="name", value="olivia")
    seen = []
    for _failure in range(4):  # the 6th to 9th failure, each after its wait
        seen.append(round((throttle.wait_until - throttle.last_failure_at).total_seconds()))
        with at(throttle.wait_until - timezone.now() + timedelta(seconds=1)):
            fail(client, "olivia", 1)
        throttle.refresh_from_db()
    seen.append(round((throttle.wait_until - throttle.last_failure_at).total_seconds()))
    assert seen == [60, 120, 240, 480, 960]
    assert throttle.locked_until is None


def test_the_tenth_failure_locks_the_name_for_an_hour_and_the_owner_is_told(client, owner, manager):
    lock_olivia(client)
    throttle = LoginThrottle.objects.get(kind="name", value="olivia")
    assert throttle.failures == 10
    assert throttle.locked_until - throttle.last_failure_at == timedelta(hours=1)
    locked = AuditEvent.objects.get(action="login.locked_out")
    assert locked.subject == "name:olivia" and locked.after["failures"] == 10

    # The right password does not open it, now or in 59 minutes.
    with at(timedelta(minutes=59)):
        response = log_in(client, "olivia", RIGHT, address="192.0.2.1")
    assert "Too many failed attempts. Try again in" in response.content.decode()

    # The owner, signed in elsewhere, sees it on the overview and the staff page.
    office = Client()
    office.force_login(owner.user)
    overview = office.get("/").content.decode()
    assert "Locked out of the back office after failed logins" in overview
    assert "user name “olivia”" in overview
    assert "Locked out of the back office" in office.get("/shop/staff/").content.decode()
    # A manager is not shown the owner's notice.
    other = Client()
    other.force_login(manager.user)
    assert "Locked out of the back office" not in other.get("/").content.decode()


def lock_olivia(client: Client) -> None:
    """Ten failures, each once the wait before it is over."""
    fail(client, "olivia", 5)
    for _failure in range(5):
        LoginThrottle.objects.filter(kind="name", value="olivia").update(wait_until=None)
        fail(client, "olivia", 1)


def test_the_lock_ends_by_itself_after_an_hour(client, owner):
    lock_olivia(client)
    with at(timedelta(hours=1, seconds=1)):
        assert log_in(client, "olivia", RIGHT, address="192.0.2.1").status_code == 302
    assert LoginThrottle.objects.get(kind="name", value="olivia").failures == 0


def test_the_owner_lifts_the_lock_from_the_staff_page(client, owner):
    lock_olivia(client)
    throttle = LoginThrottle.objects.get(kind="name", value="olivia")
    office = Client()
    office.force_login(owner.user)
    response = office.post(f"/shop/login-locks/{throttle.pk}/lift/", follow=True)
    assert "olivia may try to log in again." in response.content.decode()
    event = AuditEvent.objects.get(action="login.unlocked_by_owner")
    assert (event.staff, event.subject) == (owner, "name:olivia")

    assert log_in(client, "olivia", RIGHT, address="192.0.2.1").status_code == 302


def test_only_the_owner_lifts_a_lock(client, owner, manager):
    lock_olivia(client)
    throttle = LoginThrottle.objects.get(kind="name", value="olivia")
    office = Client()
    office.force_login(manager.user)
    assert office.post(f"/shop/login-locks/{throttle.pk}/lift/").status_code == 403
    throttle.refresh_from_db()
    assert throttle.locked_until is not None


def test_a_name_nobody_has_is_throttled_the_same_way(client, owner):
    """The answers do not tell whether "olivia" exists: the same words, at the same
    failures, for a name that does not."""
    answers = {}
    for name in ("olivia", "nobody-here"):
        fail(client, name, 5)
        answers[name] = log_in(client, name, "still-not-it").content.decode()
    assert WAIT_1 in answers["olivia"] and WAIT_1 in answers["nobody-here"]


def test_a_right_password_starts_the_count_again(client, owner):
    fail(client, "olivia", 4)
    assert log_in(client, "olivia", RIGHT).status_code == 302
    client.post("/logout/")
    fail(client, "olivia", 4)
    assert log_in(client, "olivia", RIGHT).status_code == 302


def test_the_name_counts_whatever_its_case(client, owner):
    fail(client, "Olivia", 3)
    fail(client, "OLIVIA ", 2)
    assert WAIT_1 in log_in(client, "olivia", RIGHT).content.decode()


def test_an_address_trying_many_names_is_held_back(client, owner, manager):
    # Five names, two failures each: no name reaches five, the address reaches ten.
    for n in range(5):
        fail(client, f"guess-{n}", 2, address="198.51.100.9")
    throttle = LoginThrottle.objects.get(kind="address", value="198.51.100.9")
    assert throttle.failures == 10 and throttle.wait_until is not None

    refused = log_in(client, "mona", "manager-pass-1", address="198.51.100.9")
    assert WAIT_1 in refused.content.decode()
    assert AuditEvent.objects.get(action="login.throttled").after["counted"] == "address"
    # From anywhere else Mona logs in.
    assert log_in(Client(), "mona", "manager-pass-1", address="203.0.113.5").status_code == 302

    # The twentieth failure from the address locks it for an hour.
    for n in range(10):
        LoginThrottle.objects.filter(kind="address").update(wait_until=None)
        fail(client, f"more-{n}", 1, address="198.51.100.9")
    throttle.refresh_from_db()
    assert throttle.failures == 20
    assert throttle.locked_until - throttle.last_failure_at == timedelta(hours=1)
    assert AuditEvent.objects.get(action="login.locked_out").subject == "address:198.51.100.9"


def test_behind_a_trusted_proxy_the_address_is_the_one_it_forwarded(client, owner, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client.post(
        "/login/",
        {"username": "olivia", "password": "not-it"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9",
    )
    assert LoginThrottle.objects.filter(kind="address", value="198.51.100.9").exists()
    assert AuditEvent.objects.get(action="login.failed").after["address"] == "198.51.100.9"


def test_a_count_forgets_a_failure_a_day_old(client, owner):
    fail(client, "olivia", 4)
    with at(timedelta(days=1, minutes=1)):
        fail(client, "olivia", 1)
    assert LoginThrottle.objects.get(kind="name", value="olivia").failures == 1


def test_the_wait_is_said_in_chinese_and_dutch(client, owner):
    fail(client, "olivia", 5)
    for language, words in (("zh-hans", "尝试失败次数过多"), ("nl", "Te veel mislukte pogingen")):
        response = client.post(
            "/login/",
            {"username": "olivia", "password": RIGHT},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert words in response.content.decode()


def test_an_owner_locked_out_themselves_is_let_in_by_the_command(client, owner):
    lock_olivia(client)
    out = io.StringIO()
    call_command("login_unlock", "Olivia", stdout=out)
    assert "Olivia may try to log in again." in out.getvalue()
    event = AuditEvent.objects.get(action="login.unlocked_by_owner")
    assert (event.staff, event.subject, event.after) == (None, "name:olivia", {"how": "command"})
    assert log_in(client, "olivia", RIGHT, address="192.0.2.1").status_code == 302
    with pytest.raises(CommandError, match="no failed logins"):
        call_command("login_unlock", "olivia", stdout=io.StringIO())


def test_counts_a_day_old_do_not_pile_up(client, owner):
    fail(client, "guess-1", 1, address="198.51.100.1")
    with at(timedelta(days=1, minutes=1)):
        fail(client, "olivia", 1)
    assert set(LoginThrottle.objects.values_list("value", flat=True)) == {"olivia", "127.0.0.1"}
