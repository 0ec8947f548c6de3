"""``prepaid serve`` runs the webhook worker beside the web server: a sale made over HTTP
reaches the receiver; a worker that dies is started again; the worker stops with the
server, and by itself when the server is killed."""

from __future__ import annotations

import http.client
import json
import os
import signal

import pytest

from bench.served import free_port
from prepaid.staff.models import Role
from prepaid.staff.tokens import create_token
from prepaid.webhooks.models import Delivery
from tests.webhooks.conftest import subscribe, top_up
from tests.webhooks.processes import alive, children, environment, start, stop_group, until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.http,
    pytest.mark.usefixtures("local"),
]


def served(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    server = start(["serve", "--port", str(port)], environment(tmp_path), log)

    def worker() -> int | None:
        found = [pid for pid, command in children(server.pid).items() if " webhooks" in command]
        return found[0] if found else None

    try:
        until(lambda: _healthy(port), timeout=90, what="the server answering")
        until(worker, what="the webhook worker started")
    except BaseException:
        stop_group(server)
        raise AssertionError(log.read_text()) from None
    return server, port, worker


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/v1/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def sale_over_http(port: int, key: str, code: str, product_id: int, number: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"lines": [{"product": product_id, "quantity": "1"}]})
    headers = {
        "Authorization": f"Bearer {key}",
        "Idempotency-Key": f"serve-{number}",
        "Content-Type": "application/json",
    }
    try:
        connection.request("POST", f"/api/v1/customers/{code}/sales", body, headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_serve_runs_the_worker_restarts_it_and_stops_it(receiver, counter, tmp_path):
    subscribe(receiver, ["sale.created"])
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    _, key = create_token("till", Role.CASHIER)
    server, port, worker = served(tmp_path)
    try:
        assert sale_over_http(port, key, maria, counter.product_id, 1) == 201
        assert receiver.wait_for(lambda got: len(got) == 1, 60)
        until(lambda: Delivery.objects.filter(state="delivered").exists(), what="recorded")

        first = worker()
        assert first is not None
        os.kill(first, signal.SIGKILL)
        second = until(lambda: worker() not in (None, first), what="a new worker")
        assert sale_over_http(port, key, maria, counter.product_id, 2) == 201
        assert receiver.wait_for(lambda got: len(got) == 2, 60)

        server.send_signal(signal.SIGTERM)  # the server alone, not its process group
        assert server.wait(60) == 0
        until(lambda: not alive(second), timeout=15, what="the worker stopped with serve")
    finally:
        stop_group(server)
    assert [r.event["type"] for r in receiver.requests] == ["sale.created"] * 2
    assert len(set(receiver.ids())) == 2
    assert receiver.forged == []


def test_a_worker_whose_server_was_killed_stops_by_itself(tmp_path, shop):
    server, _, worker = served(tmp_path)
    try:
        pid = worker()
        assert pid is not None
        server.send_signal(signal.SIGKILL)
        server.wait()
        until(lambda: not alive(pid), timeout=15, what="the orphaned worker stopped")
    finally:
        stop_group(server)
