"""32 clients × 50 sales of 0.07 on a balance of 100.00, through HTTP against the
production server (granian, two worker processes), on the engine under test.

100.00 / 0.07 = 1,428 sales and 0.04 left: exactly that many must succeed, the other
172 be refused with 409 insufficient_funds, and the ledger verify clean. A client that
gets 503 (SQLite busy past its timeout) retries with the same Idempotency-Key, as
API.md tells clients to; the retry can never charge twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from bench.served import Client, server
from prepaid.ledger.verify import verify
from prepaid.sales import services as sales
from prepaid.staff.models import Role
from prepaid.staff.tokens import create_token
from tests.factories import make_customer, make_product, make_store

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.http]
CLIENTS = 32
SALES_EACH = 50


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    user, host, port = settings["USER"], settings["HOST"], settings["PORT"]
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def test_32_clients_selling_50_times_spend_exactly_the_balance(tmp_path):
    make_store()
    customer = make_customer(balance="100.00")
    product = make_product("Refill", price="0.07", unit="piece")
    _, key = create_token("load", Role.CASHIER)
    path = f"/api/v1/customers/{customer.code}/sales"
    body = {"lines": [{"product": str(product.pk), "quantity": "1"}]}
    outcomes: Counter[tuple[int, str]] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    with server(database_url(), tmp_path, workers=2) as (host, port):

        def sell(worker: int) -> None:
            client = Client(host, port, token=key)
            start.wait()
            for number in range(SALES_EACH):
                status, answer = client.post_until_answered(path, body, key=f"w{worker}-{number}")
                code = answer["error"]["code"] if status >= 400 else "ok"
                with lock:
                    outcomes[(status, code)] += 1
            client.close()

        threads = [threading.Thread(target=sell, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert outcomes == {(201, "ok"): 1428, (409, "insufficient_funds"): 172}, outcomes
    assert sales.balances(customer).paid == 4
    assert verify() == []
