"""What stops an import: the message says why, in the person's language."""

from __future__ import annotations


class ImportProblem(ValueError):
    """The file cannot be imported as it is; the message says why, translated. Nothing
    has been written."""
