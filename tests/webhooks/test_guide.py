"""docs/webhooks.md against the code: its Python example checks a real signed delivery
(and refuses a forged, a re-keyed and an old one); its events, retry schedule and
settings are the code's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from prepaid.operations.outbox import EVENT_TYPES
from prepaid.webhooks import worker
from tests.webhooks.conftest import GUIDE, guide_code, sell, subscribe, top_up, work

pytestmark = pytest.mark.usefixtures("local")


def test_the_guide_s_python_checks_a_real_delivery(receiver, counter):
    subscribe(receiver)
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    sold = sell(maria, counter.product_id, "2", counter.actor)
    work()
    verify = guide_code()["verify"]
    delivered = receiver.requests[-1]
    header = delivered.headers["prepaid-signature"]

    event = verify(receiver.secret, header, delivered.body)
    assert (event["type"], event["data"]) == ("sale.created", sold.data)
    assert event["id"].startswith("evt_")
    forged = delivered.body.replace(b'"total": "0.50"', b'"total": "0.05"')
    assert forged != delivered.body
    t = int(re.search(r"t=(\d+)", header)[1])
    for secret, body, now in [
        (receiver.secret, forged, None),  # the body was changed
        ("whsec_someone_else", delivered.body, None),  # another secret
        (receiver.secret, delivered.body, t + 301),  # replayed six minutes later
    ]:
        with pytest.raises(ValueError):
            verify(secret, header, body, now=now)
    with pytest.raises(ValueError):
        verify(receiver.secret, "v1=abc", delivered.body)
    assert receiver.forged == []


def test_the_guide_lists_every_event_type_and_the_real_retry_schedule():
    text = GUIDE.read_text()
    for name in [*EVENT_TYPES, "ping"]:
        assert f"| `{name}` |" in text, name
    waits = [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64, 128)] + [timedelta(hours=4)] * 5
    assert tuple(waits) == worker.BACKOFF
    assert (
        "1, 2, 4, 8, 16, 32, 64 and 128 minutes, then every\n4 hours (240 minutes) five times"
        in text
    )
    assert f"{len(worker.BACKOFF) + 1} attempts in all" in text
    for setting in ("ALLOW_HOSTS", "TIMEOUT_SECONDS", "POLL_SECONDS", "LEASE_SECONDS"):
        assert f"PREPAID_WEBHOOK_{setting}" in text
