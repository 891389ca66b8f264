"""The master key: made on first start, given by settings, checked at start,
rotated without losing what older keys sealed."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from app import db, users
from app.auth import totp
from app.instance import Grove
from app.keys import KeyError_, Keyring, key_id
from app.models import TotpSecret
from tests.app.processes import environment, grove
from tests.conftest import PASSWORD, make_settings


def prepared(data: Path, **overrides: object) -> Grove:
    instance = Grove(make_settings(data, **overrides))
    instance.prepare()
    return instance


def test_first_start_makes_a_private_key_that_seals_and_opens(tmp_path):
    instance = prepared(tmp_path / "data")
    folder = tmp_path / "data" / ".grove" / "keys"
    key_file = folder / f"{instance.keyring.current}.key"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600

    sealed = instance.keyring.seal(b"JBSWY3DPEHPK3PXP")
    assert sealed.startswith(f"sealed:v1:{instance.keyring.current}:")
    assert b"JBSWY3DPEHPK3PXP" not in sealed.encode()
    assert instance.keyring.open(sealed) == b"JBSWY3DPEHPK3PXP"

    again = prepared(tmp_path / "data")
    assert again.keyring.current == instance.keyring.current
    assert again.keyring.open(sealed) == b"JBSWY3DPEHPK3PXP"


def test_tampered_value_does_not_open(tmp_path):
    keyring = prepared(tmp_path / "data").keyring
    sealed = keyring.seal(b"secret")
    body = bytearray(base64.b64decode(sealed.rpartition(":")[2]))
    body[-1] ^= 1
    tampered = sealed.rpartition(":")[0] + ":" + base64.b64encode(body).decode()
    with pytest.raises(KeyError_, match="does not open"):
        keyring.open(tampered)


def test_key_given_by_file_is_used_and_none_is_made(tmp_path):
    key = base64.b64encode(os.urandom(32)).decode()
    key_file = tmp_path / "vault" / "grove.key"
    key_file.parent.mkdir()
    key_file.write_text(key + "\n")
    instance = prepared(tmp_path / "data", master_key_file=str(key_file))
    assert instance.keyring.current == key_id(base64.b64decode(key))
    assert not list((tmp_path / "data" / ".grove").glob("keys/*.key"))


def test_missing_key_stops_the_start_with_a_clear_error(tmp_path):
    data = tmp_path / "data"
    prepared(data)
    db.database.close()
    for path in (data / ".grove" / "keys").iterdir():
        path.unlink()

    result = grove("user", "list", "--data", data)
    assert result.returncode == 1
    assert "sealed with master key" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_configured_key_stops_the_start_with_a_clear_error(tmp_path):
    data = tmp_path / "data"
    prepared(data, master_key=base64.b64encode(os.urandom(32)).decode())
    db.database.close()
    other = base64.b64encode(os.urandom(32)).decode()
    result = grove(
        "user", "list", "--data", data, env=environment(GROVE_MASTER_KEY=other)
    )
    assert result.returncode == 1
    assert "does not have or which is wrong" in result.stderr

    broken = grove(
        "user", "list", "--data", data, env=environment(GROVE_MASTER_KEY="short")
    )
    assert broken.returncode == 1 and "32 bytes" in broken.stderr
    assert "short" not in broken.stderr.replace("32 bytes", "")


def test_rotate_makes_a_new_key_and_old_values_stay_readable(tmp_path):
    data = tmp_path / "data"
    old = prepared(data).keyring
    sealed_before = old.seal(b"kept")
    db.database.close()

    result = grove("keys", "rotate", "--data", data)
    assert result.returncode == 0, result.stderr
    assert "new master key" in result.stdout

    instance = prepared(data)
    assert instance.keyring.current != old.current
    assert (data / ".grove" / "keys" / f"{old.current}.key").exists()
    assert instance.keyring.open(sealed_before) == b"kept"
    # An instance that loaded the keys before the rotation still opens new values.
    assert old.open(instance.keyring.seal(b"new")) == b"new"


def test_prune_removes_only_keys_nothing_uses(tmp_path):
    data = tmp_path / "data"
    first = prepared(data).keyring.current
    db.database.close()
    assert grove("keys", "rotate", "--data", data).returncode == 0
    result = grove("keys", "prune", "--data", data)
    assert result.returncode == 0, result.stderr
    assert "removed 1 unused keys" in result.stdout
    keys = data / ".grove" / "keys"
    assert not (keys / f"{first}.key").exists()
    assert len(list(keys.glob("*.key"))) == 1
    assert grove("user", "list", "--data", data).returncode == 0


def test_rotate_reseals_totp_seeds_which_still_verify_after_prune(tmp_path):
    data = tmp_path / "data"
    instance = prepared(data)
    users.add(instance.storage_dir, "alice", PASSWORD)
    uri = totp.begin(users.get("alice"), instance.keyring)
    old = instance.keyring.current
    db.database.close()

    assert grove("keys", "rotate", "--data", data).returncode == 0
    assert "removed 1" in grove("keys", "prune", "--data", data).stdout

    instance = prepared(data)
    seed = TotpSecret.get().seed
    assert Keyring.key_of(seed) == instance.keyring.current != old
    generator = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    codes = totp.confirm(users.get("alice"), generator.now(), instance.keyring)
    assert len(codes) == 10
