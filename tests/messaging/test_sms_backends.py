"""The SMS backends: the Twilio adapter's request, against a local imitation of the
Messages API (never the live service); the file backend's lines."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from prepaid.messaging.sms import FileBackend, SmsError, TwilioBackend


class FakeTwilio(BaseHTTPRequestHandler):
    requests: list[dict] = []
    status = 201

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        FakeTwilio.requests.append(
            {
                "path": self.path,
                "auth": self.headers["Authorization"],
                "type": self.headers["Content-Type"],
                "form": dict(urllib.parse.parse_qsl(body)),
                "raw": body,
            }
        )
        answer = {"sid": "SM123", "status": "queued"}
        if FakeTwilio.status >= 400:
            answer = {"code": 21211, "message": "The 'To' number is not a valid phone number."}
        payload = json.dumps(answer).encode()
        self.send_response(FakeTwilio.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def twilio(monkeypatch):
    FakeTwilio.requests, FakeTwilio.status = [], 201
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PREPAID_TWILIO_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("PREPAID_TWILIO_ACCOUNT_SID", "AC0123")
    monkeypatch.setenv("PREPAID_TWILIO_AUTH_TOKEN", "secret-token")
    monkeypatch.setenv("PREPAID_TWILIO_FROM", "+15005550006")
    yield FakeTwilio
    server.shutdown()
    server.server_close()


def test_twilio_gets_the_message_as_its_api_documents(twilio):
    TwilioBackend().send("+639171234567", "Agua Pura: your balance is now ₱3.50.")
    (request,) = twilio.requests
    assert request["path"] == "/2010-04-01/Accounts/AC0123/Messages.json"
    assert request["auth"] == "Basic " + base64.b64encode(b"AC0123:secret-token").decode()
    assert request["type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "To": "+639171234567",
        "From": "+15005550006",
        "Body": "Agua Pura: your balance is now ₱3.50.",
    }


def test_a_messaging_service_sends_in_place_of_a_number(twilio, monkeypatch):
    monkeypatch.setenv("PREPAID_TWILIO_FROM", "MG9876")
    TwilioBackend().send("+639171234567", "Hi")
    assert twilio.requests[0]["form"]["MessagingServiceSid"] == "MG9876"
    assert "From" not in twilio.requests[0]["form"]


def test_a_refusal_says_the_status_and_code_not_the_number(twilio):
    twilio.status = 400
    with pytest.raises(SmsError) as refused:
        TwilioBackend().send("+639171234567", "Hi")
    assert str(refused.value) == "HTTP 400 21211"
    assert "639171234567" not in str(refused.value)


def test_an_unconfigured_twilio_refuses(monkeypatch):
    monkeypatch.delenv("PREPAID_TWILIO_ACCOUNT_SID", raising=False)
    with pytest.raises(SmsError, match="not configured"):
        TwilioBackend().send("+639171234567", "Hi")


def test_the_file_backend_appends_a_line_per_message(tmp_path, monkeypatch):
    path = tmp_path / "sms.log"
    monkeypatch.setenv("PREPAID_SMS_FILE", str(path))
    FileBackend().send("+639171234567", "一")
    FileBackend().send("+639171234568", "two")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(line["to"], line["text"]) for line in lines] == [
        ("+639171234567", "一"),
        ("+639171234568", "two"),
    ]


GUIDE = Path(__file__).resolve().parents[2] / "docs" / "messages.md"


def test_the_guides_example_backend_sends(twilio, monkeypatch):
    """docs/messages.md's own backend, run against the same local server."""
    (block,) = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    names: dict = {"__name__": "guide"}
    exec(compile(block, str(GUIDE), "exec"), names)  # noqa: S102  (our own docs)
    port = urllib.parse.urlsplit(os.environ["PREPAID_TWILIO_URL"]).port
    monkeypatch.setenv("MYSHOP_SMS_URL", f"http://127.0.0.1:{port}/send")
    monkeypatch.setenv("MYSHOP_SMS_KEY", "k")
    names["GatewayBackend"]().send("+639171234567", "Hi")
    (request,) = twilio.requests
    assert (request["path"], request["auth"]) == ("/send", "Bearer k")
    assert json.loads(request["raw"]) == {"to": "+639171234567", "text": "Hi"}
    twilio.status = 500
    with pytest.raises(SmsError):
        names["GatewayBackend"]().send("+639171234567", "Hi")
