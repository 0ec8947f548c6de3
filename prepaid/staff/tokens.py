"""API tokens: created with a random key that is shown once and stored as a digest."""

from __future__ import annotations

from django.utils import timezone

from prepaid.lib.codes import digest, new_api_key
from prepaid.staff.models import ApiToken, Role, Store


def create_token(name: str, role: Role, *, store: Store | None = None) -> tuple[ApiToken, str]:
    key = new_api_key()
    token = ApiToken.objects.create(
        name=name, role=role, store=store, prefix=key[:10], digest=digest(key)
    )
    return token, key


def authenticate(key: str) -> ApiToken | None:
    """The live token for ``key``; revoked and unknown keys are both None."""
    return ApiToken.objects.filter(digest=digest(key), revoked_at__isnull=True).first()


def revoke(token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
