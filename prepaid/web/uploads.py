"""Uploaded files, kept on disk up to a cap.

Django streams an upload of any size to a temporary file. This handler keeps the first
``IMPORT_MAX_FILE_BYTES`` and counts the rest without keeping it: the file's ``size`` is
all that was sent, so the form that reads it refuses it with its own message
(``sales.importing.Limits.check_size``) and a 10 GB upload never fills the disk.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler


class CappedUploadHandler(TemporaryFileUploadHandler):
    """A temporary file of at most ``IMPORT_MAX_FILE_BYTES``; ``size`` says what was sent."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        kept = settings.IMPORT_MAX_FILE_BYTES - start
        if kept > 0:
            self.file.write(raw_data[:kept])
        return None  # the data stops here: no later handler keeps it either
