"""Where a webhook may go: public http(s) addresses only (no server-side request forgery).

A webhook URL is the owner's (or an API token's) text, and the worker posts to it from
inside the shop's network. So an endpoint whose host resolves to a loopback, link-local,
private, unspecified, multicast or reserved address — IPv4 or IPv6, an IPv4 address
mapped or embedded in IPv6 included — is refused, unless the host (its name, or its
address) is listed in ``PREPAID_WEBHOOK_ALLOW_HOSTS`` (comma-separated names, addresses
or networks such as ``10.0.0.0/8``; read at each use, from the settings or else the
environment).

The check runs when the URL is saved and again before every delivery: ``check``
resolves the host once, checks every address, and answers them; the sender connects to
one of exactly those addresses (no second look-up that a DNS server could answer
differently in between).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_LENGTH = 2000
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"),)
_PRINTABLE_ASCII = "".join(chr(code) for code in range(33, 127))


class AddressRefused(Exception):
    """The URL may not be a webhook's. ``code`` is the refusal's (``staff.refusals``):
    ``webhook_url_not_valid``, ``webhook_url_unresolved`` or ``webhook_url_not_allowed``;
    ``params`` fill its message in."""

    def __init__(self, code: str, explanation: str, **params: str) -> None:
        super().__init__(explanation)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``addresses``, in the resolver's order) and what
    to ask for there (``host`` for the Host header and the TLS certificate)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def check(url: str) -> Target:
    """The URL's target, every address of it allowed; ``AddressRefused`` otherwise."""
    scheme, host, port, path = _parts(url)
    addresses = resolve(host, port)
    if not addresses:
        raise AddressRefused("webhook_url_unresolved", f"{host} has no address", name=host)
    names, networks = _allowed()
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if host in names or any(address in network for network in networks):
            continue
        if reason := forbidden(address):
            explanation = f"{host} resolves to {address} ({reason})"
            raise AddressRefused(
                "webhook_url_not_allowed", explanation, name=host, detail=str(address)
            )
    return Target(scheme, host, port, path, tuple(addresses))


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host`` (an IP address is its own), without duplicates."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    addresses: list[str] = []
    for *_, sockaddr in found:
        if str(sockaddr[0]) not in addresses:
            addresses.append(str(sockaddr[0]))
    return addresses


def forbidden(address: IPAddress) -> str:
    """Why ``address`` is not a public one ("loopback"…), or "" when it is."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := _embedded(address)):
        return forbidden(inner)
    for reason, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return reason
    return "" if address.is_global else "not public"


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address: the
    connection reaches that one, so that one is judged."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _parts(url: str) -> tuple[str, str, int, str]:
    """Scheme, host (lower case, ASCII), port and path with query of a usable URL."""
    if len(url) > MAX_URL_LENGTH or any(char.isspace() or ord(char) < 32 for char in url):
        raise AddressRefused("webhook_url_not_valid", "not a URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("webhook_url_not_valid", "not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("webhook_url_not_valid", "not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("webhook_url_not_valid", "credentials in the URL")
    try:
        host = parts.hostname.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressRefused("webhook_url_not_valid", "not a host name") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # A request line is ASCII: anything else in the path is sent percent-encoded.
    path = quote(path, safe=_PRINTABLE_ASCII)
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def _allowed() -> tuple[set[str], list[IPNetwork]]:
    """``PREPAID_WEBHOOK_ALLOW_HOSTS``: host names, and addresses or networks."""
    value = getattr(settings, "PREPAID_WEBHOOK_ALLOW_HOSTS", None)
    if value is None:
        value = os.environ.get("PREPAID_WEBHOOK_ALLOW_HOSTS", "")
    entries = value if isinstance(value, list | tuple) else str(value).split(",")
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in (str(item).strip().lower().rstrip(".") for item in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry)
    return names, networks
