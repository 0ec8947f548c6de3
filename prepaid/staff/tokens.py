"""API tokens: created with a random key that is shown once and stored as a digest."""

from __future__ import annotations

import hmac

from django.utils import timezone

from prepaid.lib import rows
from prepaid.lib.codes import digest, new_api_key
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business, Role, Staff, Store


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


# The token, the store it acts at (its own, or else the first active one) and the
# business, in the one query every API request starts with.
_WITH_STORE_AND_BUSINESS = (
    "FROM staff_apitoken t"
    " LEFT JOIN staff_store s ON s.id = COALESCE(t.store_id,"
    " (SELECT id FROM staff_store WHERE active = %s ORDER BY id LIMIT 1))"
    " LEFT JOIN staff_business b ON b.id = 1"
    " WHERE t.digest = %s AND t.revoked_at IS NULL"
)


def authenticate(key: str) -> ApiToken | None:
    """The live token for ``key``; revoked and unknown keys are both None.

    Found by its digest (an index look-up), then compared in constant time: the look-up
    only reveals digests, which cannot be turned back into keys. The store it acts at
    comes with it (``acting_store``), and the business is remembered for the request
    (``Business.remember``): one query.
    """
    wanted = digest(key)
    found = rows.joined(
        (ApiToken, "t", False),
        (Store, "s", True),
        (Business, "b", True),
        tail=_WITH_STORE_AND_BUSINESS,
        params=[True, wanted],
    )
    if found is None:
        return None
    token, store, business = found
    assert isinstance(token, ApiToken)
    if not hmac.compare_digest(token.digest, wanted):
        return None
    token.acting_store = store  # type: ignore[attr-defined]
    if token.store_id is not None and isinstance(store, Store):
        token.store = store
    if isinstance(business, Business):
        Business.remember(business)
    return token


def revoke(token: ApiToken, *, by: Staff | None = None) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record("token.revoked", f"token:{token.prefix}", by=by)
