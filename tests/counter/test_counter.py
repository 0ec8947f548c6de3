"""The counter through the Django test client: enrolment, PINs, find, sell, top up,
receipt, undo, and the idempotency keys of its forms."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from prepaid.catalog import services as catalog
from prepaid.ledger.models import Batch, Transfer
from prepaid.ledger.verify import verify
from prepaid.sales import services as sales
from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from prepaid.staff.models import AuditEvent, Device, PinLockout
from tests.counter.conftest import PINS, at_counter
from tests.factories import make_customer, method

pytestmark = pytest.mark.django_db


def key_of(response, after: str = 'id="sell-form"') -> str:
    """The idempotency key of the form that follows ``after`` (the sale form by default,
    else the page's first form)."""
    html = response.content.decode()
    if after in html:
        html = html[html.index(after) :]
    marker = 'name="key" value="'
    return html[html.index(marker) + len(marker) :].split('"', 1)[0]


def test_a_browser_that_is_not_enrolled_is_sent_to_enrolment(business):
    response = Client().get("/counter/", follow=True)
    assert response.redirect_chain[-1][0] == "/counter/enroll/"
    assert b"not a counter yet" in response.content


def test_an_owner_enrolls_a_browser_and_only_its_cookie_digest_is_kept(client, owner, store_a):
    client.login(username="olivia", password="owner-pass-1")
    response = client.post("/counter/enroll/", {"store": store_a.pk, "name": "Till 2"})
    assert response.status_code == 302
    secret = response.cookies[COOKIE].value
    assert response.cookies[COOKIE]["httponly"]
    device = Device.objects.get(name="Till 2")
    assert secret not in device.digest and len(secret) >= 40
    assert AuditEvent.objects.filter(action="counter.enrolled").exists()


def test_a_cashier_cannot_enroll(client, cashier_a, store_a):
    client.login(username="carlos", password="cashier-pass-1")
    client.post("/counter/enroll/", {"store": store_a.pk, "name": "Sneaky"})
    assert not Device.objects.exists()


def test_common_and_short_pins_are_refused(owner):
    for pin in ("0000", "1234", "4321", "123", "abcd", "2580", "12345678", "987654321"):
        with pytest.raises(counters.PinError):
            counters.set_pin(owner, pin, by=owner)
    counters.set_pin(owner, "4827", by=owner)
    assert owner.pin_hash and "4827" not in owner.pin_hash


def test_five_wrong_pins_lock_that_person_on_that_counter(device, with_pins, cashier_a, owner):
    client = at_counter(device)
    for _ in range(4):
        response = client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": "1111"})
        assert b"Wrong PIN." in response.content
    response = client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": "1111"})
    assert b"Too many wrong PINs" in response.content
    # Now even the right PIN is refused, with the same message.
    response = client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": PINS["Carlos"]})
    assert response.status_code == 200 and b"Too many wrong PINs" in response.content
    assert AuditEvent.objects.filter(action="pin.failed").count() == 4
    assert AuditEvent.objects.filter(action="pin.locked_out").count() == 1

    counters.lift_lockout(cashier_a, by=owner)
    response = client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": PINS["Carlos"]})
    assert response.status_code == 302


def test_wrong_pins_count_across_counters_and_the_lockouts_escalate(
    device, with_pins, cashier_a, owner, store_a
):
    other, secret = counters.enroll(store_a, "Till 2", by=owner)
    other.secret = secret
    tills = [at_counter(device), at_counter(other)]

    def wrong(times: int) -> bytes:
        content = b""
        for n in range(times):  # on both counters in turn: the count is the person's
            response = tills[n % 2].post("/counter/unlock/", {"staff": cashier_a.pk, "pin": "1111"})
            content = response.content
        return content

    assert b"Try again in 15 minutes" in wrong(5)
    lockout = PinLockout.objects.get(staff=cashier_a)
    assert lockout.level == 1 and lockout.device == device  # the fifth was on the first
    right = {"staff": cashier_a.pk, "pin": PINS["Carlos"]}
    assert b"Too many wrong PINs" in tills[1].post("/counter/unlock/", right).content

    PinLockout.objects.filter(pk=lockout.pk).update(locked_until=timezone.now())  # time passes
    assert b"Try again in an hour" in wrong(5)
    PinLockout.objects.filter(pk=lockout.pk).update(locked_until=timezone.now())
    assert b"Ask the owner to let you try again" in wrong(5)
    PinLockout.objects.filter(pk=lockout.pk).update(locked_until=None)  # no time lifts it
    assert b"Ask the owner" in tills[0].post("/counter/unlock/", right).content

    # The owner is told on the overview, and lets them try again.
    office = Client()
    office.force_login(owner.user)
    overview = office.get("/")
    assert b"Locked out of the counters" in overview.content and b"Carlos" in overview.content
    counters.lift_lockout(cashier_a, by=owner)
    assert tills[1].post("/counter/unlock/", right).status_code == 302
    assert PinLockout.objects.get().level == 0
    levels = [
        e.after["level"] for e in AuditEvent.objects.filter(action="pin.locked_out").order_by("id")
    ]
    assert levels == [1, 2, 3]


def test_the_lockout_passes_after_fifteen_minutes(device, with_pins, cashier_a):
    PinLockout.objects.create(
        staff=cashier_a, device=device, locked_until=timezone.now() - timedelta(seconds=1)
    )
    client = at_counter(device)
    response = client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": PINS["Carlos"]})
    assert response.status_code == 302


def test_a_wrong_pin_says_the_same_whether_or_not_it_is_someone_elses(device, with_pins, cashier_a):
    client = at_counter(device)
    other = client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": PINS["Mona"]})
    nobody = client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": "8642"})
    assert b"Wrong PIN." in other.content and b"Wrong PIN." in nobody.content
    assert other.content.replace(b"8642", b"").count(b"Wrong PIN.") == 1


def test_the_counter_locks_after_the_idle_time_and_with_the_lock_button(till, business):
    assert till.get("/counter/").status_code == 200
    session = till.session
    state = session["counter"]
    state["seen"] -= 6 * 60
    session["counter"] = state
    session.save()
    assert till.get("/counter/")["Location"] == "/counter/unlock/"

    client = till
    client.post("/counter/unlock/", {"staff": state["staff"], "pin": PINS["Carlos"]})
    client.post("/counter/lock/")
    assert client.get("/counter/")["Location"] == "/counter/unlock/"


def test_lock_also_ends_a_back_office_login_in_that_browser(till, owner):
    till.force_login(owner.user)
    assert till.get("/customers/").status_code == 200
    till.post("/counter/lock/")
    assert till.get("/customers/")["Location"].startswith("/login/")
    assert till.get("/counter/")["Location"] == "/counter/unlock/"  # still a counter
    assert AuditEvent.objects.filter(action="logout", staff=owner).exists()


def test_a_scan_opens_the_customer_and_a_name_or_four_digits_find_them(till, maria):
    card = maria.cards.get()
    assert till.get("/counter/", {"q": card.url})["Location"] == f"/counter/c/{maria.code}/"
    make_customer("Mario Santos")
    found = till.get("/counter/find/", {"q": "santos"})
    assert b"Maria Santos" in found.content and b"Mario Santos" in found.content


def test_sell_five_gallons_in_three_steps_and_the_receipt(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    assert panel.status_code == 200
    response = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "5"},
    )
    assert response.status_code == 302
    receipt = till.get(response["Location"])
    assert b"$8.75" in receipt.content
    assert sales.balances(maria).paid == 875
    assert verify() == []


