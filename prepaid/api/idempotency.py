"""Exactly-once POSTs that move money (API.md, "Idempotency").

1. The ``Idempotency-Key`` header is required (400 without it).
2. One transaction holds everything: the key's stored answer is looked up; the
   operation runs; its answer — a success or a business refusal such as insufficient
   funds — is stored with the key and the digest of the request. Transfers and the
   stored answer commit together or not at all.
3. The same key again: the same body gets the stored answer with
   ``Idempotent-Replayed: true``; another body gets 422 ``idempotency_key_reused``.
4. The same key while the first request is still running: PostgreSQL answers 409
   ``idempotency_key_in_use`` at once (a transaction-scoped advisory lock on the key);
   SQLite runs one writer at a time, so the second request waits for the first and then
   gets its stored answer (or, past the busy timeout, 503).

Validation errors are not stored: the client may correct the body and reuse the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from prepaid.api.errors import ApiError
from prepaid.api.models import IdempotentRequest
from prepaid.lib import rows
from prepaid.staff.models import ApiToken

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

Answer = tuple[int, dict[str, Any]]


def fingerprint(request: HttpRequest) -> str:
    """The digest of what was asked: method, path and the body's JSON, key order aside."""
    try:
        body: Any = json.loads(request.body or b"null")
    except ValueError:
        body = request.body.decode("utf-8", "replace")
    text = json.dumps([request.method, request.path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def key_of(request: HttpRequest) -> str:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ApiError(
            400,
            "idempotency_key_missing",
            _("This request moves money: send an Idempotency-Key header."),
        )
    if not key.isprintable():
        raise ApiError(
            400,
            "validation_error",
            _("The Idempotency-Key may not contain control characters."),
            fields={HEADER: _("Control characters are not allowed.")},
        )
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            400,
            "validation_error",
            _("The Idempotency-Key may have at most 255 characters."),
            fields={HEADER: _("Too long.")},
        )
    return key


def ledger_key(token: ApiToken, key: str) -> str:
    """The ledger batch's key: the client's key, within its token's own namespace.

    A digest, not the key itself: a key may be 255 characters, and cutting the prefixed
    text to the column's 255 would make two long keys one.
    """
    return f"api:{token.pk}:{hashlib.sha256(key.encode()).hexdigest()}"


def run_once(request: HttpRequest, token: ApiToken, operation: Callable[[str], Answer]) -> Any:
    """Run ``operation`` (given its ledger key) once per Idempotency-Key; see above."""
    key = key_of(request)
    digest = fingerprint(request)
    with transaction.atomic():
        _claim(token, key)
        stored = rows.one(IdempotentRequest, 'token_id = %s AND "key" = %s', [token.pk, key])
        if stored is not None:
            if stored.fingerprint != digest:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    _("This Idempotency-Key was used for a different request."),
                )
            return _respond(stored.status_code, stored.body, replayed=True)
        try:
            with transaction.atomic():
                status, body = operation(ledger_key(token, key))
        except ApiError as refusal:
            if not refusal.stored:
                raise
            status, body = refusal.status, refusal.body()
        text = json.dumps(body, cls=DjangoJSONEncoder)  # as sent, and as replayed
        IdempotentRequest.objects.create(
            token=token, key=key, fingerprint=digest, status_code=status, body=text
        )
    return _respond(status, text, replayed=False)


def _claim(token: ApiToken, key: str) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's IMMEDIATE transaction already holds the only write lock
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [token.pk, key])
        (claimed,) = cursor.fetchone()
    if not claimed:
        raise ApiError(
            409,
            "idempotency_key_in_use",
            _("A request with this Idempotency-Key is still being processed; retry shortly."),
        )


def _respond(status: int, text: str, *, replayed: bool) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="application/json")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response
