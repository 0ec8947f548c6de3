"""API tokens: created with a random key that is shown once and stored as a digest."""

from __future__ import annotations

import hmac

from django.utils import timezone

from prepaid.lib import rows
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
    token = rows.one(ApiToken, "digest = %s AND revoked_at IS NULL", [wanted])
    if token is None or not hmac.compare_digest(token.digest, wanted):
        return None
    if token.store_id is not None:  # every request acts at the token's store
        token.store = rows.one(Store, "id = %s", [token.store_id])
    return token


def revoke(token: ApiToken, *, by: Staff | None = None) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record("token.revoked", f"token:{token.prefix}", by=by)
