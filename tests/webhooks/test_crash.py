"""A worker killed in the middle of a batch loses nothing: ``prepaid webhooks`` runs as a
real process against the test database; the receiver holds the fifth request until the
test has killed the worker with SIGKILL; a new worker then delivers every event at least
once (duplicates allowed, with the same event id), each customer's in order."""

from __future__ import annotations

import signal

import pytest

from prepaid.operations.models import Event
from prepaid.webhooks.models import Delivery
from tests.webhooks.conftest import STALL, sell, subscribe, top_up
from tests.webhooks.processes import environment, start, stop_group, until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("local")]
# The worker gives up on a request after TIMEOUT s; the test kills it long before. A
# killed worker's deliveries are sent again when its lease (LEASE s) runs out.
TIMEOUT, LEASE = "8", "9"
READY = "Delivering webhooks"  # what a worker prints once it is running


def test_a_worker_killed_mid_batch_loses_no_event(receiver, counter, tmp_path):
    subscribe(receiver)
    maria, jun = counter.customer("Maria"), counter.customer("Jun")
    for _ in range(4):
        top_up(maria, "1.00", counter.actor)
        top_up(jun, "2.00", counter.actor)
        sell(maria, counter.product_id, "1", counter.actor)
    events = list(Event.objects.order_by("id").values_list("uid", "customer__code"))
    assert len(events) == 12
    receiver.script = lambda number, request: STALL if number == 5 else 200
    env = environment(
        tmp_path,
        PREPAID_WEBHOOK_TIMEOUT_SECONDS=TIMEOUT,
        PREPAID_WEBHOOK_LEASE_SECONDS=LEASE,
    )
    log = tmp_path / "worker.log"

    first = start(["webhooks"], env, log)
    try:
        assert receiver.stalled.wait(60), log.read_text()
        first.send_signal(signal.SIGKILL)  # while it waits for the fifth answer
        assert first.wait(10) == -signal.SIGKILL
    finally:
        stop_group(first)
    receiver.release.set()
    assert len(receiver.requests) < 12
    assert Delivery.objects.filter(state="pending").exists()

    second = start(["webhooks"], env, log)
    try:
        every = {uid for uid, _ in events}
        assert receiver.wait_for(lambda got: every <= {r.event["id"] for r in got}, 90), (
            log.read_text()
        )
        until(
            lambda: not Delivery.objects.exclude(state="delivered").exists(),
            what="every delivery recorded",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0  # a clean stop
    finally:
        stop_group(second)

    assert receiver.forged == []
    ids = receiver.ids()
    assert set(ids) == every and len(ids) >= 12
    for customer in (maria, jun):
        theirs = [uid for uid, code in events if code == customer]
        first_seen = sorted(theirs, key=ids.index)
        assert first_seen == theirs, customer  # in order, duplicates aside


def test_two_workers_share_the_deliveries_and_keep_each_customer_s_order(
    receiver, counter, tmp_path
):
    subscribe(receiver)
    customers = [counter.customer(name) for name in ("Maria", "Jun", "Ana")]
    for _ in range(6):
        for code in customers:
            top_up(code, "1.00", counter.actor)
    events = list(Event.objects.order_by("id").values_list("uid", "customer__code"))
    env = environment(tmp_path)
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    workers = [start(["webhooks"], env, log) for log in logs]
    try:
        # Both running (their SIGTERM handler set) before anything is judged: on a busy
        # machine one may still be starting when the other has sent everything.
        for log in logs:
            until(lambda log=log: READY in log.read_text(), what=f"{log.name} ready")
        every = {uid for uid, _ in events}
        assert receiver.wait_for(lambda got: every <= {r.event["id"] for r in got}, 90)
        until(
            lambda: not Delivery.objects.exclude(state="delivered").exists(),
            what="every delivery recorded",
        )
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            assert process.wait(30) == 0
            stop_group(process)
    ids = receiver.ids()
    assert sorted(ids) == sorted(every)  # each once: a live lease is respected
    whose = dict(events)
    for customer in customers:
        assert [uid for uid in ids if whose[uid] == customer] == [
            uid for uid, code in events if code == customer
        ]
