"""The customer kiosk in Chromium at tablet size (issue #13, docs/kiosk.md): the owner
enrols the browser as a kiosk; a customer scans their card (a USB scanner types the
card's URL and Enter), types their PIN on the keypad, reads their balance, and is done;
five wrong PINs lock the card out of the kiosk."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from prepaid.customers import pins
from prepaid.customers import services as customers
from prepaid.customers.models import KioskPin
from prepaid.portal import kiosk
from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from prepaid.staff.models import Device, Staff, Store
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD, choose_language, log_in
from tests.factories import make_actor, make_customer

pytestmark = pytest.mark.e2e
require_chromium()
PIN = "4071"
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def maria(shop: Staff, live_server: Any) -> dict[str, Any]:
    store = Store.objects.get()
    person = make_customer("Maria Santos", balance="250.00", actor=make_actor(store, shop))
    person = customers.update(person, customers.Profile(phone="0917 123 4567"), by=shop)
    pins.set_pin(person, PIN, by=shop, how="backoffice")
    return {"customer": person, "card": f"/c/{person.cards.get().token}"}


def enrol_as_kiosk(page: Page, screenshot=None) -> None:
    page.set_viewport_size(TABLET)
    page.goto("/kiosk/")
    expect(page.get_by_role("heading", name="This browser is not a kiosk yet")).to_be_visible()
    page.get_by_role("link", name="Owner sign-in").click()
    log_in(page, OWNER, PASSWORD)
    expect(page.get_by_label("Customer kiosk")).to_be_checked()
    if screenshot:
        screenshot(page, "enrol")
    page.get_by_label("Name of this kiosk").fill("Wall tablet")
    page.get_by_role("button", name="Enroll this browser").click()
    expect(page.get_by_role("heading", name="Scan your card")).to_be_visible()


def type_card(page: Page, card: str) -> None:
    """What a USB scanner does: type the QR's text into the focused box, then Enter."""
    expect(page.get_by_role("heading", name="Scan your card")).to_be_visible()
    page.wait_for_load_state()
    expect(page.get_by_label("Card")).to_be_focused()
    page.keyboard.type(card)
    page.keyboard.press("Enter")


def scan(page: Page, card: str) -> None:
    type_card(page, card)
    expect(page.get_by_role("heading", name="Type your PIN")).to_be_visible()


def tap_pin(page: Page, pin: str) -> None:
    page.wait_for_load_state()  # the keypad's script runs before "load", not before paint
    keypad = page.locator("[data-keypad]")
    for digit in pin:
        keypad.get_by_role("button", name=digit, exact=True).click()
    keypad.get_by_role("button", name="OK").click()


def test_scan_type_the_pin_see_the_balance_then_done(page: Page, maria, screenshot, live_server):
    enrol_as_kiosk(page, screenshot)
    assert Device.objects.get(name="Wall tablet").kind == Device.Kind.KIOSK
    screenshot(page, "scan")
    scan(page, live_server.url + maria["card"])
    tap_pin(page, "40")
    expect(page.get_by_label("PIN")).to_have_value("40")
    page.locator("[data-keypad]").get_by_role("button", name="Delete a digit").click()
    expect(page.get_by_label("PIN")).to_have_value("4")
    page.get_by_label("PIN").fill("")
    screenshot(page, "keypad")
    tap_pin(page, PIN)

    expect(page.get_by_role("heading", name="Hello, Maria Santos")).to_be_visible()
    expect(page.locator(".tiles")).to_contain_text("250.00")
    expect(page.get_by_text("Top-up")).to_be_visible()
    assert "4567" not in page.content()
    screenshot(page, "balance")
    choose_language(page, "zh-hans")
    expect(page.get_by_role("heading", name="Maria Santos，您好")).to_be_visible()
    screenshot(page, "balance-zh")
    choose_language(page, "en")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Scan your card")).to_be_visible()
    page.goto("/kiosk/account/")  # the back button shows nothing any more
    expect(page.get_by_role("heading", name="Scan your card")).to_be_visible()


def test_five_wrong_pins_lock_the_card_out_of_the_kiosk(page: Page, maria, screenshot, live_server):
    enrol_as_kiosk(page)
    scan(page, live_server.url + maria["card"])
    for left in (4, 3, 2, 1):
        tap_pin(page, "9999")
        expect(page.get_by_role("alert")).to_have_text(
            f"Wrong PIN. {left} {'try' if left == 1 else 'tries'} left."
        )
    tap_pin(page, "9999")
    expect(page.get_by_role("heading", name="Kiosk locked for this card")).to_be_visible()
    screenshot(page, "locked")
    assert KioskPin.objects.get(customer=maria["customer"]).locked_at is not None
    page.get_by_role("link", name="Back").click()
    type_card(page, live_server.url + maria["card"])  # the next try: still locked
    expect(page.get_by_role("heading", name="Kiosk locked for this card")).to_be_visible()


def test_the_customer_sets_their_pin_on_their_phone(page: Page, maria, screenshot) -> None:
    KioskPin.objects.all().delete()
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(maria["card"])
    page.get_by_role("link", name="Set a PIN for the shop's kiosk").click()
    page.get_by_label("The last 4 digits of your phone number, or your e-mail address").fill("4567")
    page.get_by_label("New PIN").fill("5830")
    page.get_by_label("The same PIN again").fill("5830")
    screenshot(page, "portal-pin")
    page.get_by_role("button", name="Set my PIN").click()
    expect(page.get_by_role("heading", name="Your kiosk PIN is set")).to_be_visible()
    assert KioskPin.objects.filter(customer=maria["customer"]).exists()


def test_the_cashier_sees_the_lock_and_unlocks_it_at_the_counter(
    page: Page, maria, shop: Staff, live_server, screenshot
) -> None:
    store = Store.objects.get()
    cashier = Staff.objects.create(name="Carlos", role=Staff.Role.CASHIER)
    cashier.stores.add(store)
    counters.set_pin(cashier, "4827", by=shop)
    _till, secret = counters.enroll(store, "Till 1", by=shop)
    KioskPin.objects.update(locked_at=timezone.now())
    page.set_viewport_size(TABLET)
    page.context.add_cookies([{"name": COOKIE, "value": secret, "url": live_server.url}])
    page.goto("/counter/")
    page.get_by_role("link", name="Carlos").click()
    page.get_by_label("PIN").fill("4827")
    page.get_by_role("button", name="Unlock").click()
    page.goto(f"/counter/c/{maria['customer'].code}/")
    panel = page.locator("#kiosk-pin")
    expect(panel).to_contain_text("Kiosk locked after too many wrong PINs.")
    panel.scroll_into_view_if_needed()
    screenshot(page, "counter-panel")
    panel.get_by_role("button", name="Unlock the kiosk").click()
    expect(page.get_by_role("status").first).to_contain_text("may use the kiosk again")
    assert KioskPin.objects.get().locked_at is None


def test_the_account_goes_back_to_the_scan_screen_by_itself(
    page: Page, maria, live_server, monkeypatch
) -> None:
    monkeypatch.setattr(kiosk, "IDLE_SECONDS", 3)  # the live server runs in this process
    enrol_as_kiosk(page)
    scan(page, live_server.url + maria["card"])
    tap_pin(page, PIN)
    expect(page.get_by_role("heading", name="Hello, Maria Santos")).to_be_visible()
    # Nobody touches the screen: the page sends Done itself.
    expect(page.get_by_role("heading", name="Scan your card")).to_be_visible(timeout=15_000)
    page.goto("/kiosk/account/")
    expect(page.get_by_role("heading", name="Scan your card")).to_be_visible()
