"""API tokens: created with a random key that is shown once and stored as a digest."""

from __future__ import annotations

import hmac

from django.utils import timezone

from prepaid.lib.codes import digest, new_api_key
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Role, Staff, Store


def create_token(
    name: str, role: Role, *, store: Store | None = None, by: Staff | None = None
) -> tuple[ApiToken, str]:
    key = new_api_key()
    token = ApiToken.objects.create(
        name=name, role=role, store=store, prefix=key[:10], digest=digest(key)
    )
    after = {"name": name, "role": role, "store": store.name if store else None}
    audit.record("token.created", f"token:{token.prefix}", by=by, after=after)
    return token, key


def authenticate(key: str) -> ApiToken | None:
    """The live token for ``key``; revoked and unknown keys are both None.

    Found by its digest (an index look-up), then compared in constant time: the look-up
    only reveals digests, which cannot be turned back into keys.
    """
    wanted = digest(key)
    live = ApiToken.objects.select_related("store").filter(revoked_at__isnull=True)
    token = live.filter(digest=wanted).first()
    if token is None or not hmac.compare_digest(token.digest, wanted):
        return None
    return token


def revoke(token: ApiToken, *, by: Staff | None = None) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record("token.revoked", f"token:{token.prefix}", by=by)
