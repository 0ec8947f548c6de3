"""What the log may not keep: the secrets some addresses carry.

A card's token is the key to the customer's page (``/c/<token>``), and Django logs the
address of every answer it could not give (``Not Found: /c/…`` for a stopped card, a
mistyped one, a bystander's guesses). The log is read by whoever helps run the
machine; a card's token in it would open the customer's balance and history. So every
record that reaches a handler has those parts of its addresses replaced by ``…``.
"""

from __future__ import annotations

import logging
import re

# A secret path segment: what follows /c/ (the customer's page and what hangs below it).
SECRET_SEGMENTS = re.compile(r"(/c/)[^/\s?#\"']+")


def hide_secrets(text: str) -> str:
    return SECRET_SEGMENTS.sub(r"\1…", text)


class HideSecrets(logging.Filter):
    """Rewrites the record's message with the secrets replaced (and its arguments
    folded in, so a handler cannot format them back)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = hide_secrets(message)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True
