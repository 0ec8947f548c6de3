"""The ``prepaid`` command: Django's management commands with prepaid's settings.

``prepaid serve``, ``webhooks``, ``init``, ``demo``, ``verify``, ``token``, ``keys``, ``backup``,
``restore`` are prepaid's own; any other Django command (``migrate``, ``check --deploy``…)
works too.

Every command runs with the umask 077: what it creates (the data folder, the database,
backups, exports, the server's uploads) is its user's alone. The files prepaid keeps in
the data folder are also created private explicitly (prepaid/lib/files.py), so a server
started another way (a WSGI server of your own) keeps them private too.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.umask(0o077)  # before settings.py creates the data folder and the secret key
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prepaid.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["prepaid", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
