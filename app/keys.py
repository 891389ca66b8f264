"""Secrets sealed at rest: TOTP seeds (and later OCM secrets and signing keys)
are stored encrypted and authenticated (PyNaCl SecretBox) under a master key.

The master key lives in ``<data>/.grove/keys/<id>.key`` (mode 0600, made on
first start) or is given by the ``master_key`` / ``master_key_file`` settings.
A sealed value is ``sealed:v1:<key id>:<base64>``: it names the key that opens
it, so after ``grove keys rotate`` old values stay readable until re-sealed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
from pathlib import Path

import nacl.exceptions
import nacl.secret
import nacl.utils

from app.errors import GroveError

logger = logging.getLogger(__name__)

PREFIX = "sealed:v1:"
CHECK_PLAINTEXT = b"grove key check"


class KeyError_(GroveError):
    """The master key is missing, malformed or not the one that sealed the data."""


def key_id(key: bytes) -> str:
    """A key's id: derived from the key, so a wrong key cannot claim a right id."""
    return hashlib.sha256(b"grove key id\0" + key).hexdigest()[:16]


def _decode_key(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != nacl.secret.SecretBox.KEY_SIZE:
        raise KeyError_(f"{origin}: not a base64 master key of 32 bytes")
    return key


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


class Keyring:
    """The master keys this instance knows, and the current one that seals."""

    def __init__(self, folder: Path, given: str = "", given_file: Path | None = None):
        self.folder = folder
        self._given = given
        self._given_file = given_file
        self._keys: dict[str, bytes] = {}
        self.current = ""
        self._guard = threading.Lock()

    @property
    def managed(self) -> bool:
        """True when the keys folder holds the current key (not the settings)."""
        return not (self._given or self._given_file)

    def load(self, *, create: bool = True) -> None:
        """Read the keys folder (making the first key there if ``create``)."""
        keys: dict[str, bytes] = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.key")):
                key = _decode_key(path.read_text(), str(path))
                if key_id(key) != path.stem:
                    raise KeyError_(f"{str(path)!r}: the key does not match its id")
                keys[path.stem] = key
        current = ""
        if not self.managed:
            if self._given_file is not None:
                try:
                    text = self._given_file.read_text()
                except OSError as error:
                    raise KeyError_(
                        f"master_key_file {str(self._given_file)!r}: {error.strerror}"
                    ) from None
                key = _decode_key(text, f"master_key_file {str(self._given_file)!r}")
            else:
                key = _decode_key(self._given, "master_key")
            current = key_id(key)
            keys[current] = key
        else:
            pointer = self.folder / "current"
            if pointer.exists():
                current = pointer.read_text().strip()
                if current not in keys:
                    raise KeyError_(
                        f"the current master key {current!r} is missing from "
                        f"{str(self.folder)!r}"
                    )
            elif create:
                current = self._generate(keys)
        with self._guard:
            self._keys, self.current = keys, current

    def _generate(self, keys: dict[str, bytes]) -> str:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
        identifier = key_id(key)
        _write_private(
            self.folder / f"{identifier}.key", base64.b64encode(key).decode()
        )
        pointer = self.folder / "current.new"
        pointer.write_text(identifier + "\n")
        pointer.chmod(0o600)
        os.replace(pointer, self.folder / "current")
        keys[identifier] = key
        logger.info("made master key %s in %r", identifier, str(self.folder))
        return identifier

    def rotate(self) -> str:
        """Make a new current key in the keys folder; old keys stay for reading."""
        if not self.managed:
            raise KeyError_(
                "the master key is given by the settings (master_key or "
                "master_key_file): put a new key there to rotate"
            )
        self.load()
        keys = dict(self._keys)
        identifier = self._generate(keys)
        with self._guard:
            self._keys, self.current = keys, identifier
        return identifier

    def _key(self, identifier: str) -> bytes:
        with self._guard:
            key = self._keys.get(identifier)
        if key is None:
            # Another process may have rotated: its new key is on disk.
            self.load(create=False)
            with self._guard:
                key = self._keys.get(identifier)
        if key is None:
            raise KeyError_(f"no master key {identifier!r} to open a sealed value")
        return key

    def _follow_rotation(self) -> None:
        """Pick up a key made by ``grove keys rotate`` in another process, so
        that nothing new is sealed under a key about to be pruned."""
        if not self.managed:
            return
        try:
            current = (self.folder / "current").read_text().strip()
        except OSError:
            return
        if current != self.current:
            self.load(create=False)

    def prune(self, in_use: set[str]) -> list[str]:
        """Delete key files that are neither current nor in ``in_use``."""
        self.load(create=False)
        removed = []
        for identifier in sorted(self._keys):
            path = self.folder / f"{identifier}.key"
            if identifier not in in_use and identifier != self.current:
                if path.exists():
                    path.unlink()
                    removed.append(identifier)
        self.load(create=False)
        return removed

    def seal(self, plaintext: bytes) -> str:
        """``plaintext`` encrypted and authenticated under the current key."""
        self._follow_rotation()
        box = nacl.secret.SecretBox(self._key(self.current))
        sealed = base64.b64encode(box.encrypt(plaintext)).decode()
        return f"{PREFIX}{self.current}:{sealed}"

    def open(self, sealed: str) -> bytes:
        """The plaintext of a sealed value; KeyError_ if no key opens it."""
        identifier, body = self.key_of(sealed), sealed[len(PREFIX) :].partition(":")[2]
        box = nacl.secret.SecretBox(self._key(identifier))
        try:
            return box.decrypt(base64.b64decode(body))
        except (nacl.exceptions.CryptoError, binascii.Error, ValueError):
            raise KeyError_(
                f"a value sealed with key {identifier!r} does not open: wrong key "
                "or damaged value"
            ) from None

    @staticmethod
    def key_of(sealed: str) -> str:
        if not sealed.startswith(PREFIX):
            raise KeyError_("not a sealed value")
        return sealed[len(PREFIX) :].partition(":")[0]
