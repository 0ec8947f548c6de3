"""/api/v1: the contract of ../shared/API.md, served with its OpenAPI document."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404 as Http404
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from prepaid.api import (
    approvals,
    catalog,
    closes,
    coupons,
    customers,
    errors,
    money,
    programs,
    reports,
    webhooks,
)
from prepaid.api.auth import Bearer
from prepaid.api.errors import ApiError
from prepaid.api.schemas import ErrorOut, Health
from prepaid.staff.refusals import Refusal

DESCRIPTION = """Prepaid customer accounts: customers, cards, top-ups, sales, refunds.

* **Auth**: `Authorization: Bearer <token>` (`prepaid token create --name N --role R`).
* **Money**: decimal strings in the currency's major unit (`"12.50"`); unit prices up to 4
  decimals, quantities up to 3.
* **Idempotency**: every POST that moves money requires `Idempotency-Key`; a retry with the
  same key and body gets the original answer (`Idempotent-Replayed: true`).
* **Errors**: `{"error": {"code", "message", "fields"}}`, messages in the language of
  `Accept-Language` (English, 简体中文, Nederlands).
* **Lists**: `?limit=` (default 50, max 500) and `?cursor=`; answers `{"results", "next"}`.

The guide with examples: docs/api.md.
"""

logger = logging.getLogger("prepaid.api")

api = NinjaAPI(
    title="prepaid API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=Bearer(),
)
api.add_router("", customers.router)
api.add_router("", money.router)
api.add_router("", catalog.router)
api.add_router("", programs.router)
api.add_router("", coupons.router)
api.add_router("", webhooks.router)
api.add_router("", reports.router)
api.add_router("", closes.router)
api.add_router("", approvals.router)


@api.get("/health", auth=None, response={200: Health, 503: ErrorOut}, tags=["health"])
def health(request: HttpRequest) -> Any:
    """Liveness for load balancers and monitors; no token needed."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        raise errors.busy() from None
    return {"status": "ok", "database": "ok"}


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
    return error.response()


@api.exception_handler(Refusal)
def _refusal(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    return errors.refused(refusal).response()


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    """Schema errors in the API's shape, one translated message per field."""
    fields: dict[str, str] = {}
    for problem in error.errors:
        location = [str(part) for part in problem.get("loc", ())]
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:]
        if location and location[0] in ("body", "params"):  # the parameter's own name
            location = location[1:]
        field = ".".join(location) or "body"
        fields.setdefault(field, _explain(problem, field))
    message = _("The request is not valid; see fields.")
    return ApiError(422, "validation_error", message, fields=fields).response()


def _explain(problem: dict[str, Any], field: str) -> str:
    kind = str(problem.get("type", ""))
    context = problem.get("ctx") or {}
    if kind == "missing" or kind == "string_too_short":
        return _("This field is required.")
    if kind == "string_pattern_mismatch":
        if field.endswith("colour"):
            return _("Enter a colour such as #1e88e5.")
        return _("Enter a number such as 12.50: digits and at most one decimal point.")
    if kind == "string_too_long":
        return _("Enter at most %(count)s characters.") % {"count": context.get("max_length")}
    if kind == "too_short":
        return _("Add at least one line.")
    if kind == "too_long":
        return _("Too many lines.")
    if kind == "value_error":
        return _("Text must not contain NUL characters.")
    if kind in ("greater_than_equal", "less_than_equal"):
        return _("This number is out of range.")
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    return _("This value is not valid here.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return ApiError(
        401, "not_authenticated", _("Send a valid token: Authorization: Bearer <token>.")
    ).response()


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return ApiError(404, "not_found", _("Not found.")).response()


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    code = {400: "bad_request", 405: "method_not_allowed", 429: "throttled"}
    message = _("The request could not be read.") if error.status_code == 400 else str(error)
    return ApiError(error.status_code, code.get(error.status_code, "error"), message).response()


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    """A body past DATA_UPLOAD_MAX_MEMORY_SIZE: refused unread, nothing was written."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = _("The request body is larger than %(size)s KB.") % {"size": limit // 1024}
    return ApiError(413, "request_too_large", message).response()


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, error: SuspiciousOperation) -> HttpResponse:
    """Too many fields, a malformed multipart body: what Django answers with a 400."""
    return ApiError(400, "bad_request", _("The request could not be read.")).response()


@api.exception_handler(OperationalError)
def _database_busy(request: HttpRequest, error: OperationalError) -> HttpResponse:
    """A busy SQLite (past its timeout) or a lost PostgreSQL connection: nothing was
    written, the client may retry."""
    return errors.busy().response()


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, error: Exception) -> HttpResponse:
    """A bug: logged with its traceback, answered in the API's shape. Money never half
    moves: every posting is one transaction, rolled back with the error."""
    logger.exception("API error on %s %s", request.method, request.path)
    return ApiError(
        500, "server_error", _("Something went wrong on our side; try again in a moment.")
    ).response()


@api.exception_handler(InterfaceError)
def _database_gone(request: HttpRequest, error: InterfaceError) -> HttpResponse:
    return errors.busy().response()
