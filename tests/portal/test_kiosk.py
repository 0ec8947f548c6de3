"""The shop's self-service kiosk with customer PINs (issue #13, docs/kiosk.md): only on a
browser the owner enrolled as a kiosk; card, then PIN, then the balance for a short
while; five wrong PINs lock the customer out of every kiosk until staff unlock them or
they set a new PIN on their own page, which asks what a lost-card report asks."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from prepaid.customers import pins
from prepaid.customers import services as customers
from prepaid.customers.models import KioskPin
from prepaid.operations import privacy
from prepaid.portal import kiosk
from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from prepaid.staff.models import AuditEvent, Device, LoginThrottle
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
PIN = "4071"


@pytest.fixture
def kiosk_device(store_a, owner):
    made, secret = counters.enroll(store_a, "Wall tablet", by=owner, kind=Device.Kind.KIOSK)
    made.secret = secret
    return made


@pytest.fixture
def at_kiosk(kiosk_device) -> Client:
    client = Client()
    client.cookies[COOKIE] = kiosk_device.secret
    return client


@pytest.fixture
def maria(business):
    person = make_customer("Maria Santos", balance="12.50")
    customers.update(
        person, customers.Profile(phone="+12125550123", email="maria@example.com"), by=None
    )
    pins.set_pin(person, PIN, by=None, how="portal")
    return person


def card_url(person) -> str:
    return f"http://testserver/c/{person.cards.first().token}"


def scan_and_type(client: Client, person, pin: str):
    scanned = client.post("/kiosk/", {"card": card_url(person)})
    assert scanned.status_code == 302 and scanned["Location"] == "/kiosk/pin/"
    return client.post("/kiosk/pin/", {"pin": pin})


# -- enrolment ----------------------------------------------------------------------------


def test_a_browser_that_is_not_a_kiosk_is_told_the_owner_must_enrol_it(client, maria):
    page = client.get("/kiosk/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "This browser is not a kiosk yet" in text and "kind%3Dkiosk" in text
    assert client.post("/kiosk/", {"card": card_url(maria)}).status_code == 200
    assert client.get("/kiosk/account/").status_code == 200  # the same page, nothing shown
    assert "12.50" not in client.get("/kiosk/account/").content.decode()


def test_a_counter_is_not_a_kiosk_and_a_kiosk_is_not_a_counter(
    store_a, owner, cashier_a, kiosk_device, maria
):
    _counter, secret = counters.enroll(store_a, "Till 1", by=owner)
    at_till = Client()
    at_till.cookies[COOKIE] = secret
    assert "not a kiosk yet" in at_till.get("/kiosk/").content.decode()

    counters.set_pin(cashier_a, "3619", by=owner)
    at_kiosk = Client()
    at_kiosk.cookies[COOKIE] = kiosk_device.secret
    assert at_kiosk.get("/counter/")["Location"] == "/counter/enroll/"
    unlock = at_kiosk.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": "3619"})
    assert unlock.status_code == 302 and unlock["Location"] == "/counter/enroll/"
    assert counters.unlock(kiosk_device, cashier_a, "3619").unlocked is False


def test_the_owner_enrols_a_kiosk_from_the_enrolment_page_and_may_remove_it(client, store_a, owner):
    client.force_login(owner.user)
    form = client.get("/counter/enroll/?kind=kiosk").content.decode()
    assert 'value="kiosk"' in form and "Kiosk 1" in form
    answer = client.post(
        "/counter/enroll/", {"kind": "kiosk", "store": store_a.pk, "name": "Wall tablet"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/kiosk/"
    device = Device.objects.get(name="Wall tablet")
    assert device.kind == Device.Kind.KIOSK
    assert "Scan your card" in client.get("/kiosk/").content.decode()

    owner_again = Client()
    owner_again.force_login(owner.user)
    listed = owner_again.get("/shop/staff/").content.decode()
    assert "Wall tablet" in listed and "Customer kiosk" in listed
    owner_again.post(f"/shop/counters/{device.pk}/remove/")
    assert "not a kiosk yet" in client.get("/kiosk/").content.decode()


def test_kiosks_are_not_among_the_places_a_day_is_closed(kiosk_device, owner):
    from prepaid.backoffice.closing import places

    assert all(place.device is None for place in places())


# -- card and PIN -----------------------------------------------------------------------------


def test_the_right_pin_shows_the_balance_and_done_forgets_it(at_kiosk, maria, kiosk_device):
    opened = scan_and_type(at_kiosk, maria, PIN)
    assert opened.status_code == 302 and opened["Location"] == "/kiosk/account/"
    page = at_kiosk.get("/kiosk/account/")
    text = page.content.decode()
    assert "Maria Santos" in text and "$12.50" in text and "Top-up" in text
    assert "2125550123" not in text and "0123" not in text and "maria@" not in text
    assert 'data-idle-seconds="60"' in text
    assert page["Cache-Control"].startswith("max-age=0")
    event = AuditEvent.objects.get(action="kiosk.opened")
    assert event.subject == f"customer:{maria.code}" and event.after == {"kiosk": kiosk_device.pk}

    done = at_kiosk.post("/kiosk/done/")
    assert done["Location"] == "/kiosk/"
    assert at_kiosk.get("/kiosk/account/")["Location"] == "/kiosk/"


def test_the_code_printed_on_the_card_is_not_enough(at_kiosk, maria):
    """A code is no secret: with it anyone could lock Maria out with five wrong PINs."""
    for typed in (maria.code, maria.code.lower().replace("-", "")):
        refused = at_kiosk.post("/kiosk/", {"card": typed})
        assert refused.status_code == 200 and "not known here" in refused.content.decode()
    assert at_kiosk.post("/kiosk/", {"card": card_url(maria)})["Location"] == "/kiosk/pin/"


def test_a_stale_view_is_refused_by_the_server(at_kiosk, maria, monkeypatch):
    scan_and_type(at_kiosk, maria, PIN)
    later = time.time() + kiosk.OPEN_SECONDS + 1
    monkeypatch.setattr(kiosk.time, "time", lambda: later)
    stale = at_kiosk.get("/kiosk/account/")
    assert stale.status_code == 302 and stale["Location"] == "/kiosk/"


def test_the_pin_step_without_a_card_goes_back_to_the_scan(at_kiosk, maria):
    assert at_kiosk.get("/kiosk/pin/")["Location"] == "/kiosk/"
    assert at_kiosk.post("/kiosk/pin/", {"pin": PIN})["Location"] == "/kiosk/"
    assert not AuditEvent.objects.filter(action="kiosk.opened").exists()


def test_a_wrong_pin_says_how_many_tries_are_left(at_kiosk, maria):
    wrong = scan_and_type(at_kiosk, maria, "9999")
    assert wrong.status_code == 200
    assert "Wrong PIN. 4 tries left." in wrong.content.decode()
    assert KioskPin.objects.get(customer=maria).failures == 1
    opened = at_kiosk.post("/kiosk/pin/", {"pin": PIN})  # the same customer, again
    assert opened["Location"] == "/kiosk/account/"
    assert KioskPin.objects.get(customer=maria).failures == 0


def test_the_fifth_wrong_pin_locks_the_customer_on_every_kiosk(at_kiosk, maria, store_a, owner):
    for left in (4, 3, 2, 1):
        wrong = scan_and_type(at_kiosk, maria, "9999")
        assert f"{left} tr" in wrong.content.decode()
    fifth = scan_and_type(at_kiosk, maria, "9999")
    assert "Too many wrong PINs" in fifth.content.decode()
    assert KioskPin.objects.get(customer=maria).locked_at is not None
    assert AuditEvent.objects.filter(action="kiosk.locked_out").count() == 1

    _other, secret = counters.enroll(store_a, "Door tablet", by=owner, kind=Device.Kind.KIOSK)
    elsewhere = Client()
    elsewhere.cookies[COOKIE] = secret
    refused = elsewhere.post("/kiosk/", {"card": card_url(maria)})
    assert "Too many wrong PINs" in refused.content.decode()
    # Even the right PIN, had the screen stayed on the keypad, opens nothing now.
    assert pins.try_pin(maria, PIN, kiosk=_other).outcome == pins.Outcome.LOCKED


def test_a_card_without_a_pin_is_sent_to_the_counter_or_its_own_page(at_kiosk, business):
    person = make_customer("Li Wei", balance="5.00")
    answer = at_kiosk.post("/kiosk/", {"card": card_url(person)})
    text = answer.content.decode()
    assert "No kiosk PIN yet" in text and "Li Wei" not in text


def test_unknown_cards_make_the_kiosk_wait(at_kiosk, kiosk_device, maria):
    for number in range(10):
        unknown = at_kiosk.post("/kiosk/", {"card": f"http://testserver/c/{'x' * 22}{number}"})
        assert "not known here" in unknown.content.decode()
    waits = at_kiosk.post("/kiosk/", {"card": card_url(maria)})  # even a good card waits
    assert "Too many failed attempts" in waits.content.decode()
    throttle = LoginThrottle.objects.get(kind=LoginThrottle.Kind.KIOSK)
    assert throttle.value == f"kiosk:{kiosk_device.pk}" and throttle.failures == 10


def test_a_revoked_card_finds_nobody(at_kiosk, maria):
    url = card_url(maria)
    customers.freeze_cards(maria, reason="lost")
    assert "not known here" in at_kiosk.post("/kiosk/", {"card": url}).content.decode()


# -- staff: set, remove, unlock ---------------------------------------------------------------


def lock(person) -> None:
    KioskPin.objects.filter(customer=person).update(failures=0, locked_at="2026-12-01T10:00Z")


def test_the_back_office_shows_the_lock_and_staff_unlock_it(client, cashier_a, maria, at_kiosk):
    lock(maria)
    client.force_login(cashier_a.user)
    page = client.get(f"/customers/{maria.code}/").content.decode()
    assert "Kiosk locked after too many wrong PINs." in page and "Unlock the kiosk" in page

    done = client.post(f"/customers/{maria.code}/kiosk-pin/", {"do": "unlock"})
    assert done.status_code == 302
    assert KioskPin.objects.get(customer=maria).locked_at is None
    assert AuditEvent.objects.get(action="kiosk.unlocked").staff == cashier_a
    assert scan_and_type(at_kiosk, maria, PIN)["Location"] == "/kiosk/account/"


def test_staff_set_and_remove_a_pin_hashed_and_audited(client, manager, business):
    person = make_customer("Li Wei")
    client.force_login(manager.user)
    easy = client.post(f"/customers/{person.code}/kiosk-pin/", {"do": "set", "pin": "1234"})
    assert easy.status_code == 302 and not KioskPin.objects.filter(customer=person).exists()
    assert "too easy" in client.get(f"/customers/{person.code}/").content.decode()

    client.post(f"/customers/{person.code}/kiosk-pin/", {"do": "set", "pin": "5830"})
    held = KioskPin.objects.get(customer=person)
    assert held.pin_hash != "5830" and check_password("5830", held.pin_hash)
    event = AuditEvent.objects.get(action="customer.kiosk_pin_set")
    assert event.staff == manager and event.after == {"how": "backoffice"}
    assert "5830" not in str(event.after)

    client.post(f"/customers/{person.code}/kiosk-pin/", {"do": "remove"})
    assert not KioskPin.objects.filter(customer=person).exists()
    assert AuditEvent.objects.filter(action="customer.kiosk_pin_cleared").count() == 1


def test_the_accountant_may_not_touch_a_pin(client, accountant, maria):
    client.force_login(accountant.user)
    assert "Kiosk PIN" not in client.get(f"/customers/{maria.code}/").content.decode()
    refused = client.post(f"/customers/{maria.code}/kiosk-pin/", {"do": "remove"})
    assert refused.status_code == 403
    assert KioskPin.objects.filter(customer=maria).exists()


# -- the customer's own page --------------------------------------------------------------------


def test_the_customer_sets_a_pin_on_their_own_page_after_the_bystander_check(client, business):
    person = make_customer("Li Wei", balance="5.00")
    customers.update(person, customers.Profile(phone="+12125550188"), by=None)
    page = f"/c/{person.cards.first().token}"
    assert "Set a PIN for the shop's kiosk" in client.get(page).content.decode()

    wrong = client.post(f"{page}/kiosk-pin", {"answer": "1111", "pin": "5830", "again": "5830"})
    assert "not what the shop has" in wrong.content.decode()
    assert not KioskPin.objects.filter(customer=person).exists()
    differs = client.post(f"{page}/kiosk-pin", {"answer": "0188", "pin": "5830", "again": "5831"})
    assert "not the same" in differs.content.decode()

    done = client.post(f"{page}/kiosk-pin", {"answer": "0188", "pin": "5830", "again": "5830"})
    assert "Your kiosk PIN is set" in done.content.decode()
    assert check_password("5830", KioskPin.objects.get(customer=person).pin_hash)
    event = AuditEvent.objects.get(action="customer.kiosk_pin_set")
    assert event.staff is None and event.after == {"how": "portal"}


def test_a_new_pin_from_the_own_page_ends_the_lock(client, maria, at_kiosk):
    lock(maria)
    page = f"/c/{maria.cards.first().token}"
    answer = {"answer": "maria@example.com", "pin": "6183", "again": "6183"}
    client.post(f"{page}/kiosk-pin", answer)
    assert KioskPin.objects.get(customer=maria).locked_at is None
    assert scan_and_type(at_kiosk, maria, "6183")["Location"] == "/kiosk/account/"


def test_a_finder_guessing_on_the_pin_page_gets_few_tries(client, maria):
    page = f"/c/{maria.cards.first().token}"
    for guess in ("1111", "2222", "3333"):
        client.post(f"{page}/kiosk-pin", {"answer": guess, "pin": "5830", "again": "5830"})
    waits = client.post(f"{page}/kiosk-pin", {"answer": "0123", "pin": "5830", "again": "5830"})
    assert "Too many failed attempts" in waits.content.decode()
    assert check_password(PIN, KioskPin.objects.get(customer=maria).pin_hash)


def test_without_phone_or_email_the_pin_is_set_at_the_counter(client, business):
    person = make_customer("Li Wei")
    page = client.get(f"/c/{person.cards.first().token}/kiosk-pin").content.decode()
    assert "ask at the counter to set your PIN" in page


# -- privacy ------------------------------------------------------------------------------------


def test_erasure_removes_the_pin_and_the_export_only_says_whether_one_is_set(maria, owner):
    exported = privacy.export(maria)
    assert exported["kiosk_pin"]["set"] is True and exported["kiosk_pin"]["locked"] is False
    assert "pbkdf2" not in str(exported) and "argon2" not in str(exported)
    held = KioskPin.objects.get(customer=maria)
    assert held.pin_hash not in str(exported)

    customers.erase_profile(maria, by=owner)
    assert not KioskPin.objects.filter(customer=maria).exists()
    assert privacy.export(maria)["kiosk_pin"] == {"set": False}
