"""Shared fixtures: the database under test, personas, and the ledger's triggers.

``make test`` runs this suite twice: on SQLite and on PostgreSQL (DATABASE_URL). With
PREPAID_REQUIRE_POSTGRES=1 a suite that silently fell back to SQLite fails instead.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import translation

from prepaid.ledger.verify import verify
from prepaid.lib import immutable
from tests import factories

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _database_is_the_one_asked_for(django_db_setup, django_db_blocker):
    if os.getenv("PREPAID_REQUIRE_POSTGRES") and connection.vendor != "postgresql":
        pytest.exit("PREPAID_REQUIRE_POSTGRES is set but the tests run on " + connection.vendor, 3)


@pytest.fixture(scope="session", autouse=True)
def _one_key_file():
    """The commands the tests start (a webhook worker, a server) read the personal data
    this process sealed: they share its key file (prepaid/lib/sealing.py)."""
    os.environ.setdefault("PREPAID_DATA_KEYS_FILE", str(settings.DATA_KEYS_FILE))
    yield


@pytest.fixture(scope="session", autouse=True)
def _flushable_ledger():
    """Let the test runner empty the ledger tables between transactional tests.

    The triggers refuse DELETE on transfers, sale lines and the audit trail (that is
    their job); Django's flush on SQLite
    is a DELETE per table, so the flush alone drops and recreates them around itself.
    PostgreSQL's flush is a TRUNCATE, which row triggers do not see.
    """
    if connection.vendor != "sqlite":
        yield
        return
    DatabaseOperations = type(connection.ops)
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        records = tuple(sorted(set(immutable.TABLES) & set(tables)))
        if not records:
            return statements
        drop, create = (
            immutable.drop_sql("sqlite", records),
            immutable.create_sql("sqlite", records),
        )
        return drop + statements + create

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True)
def _default_language():
    """A request in Chinese leaves its language active on the thread; the next test
    starts in the default language again."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Each test its own set-up code (prepaid.staff.setup_code), none left in var/.
    settings.SETUP_CODE_FILE = tmp_path / "setup-code"
    # Hashing passwords properly takes a quarter second each, by design; not in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The manifest storage needs collectstatic; tests serve files straight from the apps.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def business(db):
    return factories.make_business()


@pytest.fixture
def store_a(business):
    return factories.make_store("Store A")


@pytest.fixture
def store_b(business):
    return factories.make_store("Store B")


@pytest.fixture
def owner(store_a):
    return factories.make_staff("Olivia", role="owner", store=store_a, password="owner-pass-1")


@pytest.fixture
def manager(store_a):
    return factories.make_staff("Mona", role="manager", store=store_a, password="manager-pass-1")


@pytest.fixture
def outsider(db):
    """Logged in to Django, but no staff member of this shop."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username="outsider", password="outsider-1")


@pytest.fixture
def cashier_a(store_a):
    return factories.make_staff("Carlos", role="cashier", store=store_a, password="cashier-pass-1")


@pytest.fixture
def cashier_b(store_b):
    return factories.make_staff("Bea", role="cashier", store=store_b, password="cashier-pass-2")


@pytest.fixture
def accountant(store_a):
    return factories.make_staff("Adel", role="accountant", store=store_a, password="acct-pass-1")


@pytest.fixture
def actor(store_a, cashier_a):
    return factories.make_actor(store_a, cashier_a)


def refused(sql: str, params: list[object]) -> bool:
    """Whether the database refuses ``sql`` (in a savepoint: the test goes on)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except (IntegrityError, DatabaseError):
        return True
    return False


def assert_ledger_sound() -> None:
    violations = verify()
    assert violations == [], "\n".join(map(str, violations))
