"""The counter in Chromium at tablet size: unlock with a PIN, scan or search, sell in
three actions, top up, refusals, double submits, undo, the idle lock, three languages."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image
from playwright.sync_api import Page, expect

from prepaid.catalog import services as catalog
from prepaid.catalog.models import Product
from prepaid.customers import services as customers
from prepaid.ledger.models import Batch, Transfer
from prepaid.ledger.verify import verify
from prepaid.sales import services as sales
from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from prepaid.staff.models import Business, Staff, Store
from tests.e2e import chromium
from tests.e2e.chromium import require_chromium
from tests.factories import make_actor, make_customer
from tests.test_translations import untranslated_in

pytestmark = pytest.mark.e2e
require_chromium()
PIN = "4827"
TABLET = {"width": 1024, "height": 600}


@pytest.fixture
def counter(shop: Staff, live_server: Any) -> dict[str, Any]:
    """A counter enrolled at the shop's store, a cashier with a PIN, products, a
    customer with 100.00, and a plan."""
    store = Store.objects.get()
    cashier = Staff.objects.create(name="Carlos", role=Staff.Role.CASHIER)
    cashier.stores.add(store)
    counters.set_pin(cashier, PIN, by=shop)
    _device, secret = counters.enroll(store, "Till 1", by=shop)
    water = catalog.create_product(
        catalog.ProductChange(name="Purified water", unit="gallon", unit_price=Decimal("0.35")),
        by=shop,
    )
    Product.objects.create(name="Alkaline water", unit="gallon", unit_price=Decimal("50"))
    plan = catalog.save_plan(None, name="100 → +10", amount_minor=10000, bonus_minor=1000, by=shop)
    maria = make_customer("Maria Santos", balance="100.00", actor=make_actor(store, shop))
    maria = customers.update(maria, customers.Profile(phone="0917 123 4567"), by=shop)
    return {
        "secret": secret,
        "cashier": cashier,
        "water": water,
        "plan": plan,
        "maria": maria,
        "url": live_server.url,
    }


def open_counter(page: Page, counter: dict[str, Any], *, unlock: bool = True) -> None:
    page.set_viewport_size(TABLET)
    page.context.add_cookies([{"name": COOKIE, "value": counter["secret"], "url": counter["url"]}])
    page.goto("/counter/")
    if unlock:
        page.get_by_role("link", name="Carlos").click()
        page.get_by_label("PIN").fill(PIN)
        page.get_by_role("button", name="Unlock").click()
        expect(page.get_by_role("searchbox", name="Scan or search")).to_be_focused()


def sales_count() -> int:
    return Batch.objects.filter(code=Batch.Code.SALE).count()


def test_scan_then_sell_five_gallons_in_three_actions(page: Page, counter, screenshot) -> None:
    open_counter(page, counter)
    screenshot(page, "identify")
    maria = counter["maria"]
    box = page.get_by_role("searchbox", name="Scan or search")

    box.fill(maria.cards.get().url)  # 1. the scanner types the card's URL…
    box.press("Enter")  # …and Enter
    expect(page.get_by_role("heading", name="Maria Santos")).to_be_visible()
    page.get_by_role("button", name="Purified water × 5").click()  # 2. product and quantity
    expect(page.locator("#camera-box")).to_be_hidden()
    expect(page.locator("#top-up-form")).to_be_hidden()
    expect(page.locator("#total")).to_have_text("₱1.75")
    expect(page.locator("#after")).to_have_text("₱98.25")
    screenshot(page, "panel")
    page.get_by_role("button", name="Confirm", exact=True).click()  # 3. confirm

    expect(page.locator("#new-balance")).to_have_text("₱98.25")
    screenshot(page, "receipt")
    assert sales.balances(maria).paid == 9825
    assert sales_count() == 1 and verify() == []

    page.get_by_role("link", name="Next customer").click()
    expect(page.get_by_role("searchbox", name="Scan or search")).to_be_focused()


def test_search_by_a_name_fragment_and_by_the_last_four_digits(page: Page, counter, screenshot):
    open_counter(page, counter)
    make_customer("Mario Santos")
    box = page.get_by_role("searchbox", name="Scan or search")
    found = page.get_by_role("listbox", name="Customers found").get_by_role("option")
    box.fill("ria san")
    expect(found).to_have_count(1)
    box.fill("santos")
    expect(found).to_have_count(2)
    screenshot(page, "results")
    box.press("ArrowDown")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mario Santos")

    page.get_by_role("searchbox", name="Scan or search").fill("4567")
    page.get_by_role("searchbox", name="Scan or search").press("Enter")
    expect(page.get_by_role("heading", name="Maria Santos")).to_be_visible()
    page.get_by_role("button", name="Purified water × 3").click()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator("#new-balance")).to_have_text("₱98.95")


def test_top_up_with_a_plan_in_three_actions(page: Page, counter, screenshot) -> None:
    """Scan → the plan's button → Confirm (issue #13: at most three actions), paid by
    the first payment method unless one tap changes it."""
    open_counter(page, counter)
    box = page.get_by_role("searchbox", name="Scan or search")
    box.fill(counter["maria"].cards.get().url)
    box.press("Enter")  # 1. the scanner types the card's URL and Enter
    page.get_by_role("button", name="Top up 100 → +10").click()  # 2. the plan
    expect(page.get_by_role("textbox", name="Amount")).to_have_value("100.00")
    expect(page.get_by_role("button", name="Confirm top-up")).to_be_focused()
    expect(page.get_by_role("radio", name="Cash")).to_be_checked()
    screenshot(page, "top-up")
    page.get_by_role("button", name="Confirm top-up").click()  # 3. confirm
    expect(page.locator("#new-balance")).to_have_text("₱200.00")
    assert sales.balances(counter["maria"]) == sales.Balances(20000, 1000, 0)


def test_top_up_any_amount_by_another_method(page: Page, counter) -> None:
    open_counter(page, counter)
    page.goto(f"/counter/c/{counter['maria'].code}/")
    page.get_by_role("button", name="Top up", exact=True).click()
    page.get_by_role("textbox", name="Amount").fill("50")
    page.get_by_role("radio", name="Card").check(force=True)  # styled: the label covers it
    page.get_by_role("button", name="Confirm top-up").click()
    expect(page.locator("#new-balance")).to_have_text("₱150.00")
    paid = Batch.objects.filter(code=Batch.Code.TOP_UP, customer=counter["maria"]).latest("id")
    assert paid.transfers.filter(debit_account__payment_method__code="card").exists()


def test_insufficient_balance_is_refused_with_the_shortfall(page: Page, counter, screenshot):
    open_counter(page, counter)
    page.goto(f"/counter/c/{counter['maria'].code}/")
    page.get_by_role("button", name="Alkaline water × 3").click()
    expect(page.locator("#after")).to_have_class("short")
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("₱50.00 short")
    expect(page.get_by_role("button", name="Confirm top-up")).to_be_visible()
    screenshot(page, "refused")
    assert sales_count() == 0


def test_double_click_and_reload_after_confirm_charge_once(page: Page, counter) -> None:
    open_counter(page, counter)
    page.goto(f"/counter/c/{counter['maria'].code}/")
    page.get_by_role("button", name="Purified water × 1").click()
    page.get_by_role("button", name="Confirm", exact=True).dblclick()
    expect(page.locator("#new-balance")).to_have_text("₱99.65")
    page.reload()
    expect(page.locator("#new-balance")).to_have_text("₱99.65")
    # Back to the form: no page is kept in the browser's cache (#12), so the counter asks
    # for it again and shows the balance after the sale on a fresh form. The sale just
    # made cannot be sent a second time from a stale page.
    page.go_back()
    expect(page.locator("#paid")).to_have_text("₱99.65")
    assert sales_count() == 1
    assert Transfer.objects.filter(code=Transfer.Code.SALE).count() == 1


def test_undo_the_last_sale_with_a_reason(page: Page, counter, screenshot) -> None:
    open_counter(page, counter)
    page.goto(f"/counter/c/{counter['maria'].code}/")
    page.get_by_role("button", name="Purified water × 5").click()
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.get_by_label("Reason").fill("Wrong water type")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#new-balance")).to_have_text("₱100.00")
    screenshot(page, "undone")
    assert Batch.objects.filter(code=Batch.Code.REVERSAL).count() == 1
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)


def test_wrong_pins_lock_out_and_the_counter_locks_when_idle(page: Page, counter, screenshot):
    Business.objects.filter(pk=1).update(counter_idle_minutes=1)
    page.clock.install()
    open_counter(page, counter, unlock=False)
    page.get_by_role("link", name="Carlos").click()
    for _ in range(5):
        page.get_by_label("PIN").fill("1111")
        page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many wrong PINs")
    page.get_by_label("PIN").fill(PIN)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many wrong PINs")
    screenshot(page, "locked-out")

    owner = Staff.objects.get(role="owner")
    counters.lift_lockout(counter["cashier"], by=owner)
    page.get_by_label("PIN").fill(PIN)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("searchbox", name="Scan or search")).to_be_visible()
    page.clock.run_for(61_000)
    expect(page.get_by_role("heading", name="Who is at the counter?")).to_be_visible()

    page.get_by_role("link", name="Carlos").click()
    page.get_by_label("PIN").fill(PIN)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_role("button", name="Lock").click()
    expect(page.get_by_role("heading", name="Who is at the counter?")).to_be_visible()


@pytest.mark.parametrize("language", ["zh-hans", "nl"])
def test_the_counter_has_no_english_left_in_chinese_and_dutch(
    page: Page, counter, screenshot, language: str
) -> None:
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": counter["url"]}]
    )
    open_counter(page, counter, unlock=False)
    page.locator(".person").first.click()
    page.locator("#pin").fill(PIN)
    page.locator("button.primary").click()
    seen = []
    for path in ("/counter/", f"/counter/c/{counter['maria'].code}/"):
        page.goto(path)
        if "/c/" in path:
            page.locator("button.toggle").click()
        seen.append(page.locator("body").inner_text())
        screenshot(page, f"{language}-{path.strip('/').replace('/', '-')}")
    page.locator(".preset").first.click()
    page.locator("#confirm").click()
    seen.append(page.locator("body").inner_text())
    screenshot(page, f"{language}-receipt")
    # sales/setup.py: the default payment methods, stored in English, shown translated.
    assert untranslated_in(language, seen, sources=("counter/", "sales/setup.py")) == []
    assert "Maria Santos" in seen[1]


def qr_video(text: str, path: Path) -> Path:
    """A few frames of a QR code as a Y4M video for Chromium's fake camera."""
    image = Image.open(io.BytesIO(qr_png(text))).convert("L")
    side = 480
    frame = Image.new("L", (640, side), 255)
    image = image.resize((400, 400), Image.NEAREST)
    frame.paste(image, ((640 - 400) // 2, (side - 400) // 2))
    chroma = bytes([128]) * (640 * side // 4)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W640 H{side} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return path


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


def test_scan_a_card_with_the_camera(playwright, counter, tmp_path, screenshot) -> None:
    """Chromium's fake camera shows the card's QR; Linux Chromium has no BarcodeDetector,
    so the vendored decoder reads it."""
    video = qr_video(counter["maria"].cards.get().url, tmp_path / "card.y4m")
    browser = playwright.chromium.launch(
        executable_path=chromium.executable(),
        args=[
            *chromium.ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = browser.new_context(base_url=counter["url"], permissions=["camera"])
        errors: list[str] = []
        chromium.watch_policy(context, errors.append)  # the decoder is loaded as a file
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        open_counter(page, counter)
        page.get_by_role("button", name="Scan with camera").click()
        expect(page.get_by_role("heading", name="Maria Santos")).to_be_visible(timeout=20_000)
        screenshot(page, "camera")
        assert errors == []
    finally:
        browser.close()


def test_the_counter_fits_a_phone(page: Page, counter, screenshot) -> None:
    open_counter(page, counter)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/counter/c/{counter['maria'].code}/")
    page.get_by_role("button", name="Purified water × 5").click()
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_be_visible()
    screenshot(page, "phone")
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
    )
    assert wide == []


@pytest.mark.parametrize("language", ["en", "zh-hans", "nl"])
def test_a_punch_card_is_used_in_three_actions(
    page: Page, counter, screenshot, language: str
) -> None:
    """Scan, "Punch card: 11 left" on the product, Confirm: one use, the money balance
    untouched; in Chinese and Dutch no English is left on the panel or the receipt."""
    from prepaid.programs import services as programs

    maria, water = counter["maria"], counter["water"]
    package = programs.create_package(
        name="10 refills", product=water, count=10, bonus_count=1, price_minor=25000,
        valid_days=90, by=None,
    )  # fmt: skip
    store = Store.objects.get()
    programs.sell_package(
        maria,
        package,
        method=sales_method(),
        key="card",
        actor=make_actor(store, counter["cashier"]),
    )
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": counter["url"]}]
    )
    open_counter(page, counter, unlock=False)
    page.locator(".person").first.click()
    page.locator("#pin").fill(PIN)
    page.locator("button.primary").click()
    box = page.locator("input[name=q]")
    expect(box).to_be_focused()

    box.fill(maria.cards.get().url)  # 1. scan
    box.press("Enter")
    page.locator(".product .card-use").first.click()  # 2. the card's button on the product
    expect(page.locator("#total")).to_have_text("1")
    expect(page.locator("#after")).to_have_text("10")
    seen = [page.locator("body").inner_text()]
    screenshot(page, f"{language}-punch-card")
    page.locator("#confirm").click()  # 3. confirm

    expect(page.locator(".receipt")).to_be_visible()
    seen.append(page.locator("body").inner_text())
    screenshot(page, f"{language}-punch-card-receipt")
    assert [held.remaining for held in programs.holdings(maria)] == [10]
    assert sales.balances(maria).paid == 10000 and verify() == []
    if language != "en":
        assert untranslated_in(language, seen, sources=("counter/", "sales/setup.py")) == []


def sales_method():
    from prepaid.ledger.models import PaymentMethod

    return PaymentMethod.objects.get(code="cash")


def test_a_walk_in_customer_is_registered_and_served_within_a_minute(
    page: Page, counter, screenshot
) -> None:
    """Nobody found → "New customer: …" → one short form → the panel with their card's
    QR code → top up and sell (issue #13)."""
    open_counter(page, counter)
    box = page.get_by_role("searchbox", name="Scan or search")
    box.fill("Rosa Diaz")
    page.get_by_role("link", name="New customer: Rosa Diaz").click()
    expect(page.get_by_label("Name")).to_have_value("Rosa Diaz")
    page.get_by_label("Phone").fill("0918 555 0101")
    page.get_by_label("Agrees to marketing by SMS").check()
    screenshot(page, "new-customer")
    page.get_by_role("button", name="Register and open").click()

    expect(page.get_by_role("heading", name="Rosa Diaz")).to_be_visible()
    expect(page.get_by_role("heading", name="Their card")).to_be_visible()
    expect(page.locator(".new-card svg")).to_be_visible()
    screenshot(page, "new-card")
    page.get_by_role("button", name="Top up 100 → +10").click()
    page.get_by_role("button", name="Confirm top-up").click()
    expect(page.locator("#new-balance")).to_have_text("₱100.00")
    rosa = customers.with_phone("+639185550101").get()
    assert rosa.name == "Rosa Diaz" and rosa.marketing_sms
    assert sales.balances(rosa).paid == 10000 and verify() == []


def test_a_refund_with_the_managers_pin_at_the_till(page: Page, counter, shop, screenshot):
    """The cashier opens the refund, the owner at their side types their PIN (#13)."""
    counters.set_pin(shop, "3619", by=shop)
    shop.stores.add(Store.objects.get())
    open_counter(page, counter)
    page.goto(f"/counter/c/{counter['maria'].code}/")
    page.get_by_role("button", name="Refund or close, with a manager").click()
    expect(page.get_by_label("Amount", exact=True).last).to_have_value("100.00")
    page.get_by_label("Reason").last.fill("Moving away")
    page.get_by_label("Then close the account").check()
    page.get_by_label("Manager", exact=True).select_option(label=shop.name)
    page.get_by_label("Manager's PIN").fill("3619")
    screenshot(page, "refund")
    page.locator("#refund-form").get_by_role("button", name="Refund").click()
    expect(page.locator("#new-balance")).to_have_text("₱0.00")
    expect(page.get_by_text("The account is closed.")).to_be_visible()
    assert sales.balances(counter["maria"]).paid == 0 and verify() == []
