"""TOTP: enrolment with codes computed by pyotp, once-only codes, recovery
codes, the password alone refused, admin requirement and reset."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import requests

from app import users
from app.auth import totp
from app.models import AuditEvent
from tests.app.processes import grove
from tests.conftest import PASSWORD, make_settings


def probe(session: requests.Session, url: str) -> requests.Response:
    return session.request("PROPFIND", url, headers={"Depth": "0"})


def enrol(live, session: requests.Session) -> tuple[pyotp.TOTP, list[str], int]:
    """Switch TOTP on; the generator, the recovery codes, the step used."""
    begun = session.post(f"{live.url}/auth/totp")
    assert begun.status_code == 200, begun.text
    uri = begun.json()["otpauth_uri"]
    assert "<svg" in begun.json()["qr_svg"]
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    generator = pyotp.TOTP(secret)
    now = time.time()
    confirmed = session.post(
        f"{live.url}/auth/totp/confirm", json={"code": generator.at(now)}
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return generator, codes, generator.timecode(now)


def bearer(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def make_token(live, session: requests.Session) -> str:
    answer = session.post(f"{live.url}/auth-app/tokens", params={"label": "sync"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def test_wrong_first_code_does_not_switch_totp_on(live, alice):
    assert alice.post(f"{live.url}/auth/totp").status_code == 200
    wrong = alice.post(f"{live.url}/auth/totp/confirm", json={"code": "000000"})
    assert wrong.status_code == 403
    assert probe(alice, live.dav() + "/").status_code == 207


def test_with_totp_on_the_password_alone_is_refused_and_tokens_still_work(live, alice):
    token = make_token(live, alice)
    enrol(live, alice)

    refused = probe(alice, live.dav() + "/")
    assert refused.status_code == 401
    assert "app token" in refused.text and "/signin" in refused.text
    api = alice.get(f"{live.url}/auth-app/tokens")
    assert api.status_code == 401 and "app token" in api.text

    assert probe(live.session("alice", token), live.dav() + "/").status_code == 207
    assert bearer(token).get(f"{live.url}/auth-app/tokens").status_code == 200


def test_a_code_is_accepted_once_only(live, alice):
    token = make_token(live, alice)
    generator, _codes, step = enrol(live, alice)
    owner = bearer(token)

    used = generator.generate_otp(step)
    replay = owner.delete(f"{live.url}/auth/totp", json={"code": used})
    assert replay.status_code == 403
    earlier = generator.generate_otp(step - 1)
    assert owner.delete(
        f"{live.url}/auth/totp", json={"code": earlier}
    ).status_code == (403)

    following = generator.generate_otp(step + 1)
    assert owner.delete(
        f"{live.url}/auth/totp", json={"code": following}
    ).status_code == (204)
    assert probe(alice, live.dav() + "/").status_code == 207


def test_recovery_code_with_password_switches_totp_off_and_works_once(live, alice):
    token = make_token(live, alice)
    _generator, codes, _step = enrol(live, alice)
    owner = bearer(token)

    user = users.get("alice")
    assert totp.use_recovery_code(user, codes[1])
    assert not totp.use_recovery_code(user, codes[1])

    for body in (
        {"password": PASSWORD, "recovery_code": codes[1]},
        {"password": "wrong password", "recovery_code": codes[0]},
        {"recovery_code": codes[0]},
    ):
        assert owner.delete(f"{live.url}/auth/totp", json=body).status_code == 403
    off = owner.delete(
        f"{live.url}/auth/totp", json={"password": PASSWORD, "recovery_code": codes[0]}
    )
    assert off.status_code == 204
    assert probe(alice, live.dav() + "/").status_code == 207


def test_read_only_token_cannot_switch_totp_off(live, alice):
    answer = alice.post(f"{live.url}/auth-app/tokens", params={"scope": "read-only"})
    reader = bearer(answer.json()["token"])
    generator, _codes, step = enrol(live, alice)
    code = generator.generate_otp(step + 1)
    assert (
        reader.delete(f"{live.url}/auth/totp", json={"code": code}).status_code == 403
    )
    assert reader.post(f"{live.url}/auth/totp").status_code == 403


def test_database_holds_no_totp_secret_or_recovery_code_in_clear(live, alice):
    token = make_token(live, alice)
    generator, codes, _step = enrol(live, alice)
    assert bearer(token).get(f"{live.url}/auth-app/tokens").status_code == 200
    state = live.settings.state_dir
    needles = [generator.secret.encode(), token.encode()]
    needles += [code.encode() for code in codes]
    needles += [code.replace("-", "").encode() for code in codes]
    for name in ("grove.db", "grove.db-wal"):
        path = state / name
        if path.exists():
            raw = path.read_bytes()
            assert not [needle for needle in needles if needle in raw], name


def test_admin_reset_switches_totp_off_and_is_audited(live, alice):
    enrol(live, alice)
    assert probe(alice, live.dav() + "/").status_code == 401

    result = grove("user", "totp-reset", "alice", "--data", live.settings.data)
    assert result.returncode == 0, result.stderr
    assert probe(alice, live.dav() + "/").status_code == 207
    events = AuditEvent.select().where(AuditEvent.action == "totp.disable")
    assert [(e.actor, e.target, e.detail) for e in events] == [
        ("cli", "alice", "admin reset")
    ]


@pytest.fixture
def settings(tmp_path, request):
    required = getattr(request, "param", "off")
    return make_settings(tmp_path / "data", totp_required=required)


@pytest.mark.parametrize("settings", ["everyone"], indirect=True)
def test_required_totp_lets_the_password_open_only_the_enrolment(live, alice):
    refused = probe(alice, live.dav() + "/")
    assert refused.status_code == 403 and "enrol" in refused.text
    assert alice.get(f"{live.url}/auth-app/tokens").status_code == 403
    assert alice.post(f"{live.url}/auth-app/tokens").status_code == 403

    enrol(live, alice)
    assert probe(alice, live.dav() + "/").status_code == 401
