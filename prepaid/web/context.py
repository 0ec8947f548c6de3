from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from prepaid.staff.models import Business
from prepaid.web.people import allowed
from prepaid.webhooks.services import disabled_for


def business(request: HttpRequest) -> dict[str, object]:
    """The business (set by BusinessMiddleware: no second query) and what the signed-in
    staff member may do, for the navigation and the buttons."""
    shop = getattr(request, "business", None) or Business.current()
    staff = getattr(request, "staff", None)
    return {
        "business": shop,
        "staff": staff,
        "can_write": allowed(staff, "customers.write"),
        "can_read_customers": allowed(staff, "customers.read"),
        "can_stock_cards": allowed(staff, "cards.stock"),
        "can_read_reports": allowed(staff, "reports.read"),
        "can_change_settings": allowed(staff, "settings"),
        "can_manage_catalog": allowed(staff, "catalog.write"),
        "can_issue_coupons": allowed(staff, "coupons.issue"),
        "can_manage_staff": allowed(staff, "staff.write"),
        "can_use_two_step": allowed(staff, "two_step"),
        "can_see_activity": allowed(staff, "activity"),
        "can_see_approvals": allowed(staff, "approvals.read"),
        "can_manage_webhooks": allowed(staff, "webhooks"),
        "webhooks_disabled": disabled_for(staff),
        "language_next": language_next(request),
    }


def language_next(request: HttpRequest) -> str:
    """Where the language switch returns to: this page, when it can be asked for again
    (a GET); after a form was sent (a refused sale, a form with errors: a POST-only
    address), the page the form was on, from the request's own Referer when it is this
    site's; else the start page. Never an address that answers only POST (a 405)."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"
