"""The one-time code that the set-up page asks for while the shop has no owner yet.

Without it, whoever reached the machine first could make themselves its owner. The
code is made once and kept in a file in the data folder (``SETUP_CODE_FILE``, created
0600, so only the user prepaid runs as, or a service manager acting as it, can read
it); ``prepaid serve`` prints it to its console. It is compared in constant time,
wrong codes are throttled per address (``prepaid.staff.logins``), and it is removed
once the shop is set up: it works once.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.utils.crypto import constant_time_compare

from prepaid.lib.codes import CODE_ALPHABET
from prepaid.lib.files import FILE_MODE

LENGTH = 12  # 12 characters of 31: about 59 bits
GROUP = 4


def _path() -> Path:
    return Path(settings.SETUP_CODE_FILE)


def _normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def code() -> str:
    """The code, made and written now if there is none yet (by whichever process asks
    first: the file is created exclusively, the others read it)."""
    path = _path()
    with contextlib.suppress(FileNotFoundError):
        if text := path.read_text().strip():
            return text
    made = "".join(secrets.choice(CODE_ALPHABET) for _ in range(LENGTH))
    made = "-".join(made[i : i + GROUP] for i in range(0, LENGTH, GROUP))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(made + "\n")
    return made


def matches(given: str) -> bool:
    """Whether ``given`` is the code (spaces, dashes and case aside), in constant time."""
    return constant_time_compare(_normal(given), _normal(code()))


def used() -> None:
    """The shop is set up: the code goes."""
    _path().unlink(missing_ok=True)


def location() -> Path:
    return _path()
