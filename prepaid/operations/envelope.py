"""The envelope: every operation runs through ``run``, in one database transaction.

An operation is a request object (a frozen dataclass, below ``Operation``) that is also
its own fingerprint. ``run`` does, in one transaction:

1. **Key.** With an idempotency key, it claims the key and reads the key's stored
   outcome in one statement (on PostgreSQL a transaction-scoped advisory lock: a second
   request with the same key while the first runs is refused at once with
   ``idempotency_key_in_use``; SQLite runs one writer at a time). A stored outcome is
   the answer, refusals included (``replayed``); the same key for another request is
   ``idempotency_key_reused``.
2. **Permission**, from the one role table (``staff.roles``), for the actor's role.
3. **The operation itself** (``perform``): it posts through ``ledger.services`` (via
   the selling rules), adds its side rows (sale lines…) and its events to the context.
4. **Outcome and events**: the side rows, the outbox events and the stored outcome are
   written together at the end (one statement on PostgreSQL).

Between 2 and 3, **four eyes**: an operation whose ``gate`` says it needs a second
person's approval under the shop's settings (a refund above the threshold…) is not
performed; it is kept as an ``Approval`` request and answered ``202`` with it, and that
answer is the key's outcome. The owner's own such operations run at once and are kept
as ``owner_made`` (the day's exceptions). Approving runs the operation as the maker's
(``operations.approvals``).

A refusal rolls all of it back; a refusal that is kept (``Kind.stored``: not enough
money, already reversed…) is then stored under the key in a short second transaction,
so a retry gets the same refusal. A unique index that refuses a row half-way (a
concurrent request with the same key committed first, or registered the same phone)
rolls everything back and the operation runs once more from the start: the stored
outcome, or the duplicate, is found then.

Services nest in this transaction without savepoints (``lib.transactions``): the
success path of a sale is one transaction and nothing else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.ledger.models import Batch
from prepaid.ledger.services import Actor
from prepaid.lib import rows, sealing
from prepaid.lib.transactions import one_transaction
from prepaid.operations import present
from prepaid.operations.models import Approval, Event, Outcome
from prepaid.staff import audit
from prepaid.staff.models import Business, Role
from prepaid.staff.refusals import Refusal
from prepaid.staff.roles import may

MAX_KEY_LENGTH = 255
# Every operation class by name: an approval request keeps its operation as the class's
# name and its fields, and is rebuilt from them when approved.
OPERATIONS: dict[str, type[Operation]] = {}


@dataclass
class Context:
    """What an operation works with, and what it leaves for the envelope to write."""

    actor: Actor
    business: Business
    ledger_key: str  # the key of the operation's ledger batch, unique forever
    pending: rows.Pending = field(default_factory=rows.Pending)
    events: list[tuple[str, int | None, dict[str, Any]]] = field(default_factory=list)
    # An approved request: when its maker asked (a cashier's undo window counts to then).
    asked_at: datetime | None = None

    def emit(self, event_type: str, data: dict[str, Any], *, customer: Customer | None) -> None:
        """An outbox event, written with the operation's outcome."""
        self.events.append((event_type, customer.pk if customer else None, data))

    def finish(self, done: Done) -> tuple[str, str]:
        """The answer's JSON text, and the same sealed (``lib.sealing.seal_record``); the
        events join the rows written with the outcome, sealed. An event whose data is the
        answer (most are) shares its sealed text."""
        text = _json(done.data)
        sealed = sealing.seal_record(text)
        for event_type, customer_id, data in self.events:
            data_text = sealed if data is done.data else sealing.seal_record(_json(data))
            self.pending.add(Event(type=event_type, customer_id=customer_id, data=data_text))
        return text, sealed

    @property
    def customer_id(self) -> int | None:
        """The customer the operation's events are about (the first one's), if any."""
        return next((customer for _, customer, _ in self.events if customer), None)

    def require(self, action: str) -> None:
        """The actor's role must be allowed ``action`` too (a credit limit given with a
        registration, say)."""
        if not may(self.actor.role, action):
            raise Refusal("permission_denied")


@dataclass(frozen=True)
class Done:
    """What a performed operation answers: its JSON (the API's answer, and the data of
    its events) and the batch it posted, if any."""

    data: dict[str, Any]
    status: int = 201
    batch: Batch | None = None


@dataclass(frozen=True)
class Gate:
    """Why an operation waits for a second person's approval: the approval's kind, the
    amount that made it wait (a refund's amount, a new credit limit…), whose account it
    is and the maker's reason."""

    kind: str  # Approval.Kind
    amount_minor: int
    customer: Customer | None = None
    reason: str = ""


