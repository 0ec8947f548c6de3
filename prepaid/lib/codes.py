"""Identifiers people read aloud, and secrets they must not guess.

Customer codes use an alphabet without look-alikes (no 0/O, 1/I/L) and are grouped in
fours for reading over the counter. Card tokens are opaque random strings of 144 bits.
"""

from __future__ import annotations

import hashlib
import secrets

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CODE_GROUP = 4


def new_code() -> str:
    """A fresh customer code such as ``K7MQ-4XZP`` (31^8 ≈ 8.5e11 possibilities)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{chars[:CODE_GROUP]}-{chars[CODE_GROUP:]}"


def normalize_code(text: str) -> str | None:
    """The canonical code for typed or scanned text, or None if it cannot be one.

    Tolerates case, spaces and dashes. A look-alike (0, O, 1, I, L) is never part of a
    code, so text containing one is not a code rather than a guess at one.
    """
    chars = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(chars) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in chars):
        return None
    return f"{chars[:CODE_GROUP]}-{chars[CODE_GROUP:]}"


def new_token() -> str:
    """A card token: 144 random bits, URL-safe (24 characters)."""
    return secrets.token_urlsafe(18)


def new_api_key(prefix: str = "pp") -> str:
    """An API key with a recognisable prefix, so leaked keys are easy to grep for."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored; the secret itself is not."""
    return hashlib.sha256(secret.encode()).hexdigest()
