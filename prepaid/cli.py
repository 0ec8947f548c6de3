"""The ``prepaid`` command: Django's management commands with prepaid's settings.

``prepaid serve``, ``webhooks``, ``init``, ``demo``, ``verify``, ``token``, ``backup``,
``restore`` are prepaid's own; any other Django command (``migrate``, ``check --deploy``…)
works too.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prepaid.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["prepaid", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
