"""The shop's self-service kiosk (docs/kiosk.md): on a browser the owner enrolled as a
kiosk, a customer scans their card, types their PIN
on the keypad, and reads what their own page shows (``views.account``); "Done", or a
minute without a touch, brings the next customer the scan screen.

Who is at the kiosk lives in the session, for a short while only: the PIN step for
``PIN_SECONDS``, the open account for ``OPEN_SECONDS`` (the server refuses a stale one
whatever the page's own timer did). The kiosk shows no contact data. Unknown cards and
wrong PINs count against the kiosk (``staff.logins``, kind KIOSK); wrong PINs count
against the customer too (``customers.pins``: five lock them out of every kiosk).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from prepaid.customers import lookup, pins
from prepaid.customers.models import Customer
from prepaid.portal.views import account
from prepaid.staff import counters, logins
from prepaid.staff.models import Device, LoginThrottle

SESSION = "kiosk"
PIN_SECONDS = 90  # from the scan to the PIN
OPEN_SECONDS = 120  # the account on screen, at most
IDLE_SECONDS = 60  # the page goes back to the scan screen after this without a touch
HISTORY = 8  # recent transactions shown
KIOSK = LoginThrottle.Kind.KIOSK


class KioskRequest(HttpRequest):
    kiosk: Device


def at_kiosk(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view runs on an enrolled kiosk; any other browser is told how one is made."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        device = counters.device_for(request.COOKIES.get(counters.COOKIE), kind=Device.Kind.KIOSK)
        if device is None:
            return render(request, "portal/kiosk_not_enrolled.html")
        request.kiosk = device  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def _count(request: KioskRequest) -> str:
    return f"kiosk:{request.kiosk.pk}"


def _state(request: KioskRequest, stage: str, limit: int) -> Customer | None:
    """The customer at this kiosk at ``stage`` (``pin`` or ``open``), unless it is
    older than ``limit`` seconds (then it is forgotten)."""
    state = request.session.get(SESSION)
    if not state or state.get("kiosk") != request.kiosk.pk or state.get("stage") != stage:
        return None
    if time.time() - float(state.get("at", 0)) > limit:
        request.session.pop(SESSION, None)
        return None
    return Customer.objects.filter(code=state["customer"], status=Customer.Status.ACTIVE).first()


def _begin(request: KioskRequest, customer: Customer, stage: str) -> None:
    request.session[SESSION] = {
        "kiosk": request.kiosk.pk,
        "customer": customer.code,
        "stage": stage,
        "at": time.time(),
    }


def _scan_page(request: KioskRequest, error: str = "", status: int = 200) -> HttpResponse:
    context = {"error": error, "kiosk": request.kiosk}
    return render(request, "portal/kiosk_scan.html", context, status=status)


def _found(text: str) -> Customer | None:
    """The active customer of a scanned card (its URL or token). Not the code printed
    on it: a code is no secret, and with it anyone could lock a customer out of the
    kiosk with five wrong PINs, or learn whether a code has a PIN. A revoked card finds
    nobody."""
    customer = lookup.by_live_card(text)
    if customer is None or customer.status != Customer.Status.ACTIVE:
        return None
    return customer


@at_kiosk
def scan(request: KioskRequest) -> HttpResponse:
    """ "Scan your card": a USB scanner types the card's URL and Enter into the box."""
    if request.method != "POST":
        return _scan_page(request)
    if waiting := logins.refused(None, _count(request), kind=KIOSK):
        return _scan_page(request, waiting)
    customer = _found(request.POST.get("card", "")[:300])
    if customer is None:
        logins.failed(None, _count(request), kind=KIOSK)
        return _scan_page(request, _("This card is not known here. Ask at the counter."))
    kiosk_pin = pins.held(customer)
    if kiosk_pin is None:
        return render(request, "portal/kiosk_no_pin.html")
    if kiosk_pin.locked_at is not None:
        return render(request, "portal/kiosk_locked.html")
    _begin(request, customer, "pin")
    return redirect("kiosk_pin")


@at_kiosk
def pin(request: KioskRequest) -> HttpResponse:
    """The keypad: the customer's PIN, 4 to 6 digits."""
    customer = _state(request, "pin", PIN_SECONDS)
    if customer is None:
        return redirect("kiosk")
    error = ""
    if request.method == "POST":
        if waiting := logins.refused(None, _count(request), kind=KIOSK):
            request.session.pop(SESSION, None)
            return _scan_page(request, waiting)
        attempt = pins.try_pin(customer, request.POST.get("pin", "")[:20], kiosk=request.kiosk)
        if attempt.outcome == pins.Outcome.OPEN:
            _begin(request, customer, "open")
            return redirect("kiosk_account")
        if attempt.outcome != pins.Outcome.WRONG:
            request.session.pop(SESSION, None)
        if attempt.outcome == pins.Outcome.NO_PIN:  # cleared by staff meanwhile
            return render(request, "portal/kiosk_no_pin.html")
        logins.failed(None, _count(request), kind=KIOSK)
        if attempt.outcome == pins.Outcome.LOCKED:
            return render(request, "portal/kiosk_locked.html")
        error = ngettext(
            "Wrong PIN. %(left)d try left.", "Wrong PIN. %(left)d tries left.", attempt.left
        ) % {"left": attempt.left}
    context = {"error": error, "idle_seconds": IDLE_SECONDS}
    return render(request, "portal/kiosk_pin.html", context)


@at_kiosk
def open_account(request: KioskRequest) -> HttpResponse:
    """The customer's balance, punch cards, passes and recent activity, for a short
    while: a stale view goes back to the scan screen."""
    customer = _state(request, "open", OPEN_SECONDS)
    if customer is None:
        return redirect("kiosk")
    context = {**account(customer, history=HISTORY), "idle_seconds": IDLE_SECONDS}
    return render(request, "portal/kiosk_account.html", context)


@require_POST
@at_kiosk
def done(request: KioskRequest) -> HttpResponse:
    """ "Done" (or the page's idle timer): the next customer gets the scan screen."""
    request.session.pop(SESSION, None)
    return redirect("kiosk")