def test_the_same_form_posted_twice_charges_once_and_shows_the_first_receipt(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    form = {"key": key_of(panel), "product": water.pk, "quantity": "4"}
    first = till.post(f"/counter/c/{maria.code}/sell/", form)
    again = till.post(f"/counter/c/{maria.code}/sell/", form)
    changed = till.post(f"/counter/c/{maria.code}/sell/", {**form, "quantity": "8"})
    assert first["Location"] == again["Location"] == changed["Location"]
    assert Batch.objects.filter(code=Batch.Code.SALE).count() == 1
    assert sales.balances(maria).paid == 900


def test_insufficient_balance_shows_the_shortfall_and_posts_nothing(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    response = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "41"},
    )
    assert response.status_code == 200
    assert b"0.25 short" in response.content
    assert (
        b'id="top-up-form"' in response.content
        and b'id="top-up-form" hidden' not in response.content
    )
    assert Batch.objects.filter(code=Batch.Code.SALE).count() == 0


def test_top_up_with_a_plan(till, maria):
    plan = catalog.save_plan(None, name="100 → +10", amount_minor=10000, bonus_minor=1000, by=None)
    panel = till.get(f"/counter/c/{maria.code}/")
    response = till.post(
        f"/counter/c/{maria.code}/top-up/",
        {"key": key_of(panel), "plan": plan.pk, "amount": "", "method": method("cash").pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sales.balances(maria) == sales.Balances(paid=11000, bonus=1000, credit_limit=0)


def test_undo_inside_the_window_and_not_after(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    sold = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "2"},
    )
    receipt = till.get(sold["Location"])
    assert b">Undo<" in receipt.content
    batch = Batch.objects.get(code=Batch.Code.SALE)
    undone = till.post(
        f"/counter/receipt/{batch.pk}/undo/", {"key": key_of(receipt), "reason": "Wrong water"}
    )
    assert undone.status_code == 302
    assert sales.balances(maria).paid == 1000
    assert Batch.objects.filter(reverses=batch).exists()

    panel = till.get(f"/counter/c/{maria.code}/")
    sold = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "2"},
    )
    late = Batch.objects.filter(code=Batch.Code.SALE).latest("id")
    receipt = till.get(sold["Location"])  # batches are immutable: the clock moves instead
    later = timezone.now() + timedelta(minutes=6)
    with mock.patch("prepaid.sales.services.timezone.now", return_value=later):
        refused = till.post(
            f"/counter/receipt/{late.pk}/undo/", {"key": key_of(receipt), "reason": "Too late"}
        )
    assert refused.status_code == 302
    assert not Batch.objects.filter(reverses=late).exists()
    assert Transfer.objects.filter(batch__reverses=late).count() == 0


def test_repeat_last_sale_is_one_tap_with_its_own_key(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "2"},
    )
    panel = till.get(f"/counter/c/{maria.code}/")
    assert "Repeat last sale: 2 gallon Purified water" in panel.content.decode()
    repeat_key = key_of(panel, after='class="repeat"')
    assert repeat_key != key_of(panel)
    till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": repeat_key, "product": water.pk, "quantity": "2"},
    )
    assert Batch.objects.filter(code=Batch.Code.SALE).count() == 2
    assert sales.balances(maria).paid == 900


def test_ten_gallons_read_as_10_on_the_receipt_and_the_repeat_button(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    sold = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "10"},
    )
    assert b"10 gallon Purified water" in till.get(sold["Location"]).content
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Repeat last sale: 10 gallon" in panel and 'name="quantity" value="10"' in panel
    assert "E+" not in panel
