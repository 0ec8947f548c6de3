"""System checks that warn a self-hoster about unsafe settings (``prepaid check --deploy``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import connections

from prepaid.lib.files import readable_by_others


@register(Tags.security, deploy=True)
def self_hosting(app_configs: Any, **kwargs: Any) -> list[Warning]:
    found = []
    if settings.DEBUG:
        found.append(
            Warning(
                "DEBUG is on: error pages show secrets and customer data.",
                hint="Unset DEBUG in production.",
                id="prepaid.W001",
            )
        )
    if not settings.SITE_URL.startswith("https://") and not _local(settings.SITE_URL):
        found.append(
            Warning(
                "SITE_URL is not https: customers' card links and logins travel in clear text.",
                hint="Put prepaid behind a TLS proxy and set SITE_URL=https://…",
                id="prepaid.W002",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        found.append(
            Warning(
                "ALLOWED_HOSTS accepts any host name.",
                hint="List the host names the shop is reached by.",
                id="prepaid.W003",
            )
        )
    if settings.EMAIL_HOST and settings.DEFAULT_FROM_EMAIL.endswith("@localhost"):
        found.append(
            Warning(
                "Customers' e-mail goes out as DEFAULT_FROM_EMAIL, which is still"
                f" {settings.DEFAULT_FROM_EMAIL}: mail servers refuse it or file it as spam.",
                hint="Set DEFAULT_FROM_EMAIL to an address of the shop's own domain.",
                id="prepaid.W005",
            )
        )
    return found


@register(Tags.security, deploy=True)
def private_files(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """The data folder 0700 and the files holding the shop's data 0600 (prepaid creates
    them so; an older version, a copy or a restore by hand may have left them open)."""
    loose = [path for path in _data_files() if path.exists() and readable_by_others(path)]
    if not loose:
        return []
    listed = ", ".join(f"{path} ({path.stat().st_mode & 0o777:o})" for path in loose[:5])
    more = f" and {len(loose) - 5} more" if len(loose) > 5 else ""
    return [
        Warning(
            "Other users of this machine may read the shop's data (customers, balances,"
            f" password hashes, the secret key): {listed}{more}.",
            hint=f"Run: chmod -R go= {settings.DATA_DIR}",
            id="prepaid.W004",
        )
    ]


def _data_files() -> list[Path]:
    """The data folder and what prepaid keeps there and in the SQLite database's folder:
    the database with its -wal and -shm, the secret key, uploaded sheets, backups."""
    folder = Path(settings.DATA_DIR)
    found = [folder, folder / "secret_key", folder / "imports"]
    found += sorted(folder.glob("imports/*.json")) + sorted(folder.glob("*.backup"))
    database = connections["default"].settings_dict
    if database["ENGINE"] == "prepaid.db.sqlite":
        name = Path(database["NAME"])
        found += [name, name.with_name(name.name + "-wal"), name.with_name(name.name + "-shm")]
    return found


def _local(url: str) -> bool:
    return any(host in url for host in ("://127.0.0.1", "://localhost", "://[::1]"))
