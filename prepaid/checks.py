"""System checks that warn a self-hoster about unsafe settings (``prepaid check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


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
    return found


def _local(url: str) -> bool:
    return any(host in url for host in ("://127.0.0.1", "://localhost", "://[::1]"))
