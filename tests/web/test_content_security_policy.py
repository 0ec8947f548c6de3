"""A Content-Security-Policy without ``unsafe-inline`` (#12): every page says that only
the site's own files may run or style it, and no page holds an inline script, event
handler, <style> or style attribute that the policy would block. The browser's side
(no violation while the e2e tests click through) is checked by tests/e2e/conftest.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from prepaid.catalog.models import Product
from prepaid.customers.models import Card
from prepaid.staff import counters
from prepaid.web.middleware import CONTENT_SECURITY_POLICY
from tests.counter.conftest import PINS, at_counter
from tests.factories import make_customer, make_product

pytestmark = pytest.mark.django_db

# Every page's template. The e-mails to customers (messaging/) are no pages: no browser
# loads them under this policy, and mail programs read only inline styles.
TEMPLATES = sorted(
    path
    for path in (Path(__file__).resolve().parents[2] / "prepaid").glob("*/templates/**/*.html")
    if "messaging" not in path.parts
)

# What the policy blocks, as it appears in markup.
INLINE = {
    # Data (type="application/json", as Swagger UI's settings) is not run.
    "inline script": re.compile(r"<script\b(?![^>]*\b(?:src=|type=\"application/json\"))", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "htmx hx-on": re.compile(r"\s(?:data-)?hx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def inline_code(html: str) -> list[str]:
    """The kinds of inline code in ``html``, with the text around each."""
    return [
        f"{kind}: {html[max(0, found.start() - 40) : found.end() + 40]!r}"
        for kind, pattern in INLINE.items()
        for found in pattern.finditer(html)
    ]


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def assert_held(response) -> None:
    """The page carries the policy, the policy allows no inline code, and the page
    holds none."""
    assert response.status_code == 200, response.status_code
    policy = directives(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert inline_code(response.content.decode()) == []


def test_the_policy_allows_only_the_sites_own_files():
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "*" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


def test_the_setup_form_of_an_empty_installation(client):
    assert_held(client.get("/setup/"))


def test_the_login_page_and_a_missing_page(client, business):
    assert_held(client.get("/login/"))
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert "unsafe" not in missing["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/customers/",
        "/customers/{code}/",
        "/customers/print/?code={code}",
        "/customers/print/?code={code}&layout=sheet",
        "/shop/products/",
        "/reports/",
        "/reports/balances/",
        "/reports/liability/",
        "/reports/closes/running/",
        "/activity/",
        "/settings/",
        "/shop/staff/",
        "/shop/webhooks/",
        "/shop/coupons/",
    ],
)
def test_back_office_pages(client, owner, actor, path):
    maria = make_customer("Maria Santos", balance="5.00", actor=actor)
    water = make_product("Purified water", price="0.25")
    Product.objects.filter(pk=water.pk).update(colour="#1e88e5")
    client.force_login(owner.user)
    assert_held(client.get(path.format(code=maria.code)))


def test_the_counter_its_customer_page_and_a_receipt(store_a, owner, cashier_a, actor):
    maria = make_customer("Maria Santos", balance="5.00", actor=actor)
    water = make_product("Purified water", price="0.25")
    Product.objects.filter(pk=water.pk).update(colour="#1e88e5")
    device, secret = counters.enroll(store_a, "Till 1", by=owner)
    device.secret = secret
    counters.set_pin(cashier_a, PINS["Carlos"], by=owner)
    till: Client = at_counter(device)
    assert_held(till.get("/counter/unlock/"))  # the PIN pad
    till.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": PINS["Carlos"]})
    assert_held(till.get("/counter/"))
    customer_page = till.get(f"/counter/c/{maria.code}/")
    assert_held(customer_page)
    assert 'data-tint="#1e88e5"' in customer_page.content.decode()  # app.js paints it


def test_the_customers_own_page(client, actor):
    card = Card.objects.get(customer=make_customer("Maria", balance="5.00", actor=actor))
    assert_held(client.get(f"/c/{card.token}"))


def test_the_api_docs_page(client, business):
    """Swagger UI is served by django-ninja from this site, its settings as JSON data
    and its start-up in a file (tests/e2e/test_content_security_policy.py loads it in
    Chromium)."""
    assert_held(client.get("/api/v1/docs"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: "/".join(path.parts[-3:]))
def test_no_template_holds_inline_code(template):
    """Values a script needs travel in data-* attributes; styles live in the static
    stylesheets (web/static/prepaid/app.js reads the attributes)."""
    assert inline_code(template.read_text()) == []
