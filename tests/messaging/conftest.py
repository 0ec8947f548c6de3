"""A real SMTP server on 127.0.0.1 (aiosmtpd, in the test process) that keeps every
message it accepts, or refuses them when told to; operations run through the envelope;
one round of the worker."""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from prepaid.customers import services as customers
from prepaid.ledger.services import Actor
from prepaid.lib.money import to_minor
from prepaid.operations import outbox
from prepaid.operations.envelope import Result, run
from prepaid.operations.money import Sale, TopUp
from tests.factories import key, make_actor, make_business, make_customer, make_product


@dataclass
class Mailbox:
    """What the SMTP server received; ``answer`` is what it says to each message."""

    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)
    answer: str = "250 Message accepted for delivery"
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        if not self.answer.startswith("250"):
            return self.answer
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(parsed)  # type: ignore[arg-type]
            self.envelopes.append(list(envelope.rcpt_tos))
        return self.answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Smtp:
    mailbox: Mailbox
    controller: Controller
    port: int

    def stop(self) -> None:
        self.controller.stop()

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()


@pytest.fixture
def smtp(settings) -> Iterator[Smtp]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "shop@agua.example"
    server = Smtp(mailbox, controller, port)
    yield server
    with contextlib.suppress(AssertionError, RuntimeError):  # stopped by the test already
        server.controller.stop()


@pytest.fixture
def shop(db):
    return make_business(currency="PHP", region="PH")


@pytest.fixture
def actor(shop) -> Actor:
    return make_actor()


@pytest.fixture
def product(shop) -> int:
    return make_product("Purified water", price="2.50").pk


def customer(name: str = "Maria Santos", *, email: str = "", **profile) -> str:
    person = make_customer(name)
    if email or profile:
        customers.update(person, customers.Profile(email=email or None, **profile), by=None)
    return person.code


def top_up(code: str, amount: str, actor: Actor) -> Result:
    return run(
        TopUp(customer=code, amount_minor=to_minor(amount, "PHP"), method="cash"),
        actor=actor,
        scope="test",
        key=key("top-up"),
    )


def sell(code: str, product_id: int, quantity: str, actor: Actor) -> Result:
    return run(
        Sale(customer=code, lines=((str(product_id), quantity),)),
        actor=actor,
        scope="test",
        key=key("sale"),
    )


def work(now: datetime | None = None) -> int:
    """One round of the worker, as ``prepaid serve`` runs it."""
    return outbox.work_once(now=now or timezone.now())


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and the HTML part."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()
