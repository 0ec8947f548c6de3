"""SMS backends: what sends a text message (``PREPAID_SMS_BACKEND`` names the class).

A backend is a class built without arguments (it reads its own settings) with one
method, ``send(to, text)``: ``to`` is an E.164 number, ``text`` the message. It returns
when the provider took the message and raises ``SmsError`` (or any exception) when it
did not; the worker then tries again later. Shipped:

* ``ConsoleBackend``: prints each message on the standard output (trying it out);
* ``FileBackend``: appends each message to ``PREPAID_SMS_FILE`` (by default
  ``sms.log`` in the data folder);
* ``TwilioBackend``: Twilio's Messages REST API. Written from Twilio's documentation and
  tested against a local imitation only, never against the live service.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The provider did not take the message; ``str()`` says why, without the number."""


class Backend(Protocol):
    def send(self, to: str, text: str) -> None: ...


def backend() -> Backend | None:
    """The configured backend, or None when SMS is off (``PREPAID_SMS_BACKEND`` empty)."""
    path = getattr(settings, "PREPAID_SMS_BACKEND", "")
    if not path:
        return None
    cls = import_string(path)
    instance: Backend = cls()
    return instance


def enabled() -> bool:
    return bool(getattr(settings, "PREPAID_SMS_BACKEND", ""))


class ConsoleBackend:
    def send(self, to: str, text: str) -> None:
        sys.stdout.write(f"SMS to {to}:\n{text}\n{'-' * 40}\n")
        sys.stdout.flush()


class FileBackend:
    def __init__(self) -> None:
        self.path = os.environ.get("PREPAID_SMS_FILE") or str(settings.DATA_DIR / "sms.log")

    def send(self, to: str, text: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(json.dumps({"at": stamp, "to": to, "text": text}, ensure_ascii=False))
            file.write("\n")


class TwilioBackend:
    """``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` with ``To``, ``From`` (or
    ``MessagingServiceSid``) and ``Body``, HTTP basic authentication with the account
    SID and auth token. Settings: ``PREPAID_TWILIO_ACCOUNT_SID``,
    ``PREPAID_TWILIO_AUTH_TOKEN``, ``PREPAID_TWILIO_FROM`` (a number or a messaging
    service SID, ``MG…``); ``PREPAID_TWILIO_URL`` (default ``https://api.twilio.com``)."""

    def __init__(self) -> None:
        self.sid = os.environ.get("PREPAID_TWILIO_ACCOUNT_SID", "")
        self.token = os.environ.get("PREPAID_TWILIO_AUTH_TOKEN", "")
        self.sender = os.environ.get("PREPAID_TWILIO_FROM", "")
        self.base = os.environ.get("PREPAID_TWILIO_URL", "https://api.twilio.com").rstrip("/")
        self.timeout = float(os.environ.get("PREPAID_SMS_TIMEOUT_SECONDS", "10"))

    def send(self, to: str, text: str) -> None:
        if not (self.sid and self.token and self.sender):
            raise SmsError("Twilio is not configured")
        fields = {"To": to, "Body": text}
        fields["MessagingServiceSid" if self.sender.startswith("MG") else "From"] = self.sender
        sid = urllib.parse.quote(self.sid, safe="")
        request = urllib.request.Request(  # noqa: S310 (the address is the shop's setting)
            f"{self.base}/2010-04-01/Accounts/{sid}/Messages.json",
            data=urllib.parse.urlencode(fields).encode(),
            method="POST",
        )
        login = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        request.add_header("Authorization", f"Basic {login}")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                answer.read(4096)
        except urllib.error.HTTPError as error:
            code = ""
            with contextlib.suppress(ValueError, AttributeError):
                code = str(json.loads(error.read(4096)).get("code", ""))
            raise SmsError(f"HTTP {error.code} {code}".strip()) from None
        except (urllib.error.URLError, OSError) as error:
            raise SmsError(type(error).__name__) from None
