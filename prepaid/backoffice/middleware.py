"""Request-wide guards: a busy SQLite database is a polite 503, not a 500; an empty
installation sends every page to the set-up form."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from prepaid.staff.models import Business

OPEN_WHEN_EMPTY = ("/setup/", "/static/", "/i18n/", "/api/")


class DatabaseBusyMiddleware:
    """Turn SQLite's "database is locked" (a writer held the lock past the busy timeout)
    into a translated 503 with Retry-After. Nothing was written: the transaction rolled
    back, so the person can simply try again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError) and "locked" in str(exception):
            response = render(request, "backoffice/busy.html", status=503)
            response["Retry-After"] = "2"
            return response
        return None


class BusinessMiddleware:
    """Until the business exists, every page leads to the set-up form; once it does, times
    are shown in the business's time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with Business.for_request() as business:
            request.business = business  # type: ignore[attr-defined]
            if business is None:
                if not request.path.startswith(OPEN_WHEN_EMPTY):
                    return redirect(reverse("setup"))
                return self.get_response(request)
            with timezone.override(zoneinfo.ZoneInfo(business.time_zone)):
                return self.get_response(request)
