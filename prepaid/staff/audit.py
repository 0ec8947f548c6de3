"""Writing the audit trail: one function, so every entry has the same shape.

The trail is a hash chain: each event's ``digest`` is SHA-256 of the digest before it
and of the event's own content (``content``), in id order. Writers take the chain's
lock (an advisory lock on PostgreSQL; SQLite has one writer at a time) for the rest of
their transaction, so the events' ids follow the chain. Events are rare (edits, imports,
logins, settings; never a sale as such), so the lock is no queue at the counter.
``chain_problems`` walks the chain for ``prepaid verify``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from prepaid.lib import bulk
from prepaid.staff.models import ApiToken, AuditEvent, Staff, Store

GENESIS = "0" * 64
CHAIN_LOCK = 0x70726570_61756474  # "prepaudt": the audit chain's advisory lock


def content(event: AuditEvent) -> bytes:
    """What an event's digest covers: everything it says, in a canonical form that
    reads the same after a round trip through either database."""
    created = event.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    fields = [
        event.action,
        event.subject,
        event.staff_id,
        event.api_token_id,
        event.store_id,
        event.before,
        event.after,
        created,
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(previous: str, event: AuditEvent) -> str:
    return hashlib.sha256(previous.encode() + content(event)).hexdigest()


def _last_digest() -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
    last = AuditEvent.objects.order_by("-id").values_list("digest", flat=True).first()
    return last or GENESIS


def record(
    action: str,
    subject: str,
    *,
    by: Staff | ApiToken | None,
    store: Store | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        staff=by if isinstance(by, Staff) else None,
        api_token=by if isinstance(by, ApiToken) else None,
        store=store,
        action=action,
        subject=subject,
        before=before,
        after=after,
        created_at=timezone.now(),
    )
    with transaction.atomic():
        event.digest = link(_last_digest(), event)
        event.save()
    return event


def record_many(
    action: str,
    entries: Sequence[tuple[str, dict[str, Any] | None]],
    *,
    by: Staff | ApiToken | None,
    store: Store | None = None,
) -> None:
    """One event per (subject, after) of ``entries``, all at once (``lib.bulk``: an
    import registers hundreds of thousands of customers), chained in their order."""
    if not entries:
        return
    who = {
        "staff_id": by.pk if isinstance(by, Staff) else None,
        "api_token_id": by.pk if isinstance(by, ApiToken) else None,
        "store_id": store.pk if store else None,
    }
    now = timezone.now()
    with transaction.atomic():
        previous = _last_digest()
        rows: list[dict[str, object]] = []
        for subject, after in entries:
            event = AuditEvent(action=action, subject=subject, after=after, created_at=now, **who)
            previous = link(previous, event)
            rows.append({"subject": subject, "after": after, "digest": previous})
        bulk.insert(AuditEvent, rows, same={**who, "action": action, "created_at": now})


def _in_order(batch: int = 2000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        found = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk")[:batch])
        yield from found
        if len(found) < batch:
            return
        last = found[-1].pk


def chain_problems(limit: int = 20) -> list[str]:
    """Where the chain breaks: an event whose digest is not what the one before it and
    its own content make (changed, or one removed before it, or slipped in)."""
    problems = []
    previous = GENESIS
    for event in _in_order():
        expected = link(previous, event)
        if event.digest != expected:
            problems.append(
                f"audit event {event.pk} ({event.action} {event.subject}): its digest does"
                " not follow from the event before it and its content"
            )
            if len(problems) >= limit:
                break
        previous = event.digest  # one break is reported once, not for every event after
    return problems


# -- logins: Django's signals, connected in the app's ``ready`` ------------------------


def address_of(request: Any) -> str | None:
    """Where a request came from: the peer's address, or behind a reverse proxy that
    prepaid trusts (``TRUST_PROXY_HEADERS``) the address the proxy appended last to
    X-Forwarded-For (the ones before it are the client's own say)."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.SECURE_PROXY_SSL_HEADER and forwarded.strip():
        address = forwarded.split(",")[-1].strip()
    return str(address)[:150] if address else None


def _staff_of(user: Any) -> Staff | None:
    pk = getattr(user, "pk", None)
    return Staff.objects.filter(user_id=pk).first() if pk is not None else None


def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    staff = _staff_of(user)
    subject = f"staff:{staff.pk}" if staff else f"user:{user.pk}"
    after = {"username": user.get_username(), "address": address_of(request)}
    record("login", subject, by=staff, after=after)


def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:  # the session had no login
        return
    staff = _staff_of(user)
    subject = f"staff:{staff.pk}" if staff else f"user:{user.pk}"
    after = {"address": address_of(request)}
    if reason := getattr(request, "logout_reason", ""):
        after["reason"] = reason  # e.g. "idle": the back office's idle time-out
    record("logout", subject, by=staff, after=after)


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    """A wrong user name or password: the name tried (never the password) and where from."""
    name = str(credentials.get("username", ""))[:150]
    record(
        "login.failed",
        f"login:{name}",
        by=None,
        after={"username": name, "address": address_of(request)},
    )
