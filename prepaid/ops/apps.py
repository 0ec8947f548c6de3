from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    """The operator's interface: the ``prepaid`` command's own subcommands."""

    name = "prepaid.ops"
    label = "ops"

    def ready(self) -> None:
        from prepaid import checks  # noqa: F401  (registers the self-hosting checks)
