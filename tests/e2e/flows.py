"""What a person does in the browser, step by step, shared by the e2e tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from prepaid.staff import setup_code

OWNER = "olivia"
PASSWORD = "water-is-life-1"


def fill_setup_form(
    page: Page,
    *,
    business: str = "Agua Pura Refilling",
    currency: str = "php",
    region: str = "ph",
    time_zone: str = "Asia/Manila",
    store: str = "Quezon Avenue",
    owner: str = OWNER,
    password: str = PASSWORD,
    code: str | None = None,
) -> None:
    """``code``: the set-up code; by default the one ``prepaid serve`` would print."""
    page.get_by_label("Set-up code").fill(setup_code.code() if code is None else code)
    page.get_by_label("Business name").fill(business)
    page.get_by_label("Currency").fill(currency)
    page.get_by_label("Country").fill(region)
    page.get_by_label("Time zone").select_option(time_zone)
    page.get_by_label("First store").fill(store)
    page.get_by_label("Owner user name").fill(owner)
    page.get_by_label("Password").fill(password)


def submit_setup_form(page: Page) -> None:
    page.get_by_role("button", name="Create my shop").click()
    page.wait_for_load_state()


def log_in(page: Page, username: str, password: str) -> None:
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def choose_language(page: Page, code: str) -> None:
    """Pick a language in the header's selector; its change event posts the form."""
    with page.expect_navigation():
        page.locator("header select[name=language]").select_option(code)
    page.wait_for_load_state()