@dataclass(frozen=True)
class Result:
    """The answer of ``run``: a done operation, now or replayed. ``body`` is the answer's
    JSON text, byte for byte as it was first given."""

    status: int
    body: str
    batch_id: int | None
    replayed: bool

    @property
    def data(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Operation:
    """Base of every operation: a frozen dataclass whose fields say what was asked.

    ``action`` is its line in the role table; ``moves_money`` operations need an
    idempotency key. ``perform`` does the work in the envelope's transaction.
    """

    action: ClassVar[str]
    moves_money: ClassVar[bool] = True
    # Run on a schedule by the shop itself (``prepaid expire``, the worker): no person or
    # token acts, so no role is asked. No interface builds these from a request.
    scheduled: ClassVar[bool] = False
    # Asked by the customers themselves, with the proof their interface checked (a signed
    # link of their own): no staff or token acts, so no role is asked either.
    by_customer: ClassVar[bool] = False

    def __init_subclass__(cls, **options: Any) -> None:
        super().__init_subclass__(**options)
        assert cls.__name__ not in OPERATIONS, f"two operations named {cls.__name__}"
        OPERATIONS[cls.__name__] = cls

    def gate(self, context: Context) -> Gate | None:
        """Whether this request needs a second person's approval under the shop's
        settings (docs/security.md, "Four eyes"); checked before ``perform``, in its
        transaction. It may refuse what could never be approved (no reason given)."""
        return None

    def perform(self, context: Context) -> Done:
        raise NotImplementedError

    def fingerprint(self) -> str:
        """The digest of what was asked: the operation's name and its fields."""
        assert dataclasses.is_dataclass(self)
        described = [type(self).__name__, dataclasses.asdict(self)]
        text = json.dumps(described, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def run(operation: Operation, *, actor: Actor, scope: str, key: str | None = None) -> Result:
    """Run ``operation`` once per ``(scope, key)``; see the module docstring. Raises the
    ``Refusal`` (``refusal.replayed`` tells a stored one), or answers the outcome."""
    if operation.moves_money and not key:
        raise ValueError(f"{type(operation).__name__} moves money: it needs a key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"a key has 1 to {MAX_KEY_LENGTH} characters")
    fingerprint = operation.fingerprint()
    for attempt in (1, 2):
        try:
            return _attempt(operation, actor, scope, key, fingerprint)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _attempt(
    operation: Operation, actor: Actor, scope: str, key: str | None, fingerprint: str
) -> Result:
    with one_transaction():
        if key is not None and (replayed := _replay(_claim(scope, key), fingerprint)):
            return replayed
        nobody = actor.staff is None and actor.api_token is None
        unattended = nobody and (operation.scheduled or operation.by_customer)
        if not unattended and not may(actor.role, operation.action):
            raise Refusal("permission_denied")
        context = Context(actor, Business.get(), _ledger_key(scope, key))
        try:
            done = perform_or_hold(operation, context)
        except Refusal as refusal:
            kept = refusal
        else:
            text, sealed = context.finish(done)
            if key is not None:
                context.pending.add(
                    Outcome(
                        scope=scope,
                        key=key,
                        fingerprint=fingerprint,
                        state=Outcome.State.DONE,
                        status_code=done.status,
                        batch=done.batch,
                        customer_id=context.customer_id,
                        body=sealed,
                    )
                )
            context.pending.flush()
            batch_id = done.batch.pk if done.batch else None
            return Result(done.status, text, batch_id, replayed=False)
        transaction.set_rollback(True)
    # Refused: the transaction above rolled back. A business refusal is the key's
    # outcome from now on, unless a concurrent request stored one first.
    if key is not None and kept.stored:
        with one_transaction():
            if replayed := _replay(_claim(scope, key), fingerprint):
                return replayed
            Outcome.objects.create(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                state=Outcome.State.REFUSED,
                status_code=kept.status,
                body=sealing.seal_record(json.dumps(kept.as_json(), cls=DjangoJSONEncoder)),
            )
    raise kept


def perform_or_hold(operation: Operation, context: Context) -> Done:
    """Perform the operation, unless it needs a second person's approval: then it is
    kept as a pending request, answered 202, once a trial run (rolled back) showed it
    could be done now. The owner has no one above them: their own such operation
    runs, and is kept as ``owner_made`` for the day's exceptions."""
    gate = operation.gate(context)
    if gate is None:
        return operation.perform(context)
    if context.actor.role == Role.OWNER:
        done = operation.perform(context)
        _keep(operation, context, gate, status=Approval.Status.OWNER_MADE, batch=done.batch)
        return done
    _try(operation, context)
    request = _keep(operation, context, gate, status=Approval.Status.PENDING, batch=None)
    return Done(present.approval(request, context.business.currency), status=202)


def _try(operation: Operation, context: Context) -> None:
    """Perform the operation in a savepoint and roll it back: what could not be done now
    (not enough money, a punch card used since its sale…) is refused at once, with its
    own refusal, instead of waiting for an approval that could only fail."""
    trial = Context(context.actor, context.business, context.ledger_key)
    with transaction.atomic():
        operation.perform(trial)
        transaction.set_rollback(True)


# Fields of a waiting operation kept sealed (lib.sealing.seal_record): personal data.
SEALED_FIELDS = frozenset({"sheet"})


def _keep(
    operation: Operation, context: Context, gate: Gate, *, status: str, batch: Batch | None
) -> Approval:
    actor = context.actor
    owner_made = status == Approval.Status.OWNER_MADE
    fields = json.loads(_json(dataclasses.asdict(operation)))  # type: ignore[call-overload]
    for name in SEALED_FIELDS & fields.keys():  # an imported sheet's names and phones
        fields[name] = sealing.seal_record(fields[name]) if fields[name] else ""
    request = Approval.objects.create(
        kind=gate.kind,
        status=status,
        operation=type(operation).__name__,
        fields=fields,
        fingerprint=operation.fingerprint(),
        amount_minor=gate.amount_minor,
        customer=gate.customer,
        reason=gate.reason.strip()[:255],
        store=actor.store,
        staff=actor.staff,
        api_token=actor.api_token,
        device=actor.device,
        decided_by=actor.staff if owner_made else None,
        decided_by_token=actor.api_token if owner_made else None,
        decided_at=timezone.now() if owner_made else None,
        batch=batch,
    )
    audit.record(
        f"approval.{status}",  # pending (asked), or owner_made
        f"approval:{request.pk}",
        by=actor.by,
        store=actor.store,
        after=present.approval_audited(request),
    )
    return request


def rebuilt(request: Approval) -> Operation:
    """The operation an approval request keeps, as it was asked; its fingerprint must be
    the one kept with it (a request changed behind the app's back is not run)."""
    kind = OPERATIONS[request.operation]
    values = {name: _tuples(value) for name, value in request.fields.items()}
    for name in SEALED_FIELDS & values.keys():
        values[name] = sealing.open_record(values[name])
    operation = kind(**values)
    if operation.fingerprint() != request.fingerprint:
        raise Refusal("invalid_transfer", detail=f"approval {request.pk} was changed")
    return operation


def _tuples(value: Any) -> Any:
    """JSON's lists back into the tuples a frozen dataclass holds (a sale's lines)."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


def _json(data: object) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder)


def _ledger_key(scope: str, key: str | None) -> str:
    """The ledger batch's key: the caller's key within its scope. A digest, not the key
    itself: a key may have 255 characters, and cutting the prefixed text to the
    column's 255 would make two long keys one."""
    if key is None:
        return ""
    return f"{scope}:{hashlib.sha256(key.encode()).hexdigest()}"


_CLAIM_SQL = {
    "postgresql": (
        "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0)), o.id, o.fingerprint,"
        " o.state, o.status_code, o.batch_id, o.body"
        " FROM (SELECT 1) AS one LEFT JOIN operations_outcome o"
        " ON o.scope = %s AND o.key = %s"
    ),
    "sqlite": (
        "SELECT %s IS NOT NULL, o.id, o.fingerprint, o.state, o.status_code, o.batch_id,"
        " o.body FROM (SELECT 1) AS one LEFT JOIN operations_outcome o"
        " ON o.scope = %s AND o.key = %s"
    ),
}


@dataclass(frozen=True)
class _Stored:
    fingerprint: str
    state: str
    status_code: int
    batch_id: int | None
    body: str


def _claim(scope: str, key: str) -> _Stored | None:
    """Claim the key for this transaction and read its outcome: one statement.

    SQLite's IMMEDIATE transactions already hold the only write lock.
    """
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL[connection.vendor], [f"{scope}\n{key}", scope, key])
        claimed, found, fingerprint, state, status_code, batch_id, body = cursor.fetchone()
    if not claimed:
        raise Refusal("idempotency_key_in_use")
    if found is None:
        return None
    return _Stored(fingerprint, state, status_code, batch_id, sealing.open_record(body))


def _replay(stored: _Stored | None, fingerprint: str) -> Result | None:
    """Nothing stored: None, go on. Stored for this very request: its outcome again (a
    refusal is raised again). Stored for another request: ``idempotency_key_reused``."""
    if stored is None:
        return None
    if stored.fingerprint and stored.fingerprint != fingerprint:
        conflict = Refusal("idempotency_key_reused")
        conflict.original = stored  # the counter shows it
        raise conflict
    if stored.state == Outcome.State.REFUSED:
        refusal = Refusal.from_json(json.loads(stored.body))
        refusal.replayed = True
        raise refusal
    return Result(stored.status_code, stored.body, stored.batch_id, replayed=True)
