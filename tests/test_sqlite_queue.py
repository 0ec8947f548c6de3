"""SQLite writers of one process queue on a lock instead of SQLite's sleeping busy
handler (prepaid/db/sqlite): every transaction gets its turn, the turn is given back on
commit, rollback and close, and a queue that never moves fails like a locked database."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from prepaid.db.sqlite import base
from prepaid.staff.models import Store

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'sqlite'"),
]


def test_the_turn_is_given_back_on_commit_and_on_rollback():
    with transaction.atomic():
        assert base.WRITERS.locked()
        Store.objects.create(name="A")
    assert not base.WRITERS.locked()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        Store.objects.create(name="B")
        1 / 0  # noqa: B018
    assert not base.WRITERS.locked()
    assert list(Store.objects.values_list("name", flat=True)) == ["A"]


def test_many_threads_writing_at_once_all_get_their_turn():
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start.wait()
            for round_ in range(10):
                with transaction.atomic():
                    Store.objects.create(name=f"{number}-{round_}")
                    time.sleep(0.001)  # hold the turn a little, as a sale does
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert Store.objects.count() == 80
    assert not base.WRITERS.locked()


def test_a_queue_that_never_moves_fails_like_a_locked_database(settings):
    base.WRITERS.acquire()
    try:
        connection.settings_dict["OPTIONS"]["timeout"] = 0.2
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            Store.objects.create(name="never")
    finally:
        connection.settings_dict["OPTIONS"]["timeout"] = 20
        base.WRITERS.release()
    assert not Store.objects.filter(name="never").exists()
