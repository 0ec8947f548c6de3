"""Webhooks go to public addresses only: loopback, private, link-local, unspecified,
multicast and reserved addresses (IPv4 and IPv6, IPv4-mapped too) are refused when the
URL is saved and again at delivery; the connection goes to the address that was checked;
PREPAID_WEBHOOK_ALLOW_HOSTS lets a listed host through."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess

import pytest

from prepaid.staff.refusals import Refusal
from prepaid.webhooks import addresses, sending, services
from prepaid.webhooks.models import Delivery, Endpoint
from tests.webhooks.conftest import Receiver, work

PUBLIC = "93.184.215.14"


@pytest.fixture(autouse=True)
def _nothing_allowed(settings):
    """Whatever the environment of the test run says."""
    settings.PREPAID_WEBHOOK_ALLOW_HOSTS = ""


@pytest.fixture
def dns(monkeypatch):
    """A resolver the test writes: name → addresses; the questions it was asked."""
    answers: dict[str, list[str]] = {}
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host in answers:
            return [(_family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def refusal_of(url: str) -> str | None:
    try:
        services.create_endpoint(url, ["sale.created"], by=None)
    except Refusal as refusal:
        return refusal.code
    return None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.8.9.10:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::]/hook",
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
        "http://[ff02::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://[2002:7f00:1::1]/hook",
    ],
)
def test_a_local_private_or_reserved_address_is_refused_when_saved(shop, url):
    assert refusal_of(url) == "webhook_url_not_allowed"
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "file:///etc/passwd", "https://user:pw@example.com/", "example.com",
     "http://exa mple.com/", "http://example.com:99999/", "gopher://example.com/", ""],
)  # fmt: skip
def test_only_plain_http_and_https_urls_are_taken(shop, url):
    assert refusal_of(url) == "webhook_url_not_valid"


def test_a_name_that_resolves_to_a_private_address_is_refused(shop, dns):
    answers, _ = dns
    answers["intranet.example"] = ["10.1.2.3"]
    answers["mixed.example"] = [PUBLIC, "127.0.0.1"]  # every address counts
    answers["public.example"] = [PUBLIC]
    assert refusal_of("https://intranet.example/hook") == "webhook_url_not_allowed"
    assert refusal_of("https://mixed.example/hook") == "webhook_url_not_allowed"
    assert refusal_of("https://public.example/hook") is None
    assert refusal_of("https://[::ffff:5db8:d70e]/hook") is None  # 93.184.215.14, mapped
    assert refusal_of("https://no-such-host.invalid/hook") == "webhook_url_unresolved"


def test_the_refusal_says_why_in_the_api(api):
    answer = api.owner.post("/webhooks", {"url": "http://127.0.0.1/x", "events": ["sale.created"]})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "webhook_url_not_allowed"
    assert "127.0.0.1" in error["message"] and "PREPAID_WEBHOOK_ALLOW_HOSTS" in error["message"]
    assert error["fields"] == {"url": error["message"]}


def test_a_host_listed_in_the_allow_list_is_let_through(shop, settings, dns, monkeypatch):
    answers, _ = dns
    answers["hooks.lan"] = ["192.168.1.7"]
    settings.PREPAID_WEBHOOK_ALLOW_HOSTS = None  # from the environment, read at each use
    monkeypatch.setenv("PREPAID_WEBHOOK_ALLOW_HOSTS", " hooks.lan , 10.9.8.7,172.20.0.0/16 ")
    assert refusal_of("http://hooks.lan:8080/hook") is None
    assert refusal_of("http://10.9.8.7/hook") is None
    assert refusal_of("http://172.20.1.1/hook") is None
    assert refusal_of("http://10.9.8.6/hook") == "webhook_url_not_allowed"
    monkeypatch.setenv("PREPAID_WEBHOOK_ALLOW_HOSTS", "")
    assert refusal_of("http://hooks.lan:8080/hook") == "webhook_url_not_allowed"


def test_a_name_that_turns_local_after_it_was_saved_is_refused_at_delivery(
    shop, receiver, settings, dns
):
    """DNS rebinding: public when saved, 127.0.0.1 when the worker sends."""
    answers, _ = dns
    settings.PREPAID_WEBHOOK_ALLOW_HOSTS = ""
    answers["rebind.example"] = [PUBLIC]
    endpoint, receiver.secret = services.create_endpoint(
        f"http://rebind.example:{receiver.port}/hook", ["sale.created"], by=None
    )
    answers["rebind.example"] = ["127.0.0.1"]
    services.ping(endpoint, by=None)
    work()
    attempt = Delivery.objects.get().tries.get()
    assert attempt.status_code is None
    assert attempt.error == "refused: rebind.example resolves to 127.0.0.1 (loopback)"
    assert receiver.requests == []


def test_the_connection_goes_to_the_address_checked_with_the_host_asked_for(
    shop, receiver, settings, dns
):
    """One look-up per delivery: the worker connects to the address it checked, and the
    Host header still names the host."""
    answers, asked = dns
    settings.PREPAID_WEBHOOK_ALLOW_HOSTS = "hooks.shop.example"
    answers["hooks.shop.example"] = ["127.0.0.1"]
    endpoint, receiver.secret = services.create_endpoint(
        f"http://hooks.shop.example:{receiver.port}/in?source=prepaid", ["sale.created"], by=None
    )
    asked.clear()
    services.ping(endpoint, by=None)
    work()
    assert [r.headers["host"] for r in receiver.requests] == [f"hooks.shop.example:{receiver.port}"]
    assert receiver.requests[0].path == "/in?source=prepaid"
    assert asked.count("hooks.shop.example") == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_is_checked_for_the_host_name_while_connecting_to_the_pinned_address(
    shop, settings, dns, monkeypatch, tmp_path
):
    answers, _ = dns
    answers["hooks.shop.example"] = answers["other.shop.example"] = ["127.0.0.1"]
    settings.PREPAID_WEBHOOK_ALLOW_HOSTS = "127.0.0.1"
    authority, certificate, key = _certificates(tmp_path, "hooks.shop.example")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate, key)
    trusted = ssl.create_default_context(cafile=str(authority))
    monkeypatch.setattr(sending, "tls_context", lambda: trusted)
    receiver = Receiver(tls=tls)
    receiver.thread.start()
    try:
        port = receiver.port
        wrong = services.create_endpoint(
            f"https://other.shop.example:{port}/hook", ["sale.created"], by=None
        )[0]
        right, receiver.secret = services.create_endpoint(
            f"https://hooks.shop.example:{port}/hook", ["sale.created"], by=None
        )
        services.ping(right, by=None)
        services.ping(wrong, by=None)
        work()
    finally:
        receiver.close()
    assert [r.headers["host"] for r in receiver.requests] == [f"hooks.shop.example:{port}"]
    assert right.deliveries.get().state == "delivered"
    assert wrong.deliveries.get().tries.get().error.startswith("TLS certificate not valid")


def _certificates(folder, host: str):
    """A throw-away authority and a certificate for ``host`` signed by it."""
    authority, authority_key = folder / "ca.pem", folder / "ca.key"
    request, certificate, key = folder / "host.csr", folder / "host.pem", folder / "host.key"
    extensions = folder / "ext.cnf"
    extensions.write_text(f"subjectAltName=DNS:{host}\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Test CA",
            "-keyout", str(authority_key), "-out", str(authority))  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}", "-keyout", str(key),
            "-out", str(request))  # fmt: skip
    openssl("x509", "-req", "-in", str(request), "-CA", str(authority), "-CAkey",
            str(authority_key), "-CAcreateserial", "-days", "1", "-extfile", str(extensions),
            "-out", str(certificate))  # fmt: skip
    return authority, certificate, key


def test_the_rule_itself():
    import ipaddress

    assert addresses.forbidden(ipaddress.ip_address("8.8.8.8")) == ""
    assert addresses.forbidden(ipaddress.ip_address("2001:4860:4860::8888")) == ""
    assert addresses.forbidden(ipaddress.ip_address("::ffff:8.8.8.8")) == ""
    assert addresses.forbidden(ipaddress.ip_address("::ffff:127.0.0.1")) == "loopback"
    assert addresses.forbidden(ipaddress.ip_address("169.254.1.1")) == "link-local"
    assert addresses.forbidden(ipaddress.ip_address("::")) == "unspecified"
    assert addresses.forbidden(ipaddress.ip_address("239.1.1.1")) == "multicast"


def test_a_path_beyond_ascii_is_sent_percent_encoded(shop, receiver, settings):
    settings.PREPAID_WEBHOOK_ALLOW_HOSTS = "127.0.0.1"
    url = f"http://127.0.0.1:{receiver.port}/hooks/café?shop=王"
    endpoint, receiver.secret = services.create_endpoint(url, ["sale.created"], by=None)
    services.ping(endpoint, by=None)
    work()
    assert [r.path for r in receiver.requests] == ["/hooks/caf%C3%A9?shop=%E7%8E%8B"]
