"""Bearer tokens: ``Authorization: Bearer <key>``; revoked or unknown keys are 401."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from prepaid.staff import tokens
from prepaid.staff.models import ApiToken

# Writing "last used" on every request would add a write to every read; once a minute
# tells the owner as much.
LAST_USED_EVERY = timedelta(seconds=60)


class Bearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = tokens.authenticate(token)
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        return found
