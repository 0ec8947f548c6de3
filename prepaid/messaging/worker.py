"""The messaging consumer of the outbox: messages written at dispatch, sent when due.

``take`` (inside the outbox's dispatching transaction, no input or output) writes the
messages an event calls for:

* ``top_up.created``, ``sale.created``, ``refund.created``: an e-mail receipt, when the
  customer has an e-mail address and receipts on (``Customer.email_receipts``);
* ``sale.created`` that takes the balance (paid and bonus) from at or above the
  customer's low-balance level to below it (the customer's own level, else the shop's;
  none or 0: off): a notice by e-mail (same rule as receipts) and by SMS when SMS is on
  and the customer agreed to SMS.

``send`` (outside any transaction) first looks, once a day, for bonus about to expire and
passes about to end (``Business.reminder_days`` ahead) and writes a reminder for each
customer who agreed to marketing on that channel; then claims the due messages in a
short transaction (a lease other workers respect), sends each, and records the outcome:
sent, or the next attempt after ``BACKOFF`` (failed after the last). Before sending it
checks again: a customer erased, or who withdrew the consent meanwhile, gets nothing
(``skipped``). A mail server that is down costs the worker a round, never a sale.

Every message has a unique ``key``: an event dispatched again, or a look made twice,
writes nothing new.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.ledger.models import Account
from prepaid.lib import sealing
from prepaid.lib.money import to_minor
from prepaid.messaging import compose, sms, unsubscribe
from prepaid.messaging.models import Message
from prepaid.operations.models import Event
from prepaid.operations.outbox import Consumer
from prepaid.programs.models import Pass
from prepaid.sales import expiry
from prepaid.staff.models import Business

logger = logging.getLogger("prepaid.messaging")

# The wait after each failed attempt; after the last, the message has failed.
BACKOFF = tuple(timedelta(minutes=minutes) for minutes in (1, 5, 30, 120))
LEASE = timedelta(minutes=5)
CLAIM_BATCH = 20
RECEIPT_EVENTS = (
    "top_up.created",
    "sale.created",
    "refund.created",
    "punch_card.sold",
    "pass.sold",
)

Kind, Channel, Status = Message.Kind, Message.Channel, Message.Status


# -- take ----------------------------------------------------------------------------------


def take(events: Sequence[Event], now: datetime) -> None:
    wanted = [e for e in events if e.type in RECEIPT_EVENTS and e.customer_id is not None]
    if not wanted:
        return
    business = Business.current()
    if business is None:
        return
    people = Customer.objects.in_bulk({e.customer_id for e in wanted})
    messages: list[Message] = []
    for event in wanted:
        person = people.get(event.customer_id)
        if person is None or person.erased_at is not None or not _may_hear(event, person, business):
            continue
        try:
            data = json.loads(sealing.open_record(event.data))
            if data.get("erased"):
                continue
            messages += _for_event(event, data, person, business, now)
        except Exception:
            # No input or output here, no database either: a message that cannot be
            # written (a bug, a key that cannot be read) costs that message, never the
            # dispatch, which the webhooks share.
            logger.exception("message for event %s not written", event.pk)
    Message.objects.bulk_create(messages, ignore_conflicts=True)


def _for_event(
    event: Event, data: dict[str, Any], person: Customer, business: Business, now: datetime
) -> list[Message]:
    found = []
    language = compose.language_of(person, business)
    by_email = bool(person.email) and person.email_receipts
    if by_email:
        link = unsubscribe.url(person, unsubscribe.RECEIPTS)
        written = compose.receipt(data, business, language, link)
        found.append(
            _message(
                person,
                Kind.RECEIPT,
                Channel.EMAIL,
                f"receipt:{event.pk}",
                written,
                language,
                now,
                event=event,
                unsubscribe=link,
            )
        )
    if event.type == "sale.created" and (after := _crossed(data, person, business)) is not None:
        if by_email:
            link = unsubscribe.url(person, unsubscribe.RECEIPTS)
            written = compose.low_balance(after, business, language, link, sms=False)
            found.append(
                _message(
                    person,
                    Kind.LOW_BALANCE,
                    Channel.EMAIL,
                    f"low:email:{event.pk}",
                    written,
                    language,
                    now,
                    event=event,
                    unsubscribe=link,
                )
            )
        if sms.enabled() and person.marketing_sms and person.phone:
            written = compose.low_balance(after, business, language, "", sms=True)
            found.append(
                _message(
                    person,
                    Kind.LOW_BALANCE,
                    Channel.SMS,
                    f"low:sms:{event.pk}",
                    written,
                    language,
                    now,
                    event=event,
                )
            )
    return found


def _may_hear(event: Event, person: Customer, business: Business) -> bool:
    """Whether the event can call for a message to the person at all, asked before its
    data is opened (most customers of a shop get none: no e-mail address, no level): an
    e-mail address (its blind index: nothing opened) with receipts on, or a sale and a
    low-balance level."""
    if person.email_index is not None and person.email_receipts:
        return True
    return event.type == "sale.created" and level_of(person, business) > 0


def level_of(person: Customer, business: Business) -> int:
    """The balance below which the customer gets a notice: theirs, else the shop's; 0
    is none."""
    level = person.low_balance_minor
    if level is None:
        level = business.low_balance_minor
    return max(level or 0, 0)


def _crossed(data: dict[str, Any], person: Customer, business: Business) -> int | None:
    """The balance (paid and bonus) a sale left, when it went from at or above the
    customer's level to below it; None otherwise (a sale below it already says nothing
    again)."""
    level = level_of(person, business)
    if not level:
        return None
    currency = business.currency

    def minor(name: str) -> int:
        return to_minor(Decimal(str(data.get(name) or 0)), currency)

    after = minor("balance") + minor("bonus_balance")
    before = after - minor("amount") - minor("bonus_amount")  # a sale's changes are negative
    return after if before >= level > after else None


def _message(
    person: Customer,
    kind: str,
    channel: str,
    key: str,
    written: compose.Written,
    language: str,
    now: datetime,
    *,
    event: Event | None = None,
    unsubscribe: str = "",
) -> Message:
    to = person.email if channel == Channel.EMAIL else person.phone
    body = {"text": written.text, "html": written.html, "unsubscribe": unsubscribe}
    return Message(
        customer=person,
        event=event,
        channel=channel,
        kind=kind,
        key=key,
        language=language,
        subject=written.subject[:200],
        sealed_recipient=person.seal(to, f"message:{key}:to"),
        sealed_body=person.seal(json.dumps(body, ensure_ascii=False), f"message:{key}"),
        next_attempt_at=now,
        created_at=now,
    )


# -- reminders -------------------------------------------------------------------------


_last_look: list[date] = []  # the day this process last looked for what expires


def remind(now: datetime | None = None) -> int:
    """Write the reminders due (once a day in a process; a call given ``now`` always
    looks): bonus that will have expired ``reminder_days`` from now, and passes ending
    by then, for the customers who agreed to marketing on the channel. One reminder per
    bonus balance in any ``reminder_days`` days (not per calendar period: two days in a
    row across a period's end would remind twice), one per pass. Answers how many
    were written."""
    at = now or timezone.now()
    if now is None and _last_look[:1] == [at.date()]:
        return 0
    _last_look[:] = [at.date()]
    business = Business.current()
    if business is None or not business.reminder_days:
        return 0
    days = business.reminder_days
    horizon = at + timedelta(days=days)
    # The bonus balances reminded within the last ``days`` days, by their key's stem.
    recent = {
        stem.rsplit(":", 1)[0]
        for stem in Message.objects.filter(
            kind=Kind.EXPIRY_REMINDER, created_at__gt=at - timedelta(days=days)
        ).values_list("key", flat=True)
    }
    channels = [Channel.EMAIL, Channel.SMS] if sms.enabled() else [Channel.EMAIL]
    consenting = Q(erased_at__isnull=True, status=Customer.Status.ACTIVE) & (
        Q(marketing_email=True) | Q(marketing_sms=True)
    )
    messages: list[Message] = []

    def reminders(
        person: Customer, key: str, write: Callable[..., compose.Written], *, dated: bool = False
    ) -> None:
        """The reminders of one thing to one customer, on each channel they agreed to;
        ``write(language, link, sms=…)`` words it, ``key`` keeps it once (``dated``:
        once in ``days`` days, the day's date added to the key)."""
        for channel in channels:
            stem = f"remind:{channel}:{key}"
            if not _agreed(person, channel) or (dated and stem in recent):
                continue
            language = compose.language_of(person, business)
            link = (
                unsubscribe.url(person, unsubscribe.MARKETING) if channel == Channel.EMAIL else ""
            )
            written = write(language, link, sms=channel == Channel.SMS)
            messages.append(
                _message(
                    person,
                    Kind.EXPIRY_REMINDER,
                    channel,
                    f"{stem}:{at.date().isoformat()}" if dated else stem,
                    written,
                    language,
                    at,
                    unsubscribe=link,
                )
            )

    bonus = [d for d in expiry.due(horizon) if d.kind == Account.Kind.BONUS]
    people = Customer.objects.filter(consenting).in_bulk({d.customer_id for d in bonus})
    for item in bonus:
        if (person := people.get(item.customer_id)) is not None:
            reminders(
                person,
                f"bonus:{item.account_id}",
                functools.partial(compose.bonus_reminder, item.amount, horizon, business),
                dated=True,
            )
    ending = Pass.objects.filter(
        ends_at__gt=at, ends_at__lte=horizon, earned__isnull=True
    ).select_related("customer")
    for held in ending.filter(customer__in=Customer.objects.filter(consenting)):
        reminders(
            held.customer,
            f"pass:{held.pk}",
            functools.partial(compose.pass_reminder, held.name, held.ends_at, business),
        )
    before = Message.objects.count()
    Message.objects.bulk_create(messages, ignore_conflicts=True)
    return Message.objects.count() - before


def _agreed(person: Customer, channel: str) -> bool:
    if channel == Channel.EMAIL:
        return person.marketing_email and bool(person.email)
    return person.marketing_sms and bool(person.phone)


# -- send ----------------------------------------------------------------------------------


def send(now: datetime | None = None) -> int:
    """The worker's round: the day's reminders, then every message that is due, batch
    after batch. Answers how many were sent or settled."""
    try:
        remind(now)
    except Exception:  # the reminders' bug must not stop what is waiting to be sent
        logger.exception("reminders: the look for what expires failed")
    handled = 0
    while claimed := claim(now):
        handled += len(claimed)
        _send_all(claimed, now)
    return handled


CONSUMER = Consumer(name="messages", take=take, work=send)


def due(now: datetime) -> Q:
    return Q(status=Status.WAITING, next_attempt_at__lte=now) & (
        Q(leased_until__isnull=True) | Q(leased_until__lte=now)
    )


def claim(now: datetime | None = None, *, limit: int = CLAIM_BATCH) -> list[int]:
    """Lease up to ``limit`` due messages to this worker, in one short transaction."""
    at = now or timezone.now()
    if not Message.objects.filter(due(at)).exists():  # a read: no write lock when idle
        return []
    with transaction.atomic():
        chosen = list(
            Message.objects.filter(due(at))
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=chosen).update(leased_until=at + lease())
    return chosen


@dataclass(frozen=True)
class Outcome:
    sent: bool
    error: str = ""
    skipped: str = ""


def _send_all(ids: list[int], now: datetime | None) -> None:
    """Send the claimed messages, e-mail over one SMTP connection. A server that cannot
    be reached fails the batch's other e-mails at once: a dead server costs one timeout
    per round, not one per message (the webhooks share the worker)."""
    business = Business.current()
    connection: BaseEmailBackend | None = None
    unreachable = ""
    for message in Message.objects.filter(pk__in=ids).select_related("customer").order_by("id"):
        outcome = _refused(message)
        if outcome is None and message.channel == Channel.EMAIL and unreachable:
            outcome = Outcome(sent=False, error=unreachable)
        if outcome is None:
            try:
                if message.channel == Channel.EMAIL:
                    if connection is None:
                        connection = _connect()
                    _email(message, business, connection)
                else:
                    backend = sms.backend()
                    if backend is None:
                        raise sms.SmsError("SMS is off")
                    _sms(message, backend)
                outcome = Outcome(sent=True)
            except Unreachable as error:
                unreachable = describe(error.__cause__ or error)
                outcome = Outcome(sent=False, error=unreachable)
            except Exception as error:
                outcome = Outcome(sent=False, error=describe(error))
                if connection is not None:
                    _close(connection)
                    connection = None
        record(message.pk, outcome, now=now)
    if connection is not None:
        _close(connection)


class Unreachable(Exception):
    """The mail server could not be reached or refused the connection."""


def _connect() -> BaseEmailBackend:
    connection = mail.get_connection()
    try:
        connection.open()
    except Exception as error:
        raise Unreachable from error
    return connection


def lease() -> timedelta:
    """How long a claim keeps other workers off a batch: longer than sending it can take
    (every message its full ``EMAIL_TIMEOUT``), so no message is sent twice."""
    timeout = float(getattr(settings, "EMAIL_TIMEOUT", None) or 60)
    return max(LEASE, timedelta(seconds=CLAIM_BATCH * (timeout + 5)))


def _close(connection: BaseEmailBackend) -> None:
    with contextlib.suppress(Exception):  # a connection that broke: nothing to close
        connection.close()


def _refused(message: Message) -> Outcome | None:
    """Why the message must not leave now (the consent withdrawn, the customer erased
    since it was written), or None."""
    person = message.customer
    if person.erased_at is not None or not person.sealed_key:
        return Outcome(sent=False, skipped="erased")
    if message.channel == Channel.SMS:
        return None if person.marketing_sms else Outcome(sent=False, skipped="no_consent")
    if message.kind == Kind.EXPIRY_REMINDER:
        return None if person.marketing_email else Outcome(sent=False, skipped="no_consent")
    return None if person.email_receipts else Outcome(sent=False, skipped="opted_out")


def _email(message: Message, business: Business | None, connection: BaseEmailBackend) -> None:
    person = message.customer
    body = json.loads(person.unseal(message.sealed_body, f"message:{message.key}"))
    to = person.unseal(message.sealed_recipient, f"message:{message.key}:to")
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    sender = formataddr((business.name if business else name, address))
    headers = {}
    if body.get("unsubscribe"):
        headers["List-Unsubscribe"] = f"<{body['unsubscribe']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = mail.EmailMultiAlternatives(
        message.subject, body["text"], sender, [to], headers=headers, connection=connection
    )
    if body.get("html"):
        email.attach_alternative(body["html"], "text/html")
    email.send()


def _sms(message: Message, backend: sms.Backend) -> None:
    person = message.customer
    body = json.loads(person.unseal(message.sealed_body, f"message:{message.key}"))
    to = person.unseal(message.sealed_recipient, f"message:{message.key}:to")
    backend.send(to, body["text"])


def describe(error: BaseException) -> str:
    """What failed, for the log: the type and the server's code, never an address."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({answer[0] for answer in error.recipients.values()})
        return f"SMTPRecipientsRefused {' '.join(map(str, codes))}"
    if isinstance(error, sms.SmsError):
        return f"SmsError: {error}"[:200]
    return f"{type(error).__name__}{f' {code}' if code else ''}"[:200]


def record(message_id: int, outcome: Outcome, *, now: datetime | None = None) -> None:
    at = now or timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != Status.WAITING:
            return
        message.leased_until = None
        if outcome.skipped:
            message.status, message.reason = Status.SKIPPED, outcome.skipped
            message.next_attempt_at = None
        elif outcome.sent:
            message.attempts += 1
            message.status, message.sent_at, message.next_attempt_at = Status.SENT, at, None
            message.last_error = ""
        else:
            message.attempts += 1
            message.last_error = outcome.error
            if message.attempts > len(BACKOFF):
                message.status, message.next_attempt_at = Status.FAILED, None
            else:
                message.next_attempt_at = at + BACKOFF[message.attempts - 1]
        message.save()
    if outcome.error:
        logger.warning("message %s (%s) not sent: %s", message_id, message.kind, outcome.error)
