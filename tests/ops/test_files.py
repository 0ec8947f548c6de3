"""The shop's data in files only its user may read: the data folder 0700, the database
(with its -wal and -shm), the secret key, uploaded sheets and backups 0600 — created
that way under a permissive umask, not chmod-ed afterwards; backups without the live
sessions; ``check --deploy`` warning about what is left open."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from prepaid.backoffice import imports
from prepaid.db.sqlite.base import DatabaseWrapper
from prepaid.ops.backup import _copy_rows, backup
from prepaid.sales import importing
from tests.ops.conftest import PERMISSIVE_UMASK, clean_environment, set_up_shop


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():
    before = os.umask(PERMISSIVE_UMASK)
    yield
    os.umask(before)


def test_the_settings_create_the_data_folder_0700_and_the_secret_key_0600(tmp_path):
    data = tmp_path / "var"
    subprocess.run(
        [sys.executable, "-c", "import prepaid.settings"],
        env=clean_environment(PREPAID_DATA_DIR=str(data), SECRET_KEY=""),
        preexec_fn=lambda: os.umask(PERMISSIVE_UMASK),
        check=True,
        timeout=60,
    )
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600


def test_a_new_sqlite_database_its_wal_and_shm_are_0600(
    tmp_path, permissive_umask, django_db_blocker
):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's files")
    name = tmp_path / "shop.sqlite3"
    database = DatabaseWrapper({**connection.settings_dict, "NAME": str(name)}, alias="files")
    with django_db_blocker.unblock():
        with database.cursor() as cursor:
            cursor.execute("CREATE TABLE sale (id INTEGER PRIMARY KEY)")
            cursor.execute("INSERT INTO sale DEFAULT VALUES")
        files = [name, tmp_path / "shop.sqlite3-wal", tmp_path / "shop.sqlite3-shm"]
        assert {path.name: mode(path) for path in files} == {
            "shop.sqlite3": 0o600,
            "shop.sqlite3-wal": 0o600,
            "shop.sqlite3-shm": 0o600,
        }
        database.close()


def test_an_uploaded_sheet_waits_in_a_private_file(settings, tmp_path, permissive_umask):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    sheet = importing.Sheet("customers.csv", ["Name", "Phone"], 1, [(2, ("Maria", "0917"))], True)

    token = imports._save(sheet)

    assert mode(settings.DATA_DIR / "imports") == 0o700
    assert mode(settings.DATA_DIR / "imports" / f"{token}.json") == 0o600


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_0600_and_holds_no_live_session(tmp_path, permissive_umask):
    session = SessionStore()
    session["staff"] = 1
    session.save()
    target = tmp_path / "shop.backup"

    backup(target)

    assert mode(target) == 0o600
    assert not target.with_name("shop.backup.partial").exists()
    assert session.session_key is not None
    if connection.vendor == "sqlite":
        with sqlite3.connect(target) as copy:
            assert copy.execute("SELECT COUNT(*) FROM django_session").fetchone() == (0,)
        # Deleted with secure_delete: the key is not left behind in a free page either.
        assert session.session_key.encode() not in target.read_bytes()
    else:
        data = subprocess.run(
            ["pg_restore", "--data-only", "--table=django_session", "--file=-", str(target)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "COPY public.django_session" not in data
        assert session.session_key not in data


def test_pg_restore_copy_rows_are_read_with_their_escapes():
    output = [
        "SET statement_timeout = 0;\n",
        "COPY public.staff_business (id, name, currency) FROM stdin;\n",
        "1\tAgua\\tPura\\\\Norte\\nDos\tPHP\n",
        "\\.\n",
        "COPY public.ledger_batch (id, created_at) FROM stdin;\n",
        "7\t\\N\n",
        "\\.\n",
    ]

    assert list(_copy_rows(output)) == [
        ("staff_business", {"id": "1", "name": "Agua\tPura\\Norte\nDos", "currency": "PHP"}),
        ("ledger_batch", {"id": "7", "created_at": ""}),
    ]


def test_the_command_creates_the_shop_s_files_private(prepaid, tmp_path):
    set_up_shop(prepaid, tmp_path)
    prepaid("backup", str(tmp_path / "shop.backup"))

    data = tmp_path / "var"
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600
    assert mode(tmp_path / "shop.backup") == 0o600
    if connection.vendor == "sqlite":
        assert mode(data / "prepaid.sqlite3") == 0o600


def test_check_deploy_warns_about_shop_data_others_can_read(prepaid, tmp_path):
    set_up_shop(prepaid, tmp_path)
    data = tmp_path / "var"
    production = ("--deploy", "--fail-level", "WARNING")
    env = clean_environment(
        PREPAID_DATA_DIR=str(data),
        DATABASE_URL="",  # the check looks at the files, it does not connect
        SITE_URL="https://shop.example.com",
        ALLOWED_HOSTS="shop.example.com",
    )

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "prepaid", "check", *production],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert check().returncode == 0
    data.chmod(0o755)
    (data / "secret_key").chmod(0o644)

    warned = check()

    assert warned.returncode != 0
    assert "prepaid.W004" in warned.stderr
    assert f"{data} (755)" in warned.stderr
    assert f"{data / 'secret_key'} (644)" in warned.stderr
    assert f"chmod -R go= {data}" in warned.stderr


def test_a_backup_into_a_missing_folder_is_a_message_not_a_traceback(prepaid, tmp_path):
    failed = prepaid("backup", str(tmp_path / "missing" / "shop.backup"), check=False)

    assert failed.returncode != 0
    assert "No backup written" in failed.stderr
    assert "Traceback" not in failed.stderr
