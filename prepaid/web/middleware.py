"""Request-wide guards: a busy or unreachable database is a polite 503, not a 500; an
empty installation sends every page to the set-up form; NUL characters never reach a
page's query; no page or answer is kept in a browser's or a proxy's cache; no page
runs a script or a style that the app did not serve as a file; a back-office login left
idle ends."""

from __future__ import annotations

import logging
import time
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import Error, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from prepaid.staff.models import Business

API = "/api/"
OPEN_WHEN_EMPTY = ("/setup/", "/static/", "/i18n/", API)
logger = logging.getLogger(__name__)


def unavailable(request: HttpRequest, error: Error) -> HttpResponse:
    """The 503 for a database that cannot answer, with Retry-After: the API's JSON error
    under /api/, elsewhere a translated page rendered without the database.

    * SQLite's "database is locked" (a writer held the lock past the busy timeout):
      the transaction rolled back, nothing was saved.
    * A lost or refused PostgreSQL connection (the server restarted, the network
      dropped): the page says to try again. If the connection went down during a COMMIT
      that did go through, trying again replays the form's idempotency key and shows the
      original receipt; nothing is charged twice.

    Other database errors may be bugs: they are logged with their traceback.
    """
    locked = "locked" in str(error)
    if not locked:
        logger.error("Database unavailable on %s %s", request.method, request.path, exc_info=error)
    response: HttpResponse
    if request.path.startswith("/api/"):
        message = _("The database is busy; try again in a moment.")
        body = {"error": {"code": "service_unavailable", "message": message, "fields": None}}
        response = JsonResponse(body, status=503)
    else:
        page = render_to_string("web/busy.html", {"locked": locked})  # no request: no DB
        response = HttpResponse(page, status=503)
    response["Retry-After"] = "2"
    return response


class DatabaseBusyMiddleware:
    """A view whose database cannot answer gets ``unavailable``'s 503, as the API's own
    views do."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            return unavailable(request, exception)
        return None


class BusinessMiddleware:
    """Until the business exists, every page leads to the set-up form; once it does, times
    are shown in the business's time zone.

    Its read is the first query of every request, outside any view: a database that
    cannot answer is caught here (``process_exception`` only sees views' errors)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API):
            # The API reads the business with the token, in one query (see
            # ``staff.tokens.authenticate``); API answers carry times in UTC.
            with Business.for_request(None):
                return self.get_response(request)
        try:
            business = Business.read()
        except (OperationalError, InterfaceError) as error:
            return unavailable(request, error)
        request.business = business  # type: ignore[attr-defined]
        with Business.for_request(business):
            if business is None:
                if not request.path.startswith(OPEN_WHEN_EMPTY):
                    return redirect(reverse("setup"))
                return self.get_response(request)
            with timezone.override(zoneinfo.ZoneInfo(business.time_zone)):
                return self.get_response(request)


class QueryTextMiddleware:
    """Drop NUL characters from the query string of every page but the API's.

    No search box or filter looks for one, and PostgreSQL cannot compare text that holds
    one (an error, not an empty result), so "Ma%00ria" is searched as "Maria". The API
    refuses them instead, naming the field (422).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query and not request.path.startswith(API):
            # A NUL only comes percent-encoded; "%2500" is the text "%00" and stays.
            request.GET = QueryDict(query.replace("%00", ""))
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every page and API answer that does not say
    otherwise: they carry names, phone numbers and balances (the customer's own page,
    the counter, the back office, the API), which a shared computer's browser cache or
    a proxy must not keep. Static files are answered before this (WhiteNoise, with
    their own long caching) and never carry personal data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


# Everything a page uses comes from this site as a file: no inline script, event handler
# (onclick=…), <style> or style="…" attribute runs, so text that slipped into a page
# (a customer's name, an imported cell) cannot become code. The templates pass values
# to the static scripts in data-* attributes instead (web/static/prepaid/app.js).
# img-src allows data: for the pictures stylesheets embed (Swagger UI's icons); the QR
# codes are inline SVG. The camera's video comes from getUserMedia, which no fetch
# directive governs. tests/web/test_content_security_policy.py holds the pages to it.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class ContentSecurityPolicyMiddleware:
    """``Content-Security-Policy: CONTENT_SECURITY_POLICY`` on every page and answer that
    does not set its own: the browser then refuses inline scripts and styles and
    anything from another site. (``nosniff`` and the referrer policy come from Django's
    ``SecurityMiddleware``; ``X-Frame-Options`` from its clickjacking middleware.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Content-Security-Policy"):
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


class IdleLogoutMiddleware:
    """A back-office login ends after ``BACKOFFICE_IDLE_MINUTES`` without a request
    (docs/configuration.md): the next page logs the person out (audited, with the reason
    "idle") and goes to the login page, which says why.

    It runs after ``BusinessMiddleware``, whose read is the first query of a request
    (a database that cannot answer is its 503 page). The counter is not concerned: its
    session holds no login (``counter.access`` logs out whoever was signed in when a
    cashier unlocks it) and it locks itself after the shop's own idle time. The clock is
    written at most once a minute, so a page costs no session write each time.
    """

    SEEN = "backoffice_seen"
    WRITE_EVERY_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API):
            return self.get_response(request)
        try:
            signed_in = request.user.is_authenticated  # reads the session: a query
        except (OperationalError, InterfaceError) as error:
            return unavailable(request, error)
        if not signed_in:
            return self.get_response(request)
        now = time.time()
        seen = request.session.get(self.SEEN)
        minutes = settings.BACKOFFICE_IDLE_MINUTES
        if seen is not None and now - float(seen) > minutes * 60:
            return self._logged_out(request, minutes)
        if seen is None or now - float(seen) >= self.WRITE_EVERY_SECONDS:
            request.session[self.SEEN] = now
        return self.get_response(request)

    def _logged_out(self, request: HttpRequest, minutes: int) -> HttpResponse:
        request.logout_reason = "idle"  # type: ignore[attr-defined]  # read by the audit
        logout(request)
        messages.info(
            request,
            ngettext(
                "You were logged out after %(minutes)d minute without activity."
                " Please log in again.",
                "You were logged out after %(minutes)d minutes without activity."
                " Please log in again.",
                minutes,
            )
            % {"minutes": minutes},
        )
        # Back to this page after the login, if it can be asked for again (a GET).
        next_path = request.get_full_path() if request.method == "GET" else reverse("home")
        response = redirect_to_login(next_path)
        if request.headers.get("HX-Request"):
            answer = HttpResponse(status=204)
            answer["HX-Redirect"] = response["Location"]
            return answer
        return response
