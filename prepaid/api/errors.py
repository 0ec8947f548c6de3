"""The API's errors: one shape, ``{"error": {"code", "message", "fields"}}``, with the
message translated into the request's language (Accept-Language).

A ``Refusal`` (the shop's one refusal type) answers with its own code, status and
message (``refused``); ``ApiError`` is for what only HTTP has: a missing header, a body
that does not parse, a token that does not authenticate, a busy database."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from prepaid.lib.money import from_minor
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal


class ApiError(Exception):
    """A refusal to answer with ``status`` and a machine ``code``.

    ``replayed``: the stored answer of an Idempotency-Key, given again.
    """

    replayed = False

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "fields": self.fields,
                **self.extra,
            }
        }

    def response(self) -> HttpResponse:
        response = JsonResponse(self.body(), status=self.status)
        if self.status == 503:
            response["Retry-After"] = "2"
        if self.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def refused(refusal: Refusal) -> ApiError:
    """The refusal in the API's shape. Its parameters travel beside the message, money
    as decimal strings ("available": "1.25"); a replayed refusal says so in the
    ``Idempotent-Replayed`` header."""
    kind = refusal.kind
    message = refusal.message()
    extra: dict[str, Any] = {}
    for name, value in refusal.params.items():
        if name in RESERVED:
            continue
        if name in kind.money and isinstance(value, int):
            business = Business.current()
            value = str(from_minor(value, business.currency)) if business else str(value)
        extra[name] = value
    error = ApiError(
        refusal.status,
        refusal.code,
        message,
        fields={refusal.field: message} if refusal.field else None,
        extra=extra,
    )
    error.replayed = refusal.replayed
    return error


# Parameters that only fill the message in, or whose name the error's own keys take.
RESERVED = frozenset({"what", "detail", "code", "message", "fields"})


def invalid(message: str, field: str | None = None, *, status: int = 422) -> ApiError:
    return ApiError(status, "validation_error", message, fields={field: message} if field else None)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", _("No %(what)s was found.") % {"what": what})


def denied() -> ApiError:
    return refused(Refusal("permission_denied"))


def busy() -> ApiError:
    return ApiError(503, "service_unavailable", _("The database is busy; try again in a moment."))


def handle(request: HttpRequest, error: ApiError) -> HttpResponse:
    return error.response()
