"""Personal data sealed at rest: the shop's keys, per-person keys, blind indexes.

Every customer has a key of their own (a *data key*, 32 random bytes). It seals their
phone, e-mail, address, birthday and notes, the text of their timeline notes, their
cards' tokens and the personal values in audit snapshots (AES-256-GCM, from the
``cryptography`` package). The data key itself is kept in the customer's row *wrapped*
(sealed) by the shop's key. Destroying a customer's wrapped data key makes every copy
sealed with it unreadable at once (crypto-shredding: ``customers.erasure``).

The shop's keys (a *key ring*) live outside the database: in ``DATA_DIR/data_keys``
(``DATA_KEYS_FILE``; created 0600 on first use, or by ``prepaid init``), or in the
environment variable ``PREPAID_DATA_KEYS``. Each key has an id and two halves: one wraps
data keys, the other keys the blind indexes (HMAC-SHA256) by which a phone number's last
digits, a whole phone number and an e-mail address are found without being stored.

``prepaid keys rotate`` adds a new key, moves every customer to it and drops the old
one. In between, lookups ask with every key of the ring (``blinds``), so a crash half-way
loses nothing: running it again finishes the job.

A sealed value is text: the key id (for wrapped data keys), a dot, and base64 of the
nonce followed by the ciphertext and its tag. Each seal is bound to what it belongs to
(``context``: the customer's code and the field's name), so a value copied to another
row or field does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from prepaid.lib.files import write_private

ENVIRONMENT = "PREPAID_DATA_KEYS"
FILE_NAME = "data_keys"
NONCE = 12
KEY_BYTES = 32
BLIND_BYTES = 16  # 128 bits of HMAC: 32 hex characters


class KeyMissing(Exception):
    """A sealed value names a key the ring does not hold."""


class Unreadable(Exception):
    """A sealed value does not open: the wrong key or context, damaged, or shredded."""


@dataclass(frozen=True)
class Key:
    id: str
    wrapping: bytes
    indexing: bytes

    @classmethod
    def new(cls) -> Key:
        return cls(secrets.token_hex(4), os.urandom(KEY_BYTES), os.urandom(KEY_BYTES))

    @classmethod
    def parse(cls, text: str) -> Key:
        """``id:base64`` of the 64 key bytes."""
        key_id, _, material = text.strip().partition(":")
        raw = base64.b64decode(material)
        if not key_id or len(raw) != 2 * KEY_BYTES:
            raise ValueError("a data key is id:base64 of 64 bytes")
        return cls(key_id, raw[:KEY_BYTES], raw[KEY_BYTES:])

    def text(self) -> str:
        return f"{self.id}:{base64.b64encode(self.wrapping + self.indexing).decode()}"


@dataclass(frozen=True)
class Ring:
    """The shop's keys, the current one first."""

    keys: tuple[Key, ...]
    source: str  # the file's path, or the environment variable's name

    @property
    def current(self) -> Key:
        return self.keys[0]

    def get(self, key_id: str) -> Key:
        for key in self.keys:
            if key.id == key_id:
                return key
        raise KeyMissing(key_id)

    @property
    def from_file(self) -> bool:
        return self.source != ENVIRONMENT


_lock = threading.Lock()
_cache: dict[str, tuple[float, Ring]] = {}


def _path() -> Path:
    from django.conf import settings

    return Path(settings.DATA_KEYS_FILE)


def ring() -> Ring:
    """The key ring, from the environment or the key file (created with a first key when
    missing). The file is read again when it changes, so a running server follows
    ``prepaid keys rotate``."""
    if text := os.getenv(ENVIRONMENT):
        cached = _cache.get(ENVIRONMENT)
        if cached is None:
            keys = tuple(Key.parse(part) for part in text.split(",") if part.strip())
            cached = (0.0, Ring(keys, ENVIRONMENT))
            _cache[ENVIRONMENT] = cached
        return cached[1]
    path = _path()
    with _lock:
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            write_ring(Ring((Key.new(),), str(path)))
            stamp = path.stat().st_mtime_ns
        cached = _cache.get(str(path))
        if cached is None or cached[0] != stamp:
            document = json.loads(path.read_text())
            keys = tuple(Key.parse(text) for text in document["keys"])
            cached = (stamp, Ring(keys, str(path)))
            _cache[str(path)] = cached
        return cached[1]


