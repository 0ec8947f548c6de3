"""The customer's page behind their card's QR: balance, history, the QR to show.

No password: the card token is the key (144 random bits, revocable). The page shows no
contact data, so a found card reveals a balance and a first name's worth of history at
most; a lost card is replaced from the back office and its page is gone at once.
"""

from __future__ import annotations

import io

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from prepaid.catalog import tiers
from prepaid.customers.cards import qr_svg
from prepaid.customers.models import Card
from prepaid.lib import sealing
from prepaid.programs import services as programs
from prepaid.reports import customers as customer_report
from prepaid.sales import points
from prepaid.sales import services as sales


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
        return render(request, "portal/invalid.html", status=404)
    customer = found.customer
    context = {
        "customer": customer,
        "balances": sales.balances(customer),
        "punch_cards": programs.holdings(customer),
        "passes": programs.passes(customer),
        "member": tiers.held(customer.pk),
        "points_held": points.balance(customer),
        "history": customer_report.history(customer, limit=20),
        "qr": qr_svg(found, scale=5),
    }
    response = render(request, "portal/card.html", context)
    # The token is in the URL: it must not leave for another site. (Not "no-referrer":
    # the browser then sends "Origin: null" with the page's own language form, which
    # the CSRF check refuses.)
    response["Referrer-Policy"] = "same-origin"
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
