"""``prepaid restore`` as an operator meets it: a file that is not a prepaid backup this
version can restore is refused with a message and the shop left as it was; a good one
shows what it replaces, asks, and keeps a safety copy of what it replaced."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from django.db import connection

from tests.ops.conftest import set_up_shop

SHOP = (
    "from prepaid.staff.models import Business; from prepaid.ledger.models import Batch; "
    "from prepaid.customers.models import Customer; "
    "print(Business.objects.get().name, Customer.objects.count(), Batch.objects.count())"
)
RENAME = "from prepaid.staff.models import Business; Business.objects.update(name={!r})"
SQL = "from django.db import connection; connection.cursor().execute({!r})"
RECORD_FUTURE = SQL.format(
    "INSERT INTO django_migrations (app, name, applied)"
    " VALUES ('ledger', '9999_from_the_future', CURRENT_TIMESTAMP)"
)
FORGET_FUTURE = SQL.format("DELETE FROM django_migrations WHERE name = '9999_from_the_future'")


def test_restore_of_a_foreign_file_is_refused_with_the_shop_intact(prepaid, tmp_path):
    set_up_shop(prepaid, tmp_path)
    prepaid("demo")
    shop = prepaid("shell", "--no-imports", "-c", SHOP).stdout
    foreign = _foreign_files(prepaid, tmp_path)

    for name, path in foreign.items():
        refused = prepaid("restore", str(path), "--yes", check=False)

        assert refused.returncode != 0, name
        assert "Nothing was restored" in refused.stderr, name
        assert "Traceback" not in refused.stderr, name
        assert prepaid("shell", "--no-imports", "-c", SHOP).stdout == shop, name
    assert "not a prepaid backup" in _refusal(prepaid, foreign["random bytes"])
    assert "newer version of prepaid" in _refusal(prepaid, foreign["a newer prepaid's"])
    assert "ledger.9999_from_the_future" in _refusal(prepaid, foreign["a newer prepaid's"])
    assert list((tmp_path / "var").glob("before-restore-*")) == []  # nothing replaced
    assert prepaid("verify").stdout.startswith("Ledger OK")


def _refusal(prepaid, path: Path) -> str:
    return prepaid("restore", str(path), "--yes", check=False).stderr


def _foreign_files(prepaid, tmp_path: Path) -> dict[str, Path]:
    files = {
        "missing": tmp_path / "missing.backup",
        "empty": tmp_path / "empty.backup",
        "random bytes": tmp_path / "random.backup",
        "text": tmp_path / "notes.txt",
        "another app's SQLite": tmp_path / "blog.sqlite3",
        "a newer prepaid's": tmp_path / "newer.backup",
    }
    files["empty"].write_bytes(b"")
    files["random bytes"].write_bytes(bytes(range(256)) * 64)
    files["text"].write_text("customers: Maria 50.00\n")
    with sqlite3.connect(files["another app's SQLite"]) as blog:
        blog.execute("CREATE TABLE django_migrations (id, app, name, applied)")
        blog.execute("INSERT INTO django_migrations VALUES (1, 'blog', '0001_initial', '')")
    blog.close()
    # A backup of this shop as a newer prepaid would have left it: a migration this
    # version has never heard of.
    prepaid("shell", "--no-imports", "-c", RECORD_FUTURE)
    prepaid("backup", str(files["a newer prepaid's"]))
    prepaid("shell", "--no-imports", "-c", FORGET_FUTURE)
    if connection.vendor == "sqlite":
        whole = tmp_path / "whole.backup"
        prepaid("backup", str(whole))
        files["a damaged backup"] = tmp_path / "damaged.backup"
        files["a damaged backup"].write_bytes(whole.read_bytes()[: 200 * 1024])
    return files


def test_restore_shows_what_it_replaces_asks_and_keeps_a_safety_copy(prepaid, tmp_path):
    set_up_shop(prepaid, tmp_path, business="Agua Pura")
    backup = tmp_path / "monday.backup"
    prepaid("backup", str(backup))
    prepaid("shell", "--no-imports", "-c", RENAME.format("Agua Pura Norte"))

    for answer in (None, "no\n", "y\n"):
        declined = prepaid("restore", str(backup), check=False, answer=answer)
        assert declined.returncode != 0
        assert "Nothing was restored" in declined.stderr
        assert "Agua Pura Norte" in prepaid("shell", "--no-imports", "-c", SHOP).stdout
    restored = prepaid("restore", str(backup), answer="yes\n")

    assert "The backup: Agua Pura: 0 customers, 0 transactions." in restored.stdout
    assert "It replaces: Agua Pura Norte: 0 customers, 0 transactions." in restored.stdout
    assert "Type yes to restore" in restored.stdout
    assert "Ledger OK" in restored.stdout
    assert prepaid("shell", "--no-imports", "-c", SHOP).stdout.startswith("Agua Pura 0")
    [safety] = (tmp_path / "var").glob("before-restore-*.backup")
    assert f"Safety copy of the current database: {safety}" in restored.stdout
    assert f"To undo it: prepaid restore {safety}" in restored.stdout
    assert stat.S_IMODE(safety.stat().st_mode) == 0o600

    undone = prepaid("restore", str(safety), "--yes")

    assert "Type yes" not in undone.stdout
    assert "Agua Pura Norte" in prepaid("shell", "--no-imports", "-c", SHOP).stdout


def test_restore_logs_everybody_out(prepaid, tmp_path):
    set_up_shop(prepaid, tmp_path)
    prepaid("backup", str(tmp_path / "shop.backup"))
    sessions = "from django.contrib.sessions.models import Session; print(Session.objects.count())"
    login = (
        "from django.contrib.sessions.backends.db import SessionStore; "
        "s = SessionStore(); s['staff'] = 1; s.save()"
    )
    prepaid("shell", "--no-imports", "-c", login)
    assert prepaid("shell", "--no-imports", "-c", sessions).stdout.strip() == "1"

    prepaid("restore", str(tmp_path / "shop.backup"), "--yes")

    assert prepaid("shell", "--no-imports", "-c", sessions).stdout.strip() == "0"


REGISTER = (
    "from prepaid.customers import services as c; "
    "print(c.register(c.Profile(name='Dolores Quintana', phone='+639175550123'), by=None).code)"
)
ERASE = (
    "from prepaid.customers.models import Customer; from prepaid.operations import privacy; "
    "from prepaid.sales import services as s; "
    "p = Customer.objects.get(code={!r}); s.erase(p, 'asked', by=None)"
)
WHO = (
    "from prepaid.customers.models import Customer; p = Customer.objects.get(code={!r}); "
    "print(p.name, repr(p.phone), p.erased_at is not None)"
)


def test_a_restore_erases_again_whoever_was_erased_after_the_backup(prepaid, tmp_path):
    """A backup made before an erasure still holds the person's data key: the restore
    puts them beyond use again (docs/privacy.md)."""
    set_up_shop(prepaid, tmp_path)
    code = prepaid("shell", "--no-imports", "-c", REGISTER).stdout.strip()
    prepaid("backup", str(tmp_path / "before.backup"))
    prepaid("shell", "--no-imports", "-c", ERASE.format(code))

    restored = prepaid("restore", str(tmp_path / "before.backup"), "--yes")

    assert "Erased again: 1 customers" in restored.stdout
    assert prepaid("shell", "--no-imports", "-c", WHO.format(code)).stdout.strip() == "— '' True"
    assert prepaid("verify").stdout.startswith("Ledger OK")
