"""What each role's token may do: one table. Every endpoint names its action in the
OpenAPI document (``x-permission``), and a generated test tries every role on every
endpoint against this table."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from prepaid.api.errors import denied
from prepaid.staff.models import ApiToken, Role

EVERYONE = frozenset(Role)
STAFF = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})
MANAGERS = frozenset({Role.OWNER, Role.MANAGER})

ACTIONS: dict[str, frozenset[Role]] = {
    "customers.read": EVERYONE,
    "customers.write": STAFF,  # register at the counter, fix a phone number
    "customers.credit": MANAGERS,  # credit limits
    "cards.issue": STAFF,
    "transactions.read": EVERYONE,
    "top_up": STAFF,
    "sell": STAFF,
    "refund": MANAGERS,
    "reverse": STAFF,  # a cashier's token only its own transactions (see may_reverse)
    "products.read": EVERYONE,
    "products.write": MANAGERS,
    "payment_methods.read": EVERYONE,
}


def token_of(request: HttpRequest) -> ApiToken:
    token = getattr(request, "auth", None)
    assert isinstance(token, ApiToken), "the endpoint must require a token"
    return token


def require(request: HttpRequest, action: str) -> ApiToken:
    """The request's token, if its role may do ``action``; 403 otherwise."""
    token = token_of(request)
    if token.role not in ACTIONS[action]:
        raise denied()
    return token


def may_reverse_others(token: ApiToken) -> bool:
    """Owners and managers correct anyone's transactions; a cashier only their own."""
    return token.role in MANAGERS


def endpoint(action: str, summary: str, **options: Any) -> dict[str, Any]:
    """The keyword arguments of a router decorator for an endpoint guarded by ``action``."""
    roles = ", ".join(sorted(ACTIONS[action]))
    extra = {"x-permission": action, "x-roles": sorted(ACTIONS[action])}
    return {
        "summary": summary,
        "description": f"{options.pop('description', '')}\n\nRoles: {roles}.".strip(),
        "openapi_extra": extra,
        **options,
    }
