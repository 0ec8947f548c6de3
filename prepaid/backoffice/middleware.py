"""Request-wide guards: a busy or unreachable database is a polite 503, not a 500; an
empty installation sends every page to the set-up form."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from prepaid.staff.models import Business

OPEN_WHEN_EMPTY = ("/setup/", "/static/", "/i18n/", "/api/")
logger = logging.getLogger(__name__)


class DatabaseBusyMiddleware:
    """A database that cannot answer is a translated 503 with Retry-After, as in the API.

    * SQLite's "database is locked" (a writer held the lock past the busy timeout):
      the transaction rolled back, nothing was saved.
    * A lost or refused PostgreSQL connection (the server restarted, the network
      dropped): the page says to try again. If the connection went down during a COMMIT
      that did go through, trying again replays the form's idempotency key and shows the
      original receipt; nothing is charged twice.

    Other database errors may be bugs: they are logged with their traceback either way.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        locked = "locked" in str(exception)
        if not locked:
            logger.error(
                "Database unavailable on %s %s", request.method, request.path, exc_info=exception
            )
        page = render_to_string("backoffice/busy.html", {"locked": locked})  # no request: no DB
        response = HttpResponse(page, status=503)
        response["Retry-After"] = "2"
        return response


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
