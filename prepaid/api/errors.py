"""The API's errors: one shape, ``{"error": {"code", "message", "fields"}}``, with the
message translated into the request's language (Accept-Language)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class ApiError(Exception):
    """A refusal to answer with ``status`` and a machine ``code``.

    ``stored`` marks the business refusals (insufficient funds, already reversed) that an
    idempotent request keeps and replays; validation errors are not stored, so the client
    can fix the request and send it again with the same key.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        stored: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra = extra or {}
        self.stored = stored

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
        return response


def invalid(message: str, field: str | None = None, *, status: int = 422) -> ApiError:
    return ApiError(status, "validation_error", message, fields={field: message} if field else None)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", _("No %(what)s was found.") % {"what": what})


def denied() -> ApiError:
    return ApiError(403, "permission_denied", _("This token's role may not do that."))


def busy() -> ApiError:
    return ApiError(503, "service_unavailable", _("The database is busy; try again in a moment."))


def handle(request: HttpRequest, error: ApiError) -> HttpResponse:
    return error.response()
