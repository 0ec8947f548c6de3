"""A real HTTP receiver on 127.0.0.1 that checks every signature with the code of
docs/webhooks.md, operations run through the envelope, and the worker's clock."""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from prepaid.ledger.services import Actor
from prepaid.lib.money import to_minor
from prepaid.operations import outbox
from prepaid.operations.envelope import Result, run
from prepaid.operations.money import Sale, TopUp
from prepaid.reports import days
from prepaid.webhooks import services
from prepaid.webhooks.models import Endpoint
from tests.api.conftest import api  # noqa: F401  (the API callers, for these tests too)
from tests.factories import key, make_actor, make_business, make_customer, make_product

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def guide_code() -> dict[str, Any]:
    """The Python block of docs/webhooks.md, run: its names (``verify``…)."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) == 1, "docs/webhooks.md has one Python example"
    names: dict[str, Any] = {"__name__": "guide"}
    exec(compile(blocks[0], str(GUIDE), "exec"), names)  # noqa: S102  (our own docs)
    return names


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it: header names in lower case."""

    number: int
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


# What the receiver answers the request with this number: a status, or STALL (no answer
# until the test lets it go).
STALL = 0
Script = Callable[[int, Received], int]


class Receiver:
    """An HTTP server on a thread that records every request and answers by ``script``.
    Signatures are checked with the guide's ``verify`` against the endpoint's secret
    (set ``secret``); a request with a wrong one is answered 400 and counted in
    ``forged``."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.forged: list[Received] = []
        self.secret = ""
        self.clock: Callable[[], float] | None = None
        self.script: Script = lambda number, request: 200
        self.stalled = threading.Event()  # set when a request starts to stall
        self.release = threading.Event()  # lets every stalled request go
        self.changed = threading.Condition()
        self.verify = guide_code()["verify"]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.server.receiver = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/prepaid"

    def take(self, path: str, headers: dict[str, str], body: bytes) -> tuple[Received, int]:
        with self.changed:
            request = Received(len(self.requests) + 1, path, headers, body)
            self.requests.append(request)
            self.changed.notify_all()
        try:
            now = self.clock() if self.clock else None
            self.verify(self.secret, headers.get("prepaid-signature", ""), body, now=now)
        except ValueError:
            self.forged.append(request)
            return request, 400
        return request, self.script(request.number, request)

    def ids(self) -> list[str]:
        return [request.event["id"] for request in self.requests]

    def wait_for(self, test: Callable[[list[Received]], bool], timeout: float = 60) -> bool:
        """Wait until ``test`` holds for the requests so far (or the timeout passes)."""
        with self.changed:
            return self.changed.wait_for(lambda: test(self.requests), timeout=timeout)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if len(body) < length:
            return  # the sender died mid-request (a killed worker): nothing was received
        headers = {name.lower(): value for name, value in self.headers.items()}
        _, status = receiver.take(self.path, headers, body)
        if status == STALL:
            receiver.stalled.set()
            receiver.release.wait(120)
            status = 200
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"received.")
        except OSError:
            pass  # the worker gave up (its timeout) or was killed

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    yield found
    found.close()


@pytest.fixture
def local(settings):
    """Webhooks to 127.0.0.1 allowed, as a test receiver needs."""
    settings.PREPAID_WEBHOOK_ALLOW_HOSTS = "127.0.0.1"
    settings.PREPAID_WEBHOOK_TIMEOUT_SECONDS = 5


@pytest.fixture
def shop(db):
    return make_business(currency="PHP", region="PH")


def subscribe(receiver: Receiver, events: list[str] | None = None) -> Endpoint:
    """An endpoint for ``receiver`` (all event types by default); the receiver learns its
    secret."""
    endpoint, secret = services.create_endpoint(
        receiver.url, events or list(outbox.EVENT_TYPES), by=None
    )
    receiver.secret = secret
    return endpoint


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


@dataclass
class Counter:
    """What a cashier needs to run operations: an actor, a product, customers."""

    actor: Actor
    product_id: int

    def customer(self, name: str) -> str:
        return make_customer(name).code


@pytest.fixture
def counter(shop) -> Counter:
    return Counter(make_actor(), make_product("Purified water", price="0.25").pk)


def work(now: datetime | None = None) -> int:
    """One round of the worker, as ``prepaid webhooks`` runs it; what it answers counts
    the webhooks' work alone (the day summaries, the round's other consumer, are written
    first, so they add nothing to the count)."""
    now = now or timezone.now()
    days.summarise_finished(now)
    return outbox.work_once(now=now)
