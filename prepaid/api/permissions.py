"""What each role's token may do: the one role table (``prepaid.staff.roles``). Every
endpoint names its action in the OpenAPI document (``x-permission``), and a generated
test tries every role on every endpoint against the table."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from prepaid.api.errors import denied
from prepaid.staff.models import ApiToken
from prepaid.staff.roles import may, roles_for


def token_of(request: HttpRequest) -> ApiToken:
    token = getattr(request, "auth", None)
    assert isinstance(token, ApiToken), "the endpoint must require a token"
    return token


def require(request: HttpRequest, action: str) -> ApiToken:
    """The request's token, if its role may do ``action``; 403 otherwise."""
    token = token_of(request)
    if not may(token.role, action):
        raise denied()
    return token


def endpoint(action: str, summary: str, **options: Any) -> dict[str, Any]:
    """The keyword arguments of a router decorator for an endpoint guarded by ``action``."""
    roles = ", ".join(roles_for(action))
    extra = {"x-permission": action, "x-roles": roles_for(action)}
    return {
        "summary": summary,
        "description": f"{options.pop('description', '')}\n\nRoles: {roles}.".strip(),
        "openapi_extra": extra,
        **options,
    }
