"""One webhook POST: signed, to a checked address, within a deadline. No database here.

``post`` checks the URL again (``addresses.check``: resolve once, every address public),
then connects to one of exactly those addresses: ``http.client`` with the connection
pinned to the address, the Host header and, for https, the TLS server name and the
certificate check for the URL's own host name. ``timeout_seconds`` bounds the whole
exchange (connect, send, answer), not each read: a receiver that trickles its answer
byte by byte is cut off at the deadline like one that never answers.

Redirects are not followed (a 3xx is a failed attempt): a public receiver could
otherwise send the worker on to a private address.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from prepaid.webhooks import addresses

SIGNATURE_HEADER = "Prepaid-Signature"
USER_AGENT = "prepaid-webhooks/1"
EXCERPT_CHARACTERS = 500


@dataclass(frozen=True)
class Answer:
    """How an attempt went: the HTTP status (None when there was no answer), how long it
    took, the start of the answer's body, or what went wrong."""

    status_code: int | None
    latency_ms: int
    response: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Prepaid-Signature`` header's value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of
    "<t>.<body>" keyed with the secret>``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post(url: str, body: bytes, *, secret: str, timestamp: int, timeout_seconds: float) -> Answer:
    """POST ``body`` (JSON) to ``url``, signed; never raises for what the network does."""
    started = time.monotonic()
    try:
        target = addresses.check(url)
    except addresses.AddressRefused as refused:
        return Answer(None, _since(started), error=f"refused: {refused}")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }
    deadline = started + timeout_seconds
    try:
        connection = _connect(target, deadline)
    except (OSError, ValueError) as error:
        return Answer(None, _since(started), error=_describe(error, started, timeout_seconds))
    # The deadline of the whole exchange: past it, the socket is shut, and whatever read
    # or write is waiting on it ends at once.
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, [connection])
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body, headers)
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_CHARACTERS * 4)
    except (OSError, http.client.HTTPException, ValueError) as error:
        return Answer(None, _since(started), error=_describe(error, started, timeout_seconds))
    finally:
        watchdog.cancel()
        connection.close()
    text = excerpt.decode("utf-8", errors="replace")[:EXCERPT_CHARACTERS]
    return Answer(response.status, _since(started), response=text)


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to ``address``, asking for ``host``."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(_PinnedHTTP):
    """An https connection to ``address``: the server name (SNI) and the certificate
    check are for ``host``."""

    default_port = 443

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, address=address, timeout=timeout)
        self.tls = tls_context()

    def connect(self) -> None:
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


def tls_context() -> ssl.SSLContext:
    """The system's trusted authorities, host names checked (tests trust their own)."""
    return ssl.create_default_context()


def _connect(target: addresses.Target, deadline: float) -> _PinnedHTTP:
    """A connection to the first of the target's addresses that answers."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    failure: OSError = ConnectionError("no address")
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        connection = kind(target.host, target.port, address=address, timeout=remaining)
        try:
            connection.connect()
        except OSError as error:
            connection.close()
            failure = error
            continue
        return connection
    raise failure


def _cut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing to cut
            sock.shutdown(socket.SHUT_RDWR)


def _describe(error: BaseException, started: float, timeout_seconds: float) -> str:
    if isinstance(error, TimeoutError) or time.monotonic() - started >= timeout_seconds:
        return f"timed out after {timeout_seconds:g} s"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not valid: {error.verify_message}"
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:300]


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
