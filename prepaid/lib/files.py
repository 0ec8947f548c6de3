"""Files that hold the shop's data, private to the user prepaid runs as.

The data folder is 0700, and every file prepaid writes there (the SQLite database and
its -wal and -shm, the secret key, uploaded sheets waiting to be imported, backups) is
0600. Each is *created* with that mode: a file created 0644 and chmod-ed afterwards is
readable by anyone for a moment, and a crash in between leaves it so. (SQLite gives the
-wal and -shm files the mode of the database file.) The ``prepaid`` command also sets
the umask to 077, for whatever else it writes; this module does not rely on that.

Only stdlib: settings.py uses it before Django is set up.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077  # the group's and everybody else's permission bits


def private_folder(path: Path) -> Path:
    """``path`` as a folder, created 0700 if missing (an existing one is left as it is:
    ``prepaid check --deploy`` warns about it)."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    return path


def create_private(path: Path) -> None:
    """Create ``path`` as an empty 0600 file, unless it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path``, creating it 0600 if missing."""
    content = data.encode() if isinstance(data, str) else data
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)


def readable_by_others(path: Path) -> bool:
    """Whether the group or other users have any permission on ``path``."""
    return bool(path.stat().st_mode & OTHERS)
