"""The customer's page behind their card's QR: balance, history, the QR to show.

No password: the card token is the key (144 random bits, revocable). The page shows no
contact data, so a found card reveals a balance and a first name's worth of history at
most; a lost card is replaced from the back office and its page is gone at once.
"""

from __future__ import annotations

import csv
import hmac
import io
import zoneinfo
from datetime import datetime, timedelta

import segno
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from prepaid.catalog import tiers
from prepaid.customers import lookup, pins
from prepaid.customers import services as customers
from prepaid.customers.cards import qr_svg
from prepaid.customers.models import Card, Customer
from prepaid.lib import sealing
from prepaid.lib.money import from_minor
from prepaid.lib.phones import mask_phone
from prepaid.programs import services as programs
from prepaid.reports import customers as customer_report
from prepaid.reports import statement_pdf as statement_pdf_report
from prepaid.reports.exports import neutralise
from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.staff import logins
from prepaid.staff.models import Business, LoginThrottle


def _live(token: str) -> Card | None:
    return (
        Card.objects.select_related("customer")
        .filter(token_digest=sealing.digest(token), revoked_at__isnull=True)
        .filter(customer__status="active")
        .first()
    )


@never_cache
def card(request: HttpRequest, token: str) -> HttpResponse:
    found = _live(token)
    if found is None:
        if lookup.blank(token) is not None:  # a pre-printed card nobody holds yet
            return render(request, "portal/blank.html")
        return render(request, "portal/invalid.html", status=404)
    customer = found.customer
    page = _page_number(request.GET.get("page"))
    history = customer_report.history(customer, limit=PAGE + 1, offset=(page - 1) * PAGE)
    business = Business.get()
    context = {
        **account(customer),
        "history": history[:PAGE],
        "page": page,
        "older": page + 1 if len(history) > PAGE else None,
        "newer": page - 1 if page > 1 else None,
        "months": customer_report.statement_months(customer, business.time_zone),
        "qr": qr_svg(found, scale=5),
        "token": token,
        "phone_masked": mask_phone(customer.phone),
        "email_masked": mask_email(customer.email),
        "privacy_notice": business.privacy_notice,
    }
    response = render(request, "portal/card.html", context)
    # The token is in the URL: it must not leave for another site. (Not "no-referrer":
    # the browser then sends "Origin: null" with the page's own language form, which
    # the CSRF check refuses.)
    response["Referrer-Policy"] = "same-origin"
    return response


def account(customer: Customer, *, history: int = 0) -> dict[str, object]:
    """What the customer's own page and the shop's kiosk show alike (the templates
    ``portal/tiles.html``, ``web/punch_cards.html`` and ``portal/history.html``): the
    balances, tier, points, passes and punch cards, and ``history`` recent
    transactions. Never contact data."""
    return {
        "customer": customer,
        "balances": sales.balances(customer),
        "punch_cards": programs.holdings(customer),
        "passes": programs.passes(customer),
        "member": tiers.held(customer.pk),
        "points_held": points.balance(customer),
        "history": customer_report.history(customer, limit=history) if history else [],
    }


PAGE = 20  # transactions per page of the customer's history
LAST_PAGE = 10_000  # an absurd page number is the last there could be, not an error


def mask_email(email: str) -> str:
    """Enough for the customer to recognise, not for a bystander to write to:
    "m•••@example.com"."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}•••{at}{domain}" if at else ""


def _page_number(text: str | None) -> int:
    try:
        return min(max(int(text or 1), 1), LAST_PAGE)
    except ValueError:
        return 1


@never_cache
def statement(request: HttpRequest, token: str, year: int, month: int) -> HttpResponse:
    """The customer's statement of one month as CSV (UTF-8 with a BOM, for Excel): the
    balances at its start, each transaction with the balances after it, and at its end.
    Money in major units; dates in the shop's time zone."""
    found = _live(token)
    if found is None or not 1 <= month <= 12 or not 2000 <= year <= 9999:
        return render(request, "portal/invalid.html", status=404)
    business = Business.get()
    zone = zoneinfo.ZoneInfo(business.time_zone)
    kept = _month(found.customer, zone, year, month)
    rows = _statement_rows(kept, business.currency, zone)
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    response = HttpResponse(("\ufeff" + text.getvalue()).encode(), content_type="text/csv")
    name = f"statement-{found.customer.code}-{year:04d}-{month:02d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def statement_pdf(request: HttpRequest, token: str, year: int, month: int) -> HttpResponse:
    """The same statement as a PDF to print or keep: the shop, the customer, the month
    in the page's language, the balances, each transaction, the totals (reports.
    statement_pdf; the font: lib.pdf)."""
    found = _live(token)
    if found is None or not 1 <= month <= 12 or not 2000 <= year <= 9999:
        return render(request, "portal/invalid.html", status=404)
    business = Business.get()
    kept = _month(found.customer, zoneinfo.ZoneInfo(business.time_zone), year, month)
    document = statement_pdf_report.render(kept, found.customer, business, get_language() or "en")
    response = HttpResponse(document, content_type="application/pdf")
    name = f"statement-{found.customer.code}-{year:04d}-{month:02d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Referrer-Policy"] = "no-referrer"
    return response


def _month(
    customer: Customer, zone: zoneinfo.ZoneInfo, year: int, month: int
) -> customer_report.Statement:
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return customer_report.statement(customer, start, end)


