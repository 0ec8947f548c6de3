"""Writing the audit trail: one function, so every entry has the same shape."""

from __future__ import annotations

from typing import Any

from prepaid.staff.models import ApiToken, AuditEvent, Staff, Store


def record(
    action: str,
    subject: str,
    *,
    by: Staff | ApiToken | None,
    store: Store | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        staff=by if isinstance(by, Staff) else None,
        api_token=by if isinstance(by, ApiToken) else None,
        store=store,
        action=action,
        subject=subject,
        before=before,
        after=after,
    )
