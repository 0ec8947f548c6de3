"""The production server (``prepaid serve``: granian) in a child process, and a small
keep-alive JSON client: what the HTTP concurrency test and the HTTP benchmark share."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(
    database_url: str, data_dir: Path, *, workers: int = 2, timeout: float = 60.0
) -> Iterator[tuple[str, int]]:
    """``prepaid serve`` on a free port against ``database_url``; yields (host, port)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PREPAID_DATA_DIR": str(data_dir),
        "SECRET_KEY": "served-test-not-secret",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "prepaid", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_up("127.0.0.1", port, process, timeout, data_dir / "server.log")
        yield "127.0.0.1", port
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass  # it stopped by itself (the error above says why)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_until_up(host: str, port: int, process: subprocess.Popen, timeout: float, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped:\n{log.read_text()}")
        probe = Client(host, port, token="")
        try:
            status, _ = probe.request("GET", "/api/v1/health")
            if status == 200:
                return
        except OSError:
            pass
        finally:
            probe.close()
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer in {timeout} s:\n{log.read_text()}")


class Client:
    """One keep-alive connection, as an integration would hold one per worker."""

    def __init__(self, host: str, port: int, *, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.connection = http.client.HTTPConnection(host, port, timeout=60)

    def request(
        self, method: str, path: str, body: Any = None, *, key: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        payload = json.dumps(body) if body is not None else None
        for attempt in range(2):
            try:
                self.connection.request(method, path, payload, headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # the server closed an idle keep-alive: reconnect
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        return response.status, json.loads(data) if data else None

    def post_until_answered(
        self, path: str, body: Any, *, key: str, attempts: int = 50
    ) -> tuple[int, Any]:
        """POST with an Idempotency-Key, retrying a 503 (busy) or 409 in flight with the
        same key, as API.md tells clients to: the retry can never charge twice."""
        for _ in range(attempts):
            status, answer = self.request("POST", path, body, key=key)
            in_flight = status == 409 and answer["error"]["code"] == "idempotency_key_in_use"
            if status != 503 and not in_flight:
                return status, answer
            time.sleep(0.05)
        return status, answer

    def close(self) -> None:
        self.connection.close()