def _statement_rows(
    kept: customer_report.Statement, currency: str, zone: zoneinfo.ZoneInfo
) -> list[list[object]]:
    def major(minor: int) -> str:
        return str(from_minor(minor, currency))

    rows: list[list[object]] = [
        [_("Date"), _("Transaction"), _("Paid"), _("Bonus"), _("Paid balance"), _("Bonus balance")],
        [kept.start.date().isoformat(), _("Opening balance"), "", "", *map(major, kept.opening)],
    ]
    for batch, paid, bonus, paid_after, bonus_after in kept.rows:
        what = statement_pdf_report.describe(batch)
        when = batch.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        rows.append(
            [
                when,
                neutralise(what),
                major(paid),
                major(bonus),
                major(paid_after),
                major(bonus_after),
            ]
        )
    last = (kept.end - timedelta(days=1)).date().isoformat()
    rows.append([last, _("Closing balance"), "", "", *map(major, kept.closing)])
    return rows


@never_cache
def report_lost(request: HttpRequest, token: str) -> HttpResponse:
    """ "My card is lost": every card of the customer stops at once (the balance stays;
    the shop issues a new card). Whoever found the card must not do it for fun: the
    page asks for the last four digits of the customer's phone, or their e-mail
    address, with few tries (``staff.logins``, the card's own count)."""
    found = _live(token)
    if found is None:
        return render(request, "portal/invalid.html", status=404)
    person = found.customer
    context: dict[str, object] = {"customer": person, "token": token}
    if not (person.phone or person.email):
        context["no_contact"] = True
    elif request.method == "POST":
        if not (error := _unproven(request, found)):
            customers.freeze_cards(person, reason="reported lost by the customer")
            return render(request, "portal/lost_done.html", {"customer": person})
        context["error"] = error
    response = render(request, "portal/lost.html", context)
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
def kiosk_pin(request: HttpRequest, token: str) -> HttpResponse:
    """ "Set a PIN for the shop's kiosk" (docs/kiosk.md), or remove it. Whoever found
    the card must not: the same check as a lost-card report (the last four digits of
    the phone, or the e-mail address), with the same few tries (the card's own count).
    Setting a new PIN also ends a kiosk lock."""
    found = _live(token)
    if found is None:
        return render(request, "portal/invalid.html", status=404)
    person = found.customer
    context: dict[str, object] = {"customer": person, "token": token}
    context["has_pin"] = pins.held(person) is not None
    if not (person.phone or person.email):
        context["no_contact"] = True
    elif request.method == "POST":
        remove = request.POST.get("remove") == "1"
        new, again = request.POST.get("pin", "").strip(), request.POST.get("again", "").strip()
        if error := _unproven(request, found):
            context["error"] = error
        elif remove:
            pins.clear_pin(person, by=None, how="portal")
            return render(request, "portal/kiosk_pin_done.html", {**context, "removed": True})
        elif new != again:
            context["error"] = _("The two PINs are not the same.")
        else:
            try:
                pins.set_pin(person, new, by=None, how="portal")
            except pins.PinError as error:
                context["error"] = str(error)
            else:
                return render(request, "portal/kiosk_pin_done.html", context)
    response = render(request, "portal/kiosk_pin_set.html", context)
    response["Referrer-Policy"] = "same-origin"
    return response


def _unproven(request: HttpRequest, found: Card) -> str:
    """Why the person at the card's page has not shown it is theirs ("" when they have):
    the last four digits of the customer's phone or their e-mail address, with few tries
    (``staff.logins``, the card's own count; a wrong answer counts)."""
    count = f"card:{found.pk}"
    if waiting := logins.refused(None, count, kind=LoginThrottle.Kind.CARD):
        return waiting
    if _knows(found.customer, request.POST.get("answer", "")):
        return ""
    logins.failed(None, count, kind=LoginThrottle.Kind.CARD)
    return _("That is not what the shop has: check and try again.")


def _knows(person: Customer, answer: str) -> bool:
    """The last four digits of the customer's phone, or their whole e-mail address."""
    answer = answer.strip()
    digits = "".join(ch for ch in answer if ch.isdigit())
    if person.phone and len(digits) == 4 and "@" not in answer:
        return hmac.compare_digest(digits.encode(), person.phone[-4:].encode())
    if person.email and "@" in answer:
        return hmac.compare_digest(answer.casefold().encode(), person.email.casefold().encode())
    return False


@never_cache
def manifest(request: HttpRequest, token: str) -> HttpResponse:
    """The web app manifest of the customer's page: "Add to home screen" opens their
    own balance, standalone, with the shop's name (its start address is the card's)."""
    found = _live(token)
    if found is None:
        return HttpResponse(status=404)
    shop = Business.get().name
    data = {
        "name": shop,
        "short_name": shop[:12],
        "start_url": reverse("portal", args=[token]),
        "scope": reverse("portal", args=[token]),
        "display": "standalone",
        "background_color": "#f4f6fa",
        "theme_color": "#0b66c3",
        "icons": [{"src": static("prepaid/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def qr(request: HttpRequest, token: str) -> HttpResponse:
    """The card's QR code alone, as an SVG image (for an integrator's own card or app)."""
    found = _live(token)
    if found is None:
        return HttpResponse(status=404)
    image = io.BytesIO()
    segno.make(found.url, error="m", micro=False).save(image, kind="svg", scale=8, border=2)
    response = HttpResponse(image.getvalue(), content_type="image/svg+xml")
    response["Referrer-Policy"] = "no-referrer"
    return response
