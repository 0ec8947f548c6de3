"""Who is at the counter: the enrolled browser (a cookie) and the staff member who
unlocked it with their PIN (the session), locked again after the idle time."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from prepaid.ledger.services import Actor
from prepaid.staff.counters import COOKIE, device_for
from prepaid.staff.models import Business, Device, Staff
from prepaid.staff.roles import PERMISSIONS

SESSION = "counter"
# Who may work at the counter: whoever may sell (the one role table). Accountants read;
# they do not sell.
COUNTER_ROLES = PERMISSIONS["sell"]
COOKIE_YEARS = 10


class CounterRequest(HttpRequest):
    """A request at an enrolled, unlocked counter."""

    device: Device
    cashier: Staff
    business: Business


def device_of(request: HttpRequest) -> Device | None:
    return device_for(request.COOKIES.get(COOKIE))


def remember_device(response: HttpResponse, request: HttpRequest, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        max_age=COOKIE_YEARS * 365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def open_for(request: HttpRequest, device: Device, staff: Staff) -> None:
    """The counter's session: a fresh one, without any back-office login the browser
    had (an owner who enrolled it, say), so a cashier never inherits one."""
    logout(request)
    request.session[SESSION] = {"device": device.pk, "staff": staff.pk, "seen": time.time()}


def close(request: HttpRequest) -> None:
    request.session.pop(SESSION, None)


def cashier_of(request: HttpRequest, device: Device) -> Staff | None:
    """The staff member who unlocked this counter, unless it has been idle too long."""
    state = request.session.get(SESSION)
    if not state or state.get("device") != device.pk:
        return None
    business = getattr(request, "business", None) or Business.current()
    idle_seconds = 60 * (business.counter_idle_minutes if business else 5)
    if time.time() - float(state.get("seen", 0)) > idle_seconds:
        close(request)
        return None
    staff = Staff.objects.filter(
        pk=state["staff"], active=True, role__in=COUNTER_ROLES, stores=device.store
    ).first()
    if staff is None:
        close(request)
        return None
    state["seen"] = time.time()
    request.session[SESSION] = state
    return staff


def actor(request: CounterRequest) -> Actor:
    return Actor(store=request.device.store, staff=request.cashier, device=request.device)


def at_counter(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view runs on an enrolled counter with a staff member signed in by PIN;
    otherwise the browser goes to the enrolment or the PIN screen."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        device = device_of(request)
        if device is None:
            return redirect("counter_enroll")
        cashier = cashier_of(request, device)
        if cashier is None:
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("counter_unlock")
                return response
            return redirect("counter_unlock")
        request.device = device  # type: ignore[attr-defined]
        request.cashier = cashier  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