def write_ring(new: Ring) -> None:
    """Write the key file (0600), the current key first; atomically, by renaming."""
    path = Path(new.source) if new.from_file else _path()
    spare = path.with_name(path.name + ".new")
    document = {
        "about": "prepaid's data keys: without them the customers' contact data cannot be"
        " read. Keep a copy apart from the backups.",
        "keys": [key.text() for key in new.keys],
    }
    write_private(spare, json.dumps(document, indent=2) + "\n")
    spare.replace(path)
    _cache.pop(str(path), None)


# -- sealing ---------------------------------------------------------------------------


def _encode(blob: bytes) -> str:
    return base64.b64encode(blob).decode()


def seal(key: bytes, plain: bytes, context: str) -> str:
    nonce = os.urandom(NONCE)
    return _encode(nonce + AESGCM(key).encrypt(nonce, plain, context.encode()))


def unseal(key: bytes, sealed: str, context: str) -> bytes:
    try:
        blob = base64.b64decode(sealed)
        return AESGCM(key).decrypt(blob[:NONCE], blob[NONCE:], context.encode())
    except (InvalidTag, ValueError) as error:
        raise Unreadable(context) from error


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def wrap(data_key: bytes, context: str) -> str:
    """``data_key`` sealed by the shop's current key: ``keyid.sealed``."""
    key = ring().current
    return f"{key.id}.{seal(key.wrapping, data_key, 'key:' + context)}"


def unwrap(wrapped: str, context: str) -> bytes:
    key_id, _, sealed = wrapped.partition(".")
    return unseal(ring().get(key_id).wrapping, sealed, "key:" + context)


def key_id(wrapped: str) -> str:
    return wrapped.partition(".")[0]


# -- blind indexes ---------------------------------------------------------------------


def blind(kind: str, value: str, key: Key | None = None) -> str:
    """The blind index of ``value`` (empty for an empty value) under ``key`` (the current
    one by default). ``kind`` keeps one kind's index from matching another's."""
    if not value:
        return ""
    key = key or ring().current
    mac = hmac.new(key.indexing, f"{kind}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()[: 2 * BLIND_BYTES]


def blinds(kind: str, value: str) -> list[str]:
    """``blind`` under every key of the ring: what a lookup asks for."""
    return [blind(kind, value, key) for key in ring().keys]


def digest(token: str) -> str:
    """A card token's digest (tokens are random: no key needed, as for API tokens)."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- records: what the API answered, events for webhooks -------------------------------

RECORD = "rec:"  # what a sealed record starts with; a record without it is plain (older)


def _records_key(key: Key) -> bytes:
    """The key records are sealed with: derived from the shop's key (so it rotates
    with it), apart from the one that wraps data keys."""
    return hmac.new(key.wrapping, b"records", hashlib.sha256).digest()


def seal_record(text: str) -> str:
    """``text`` (the JSON of an answer or an event) sealed under the shop's current key.
    Not a person's own key: these rows are many and hot (one per sale); erasure clears
    the ones about the person instead (``operations.privacy``)."""
    key = ring().current
    return f"{RECORD}{key.id}.{seal(_records_key(key), text.encode(), 'record')}"


def open_record(text: str) -> str:
    """What ``seal_record`` sealed; a plain record as it is."""
    if not text.startswith(RECORD):
        return text
    key_id, _, sealed = text[len(RECORD) :].partition(".")
    return unseal(_records_key(ring().get(key_id)), sealed, "record").decode()


def record_key_id(text: str) -> str:
    """The id of the key a sealed record is under ("" for a plain one)."""
    return text[len(RECORD) :].partition(".")[0] if text.startswith(RECORD) else ""


# Whatever else keeps records sealed under the shop's key registers here: a rotation
# calls each with the current key's id to move its rows to it (``customers.keys``).
RESEALERS: list[Callable[[str], int]] = []
