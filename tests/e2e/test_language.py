"""The language selector in the header switches the whole page's language."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import flows
from tests.e2e.chromium import require_chromium
from tests.e2e.flows import OWNER, PASSWORD

pytestmark = pytest.mark.e2e
# The page's text without <code> (literal values such as a file's column headers, the
# same in every language).
VISIBLE_PROSE = """() => {
  const hidden = [...document.querySelectorAll("code")];
  hidden.forEach((element) => { element.hidden = true; });
  const text = document.body.innerText;
  hidden.forEach((element) => { element.hidden = false; });
  return text;
}"""
require_chromium()


def test_language_selector_switches_to_chinese_and_dutch(page: Page, shop, screenshot) -> None:
    page.goto("/")
    flows.log_in(page, OWNER, PASSWORD)
    html = page.locator("html")
    selector = page.locator("header select[name=language]")
    expect(html).to_have_attribute("lang", "en")
    expect(selector.locator("option")).to_have_text(["English", "简体中文", "Nederlands"])

    flows.choose_language(page, "zh-hans")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(selector).to_have_value("zh-hans")
    expect(page.locator("header .brand")).to_have_text("Agua Pura Refilling")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator(".tile")).to_have_count(5)
    screenshot(page, "overview-zh-hans")

    # The choice is kept: a new visit is still in Chinese.
    page.reload()
    expect(html).to_have_attribute("lang", "zh-hans")

    flows.choose_language(page, "nl")
    expect(html).to_have_attribute("lang", "nl")
    expect(selector).to_have_value("nl")
    expect(page.locator(".tile")).to_have_count(5)
    screenshot(page, "overview-nl")

    flows.choose_language(page, "en")
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()


def test_language_selector_works_on_the_setup_form(page: Page, screenshot) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup/$"))

    flows.choose_language(page, "zh-hans")
    expect(page).to_have_url(re.compile(r"/setup/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("form .field")).to_have_count(8)
    screenshot(page, "setup-form-zh-hans")


@pytest.mark.parametrize("language", ["zh-hans", "nl"])
def test_the_back_office_has_no_english_left(page: Page, shop, screenshot, language) -> None:
    from tests.test_translations import untranslated_in

    page.goto("/")
    flows.log_in(page, OWNER, PASSWORD)
    flows.choose_language(page, language)
    seen = []
    paths = ["/", "/customers/", "/customers/new/", "/shop/products/", "/shop/products/new/",
             "/shop/plans/new/", "/shop/staff/", "/shop/staff/new/", "/shop/tokens/new/",
             "/account/two-step/", "/activity/", "/settings/", "/reports/", "/reports/statement/",
             "/reports/liability/", "/reports/balances/", "/reports/closes/",
             "/reports/closes/running/", "/reports/settlements/",
             "/reports/settlements/new/"]  # fmt: skip
    for path in paths:
        page.goto(path)
        seen.append(page.evaluate(VISIBLE_PROSE))
        screenshot(page, f"{language}-{path.strip('/').replace('/', '-') or 'overview'}")
    sources = ("backoffice/", "sales/setup.py", "web/templates/web/reports/", "closing/")
    assert untranslated_in(language, seen, sources=sources) == []
