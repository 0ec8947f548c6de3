"""The shop's data in files only its user may read: the data folder 0700, the database
(with its -wal and -shm), the secret key, uploaded sheets and backups 0600 — created
that way under a permissive umask, not chmod-ed afterwards; backups without the live
sessions; ``check --deploy`` warning about what is left open."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from prepaid.backoffice import imports
from prepaid.db.sqlite.base import DatabaseWrapper
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
