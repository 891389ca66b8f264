"""App tokens over the API and the CLI: created, used on every door, revoked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from app import db
from app.models import AppToken
from tests.app.processes import grove
from tests.conftest import PASSWORD

LOCK_BODY = (
    '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/>'
    "</d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>"
)
PROPPATCH_BODY = (
    '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:x">'
    "<d:set><d:prop><x:colour>green</x:colour></d:prop></d:set></d:propertyupdate>"
)


def make_token(live, session=None, **params: str) -> dict[str, str]:
    session = session or live.session()
    answer = session.post(f"{live.url}/auth-app/tokens", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def probe(session: requests.Session, url: str) -> int:
    return session.request("PROPFIND", url, headers={"Depth": "0"}).status_code


def bearer(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def test_token_is_shown_once_and_listed_by_identifier(live):
    made = make_token(live, expiry="72h", label="laptop rclone")
    assert set(made) >= {"token", "expiration_date", "created_date", "label"}
    assert made["label"] == "laptop rclone"
    assert made["expiration_date"] > made["created_date"]

    listed = live.session().get(f"{live.url}/auth-app/tokens").json()
    assert len(listed) == 1
    assert listed[0]["label"] == "laptop rclone"
    assert listed[0]["scope"] == "full"
    assert listed[0]["token"] != made["token"]
    assert listed[0]["token"] in made["token"]


def test_token_opens_webdav_as_basic_password_and_api_as_bearer(live):
    token = make_token(live)["token"]
    session = live.session("alice", token)
    assert session.put(f"{live.dav()}/by-token.txt", data=b"hi").status_code == 201
    assert (live.user_root() / "by-token.txt").read_bytes() == b"hi"

    assert bearer(token).get(f"{live.url}/auth-app/tokens").status_code == 200
    answer = bearer(token).request("PROPFIND", live.dav() + "/", headers={"Depth": "0"})
    assert answer.status_code == 207


def test_token_of_one_user_does_not_open_another_account(live):
    live.add_user("bob")
    token = make_token(live)["token"]
    answer = live.session("bob", token).request("PROPFIND", live.dav("bob") + "/")
    assert answer.status_code == 401


def test_revoked_token_is_refused_on_the_next_request(live):
    first, second = make_token(live)["token"], make_token(live)["token"]
    alice = live.session()
    identifier = alice.get(f"{live.url}/auth-app/tokens").json()[0]["token"]
    for token in (first, second):
        assert probe(live.session("alice", token), live.dav() + "/") == 207

    by_id = alice.delete(f"{live.url}/auth-app/tokens", params={"token": identifier})
    assert by_id.status_code == 200
    by_text = alice.delete(f"{live.url}/auth-app/tokens", params={"token": second})
    assert by_text.status_code == 200

    for token in (first, second):
        assert probe(live.session("alice", token), live.dav() + "/") == 401
    assert alice.get(f"{live.url}/auth-app/tokens").json() == []
    again = alice.delete(f"{live.url}/auth-app/tokens", params={"token": identifier})
    assert again.status_code == 404


def test_expired_token_is_refused(live):
    token = make_token(live, expiry="1h")["token"]
    with db.write():
        AppToken.update(expires=time.time() - 1).execute()
    assert bearer(token).get(f"{live.url}/auth-app/tokens").status_code == 401


def test_last_use_is_recorded(live):
    token = make_token(live)["token"]
    assert (
        live.session().get(f"{live.url}/auth-app/tokens").json()[0]["last_used_date"]
        is None
    )
    bearer(token).get(live.dav() + "/")
    listed = live.session().get(f"{live.url}/auth-app/tokens").json()
    assert listed[0]["last_used_date"] is not None


@pytest.mark.parametrize("expiry", ["soon", "0h", "-1h", "72"])
def test_bad_expiry_is_refused(live, expiry):
    answer = live.session().post(
        f"{live.url}/auth-app/tokens", params={"expiry": expiry}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalidRequest"


def test_token_api_needs_a_sign_in(live):
    assert requests.get(f"{live.url}/auth-app/tokens").status_code == 401
    assert requests.post(f"{live.url}/auth-app/tokens").status_code == 401


SEEDED = ("kept.txt", "del.txt", "mv.txt", "cp.txt", "prop.txt", "lock.txt")


def _seed(live) -> None:
    for name in SEEDED:
        live.session().put(f"{live.dav()}/{name}", data=b"original")


def _writes(live, session):
    dav = live.dav()
    yield "PUT", session.put(f"{dav}/new.txt", data=b"x")
    yield "PUT over", session.put(f"{dav}/kept.txt", data=b"x")
    yield "MKCOL", session.request("MKCOL", f"{dav}/folder")
    yield "DELETE", session.delete(f"{dav}/del.txt")
    moved = {"Destination": f"{dav}/moved.txt"}
    yield "MOVE", session.request("MOVE", f"{dav}/mv.txt", headers=moved)
    copied = {"Destination": f"{dav}/copied.txt"}
    yield "COPY", session.request("COPY", f"{dav}/cp.txt", headers=copied)
    yield (
        "PROPPATCH",
        session.request("PROPPATCH", f"{dav}/prop.txt", data=PROPPATCH_BODY),
    )
    yield "LOCK", session.request("LOCK", f"{dav}/lock.txt", data=LOCK_BODY)
    yield "LOCK new", session.request("LOCK", f"{dav}/locknew.txt", data=LOCK_BODY)
    yield "token POST", session.post(f"{live.url}/auth-app/tokens")
    listed = session.get(f"{live.url}/auth-app/tokens").json()
    yield (
        "token DELETE",
        session.delete(
            f"{live.url}/auth-app/tokens", params={"token": listed[0]["token"]}
        ),
    )


def test_read_only_token_is_refused_every_write(live):
    _seed(live)
    token = make_token(live, scope="read-only", label="backup")["token"]
    reader = live.session("alice", token)

    refused = {name: answer.status_code for name, answer in _writes(live, reader)}
    assert refused == {name: 403 for name in refused}, refused

    root = live.user_root()
    assert sorted(path.name for path in root.iterdir()) == sorted(SEEDED)
    assert all((root / name).read_bytes() == b"original" for name in SEEDED)
    assert reader.get(f"{live.dav()}/kept.txt").content == b"original"
    listing = reader.request("PROPFIND", live.dav() + "/", headers={"Depth": "1"})
    assert listing.status_code == 207
    assert len(live.session().get(f"{live.url}/auth-app/tokens").json()) == 1


def test_full_token_may_do_what_read_only_may_not(live):
    _seed(live)
    make_token(live, label="to be revoked")
    writer = live.session("alice", make_token(live)["token"])
    accepted = {name: answer.status_code for name, answer in _writes(live, writer)}
    assert all(status < 400 for status in accepted.values()), accepted


def test_database_holds_no_token_in_clear(live):
    token = make_token(live)["token"]
    assert probe(bearer(token), live.dav() + "/") == 207
    secret = token.rpartition("_")[2].encode()
    state = live.settings.state_dir
    for name in ("grove.db", "grove.db-wal"):
        path = state / name
        if path.exists():
            raw = path.read_bytes()
            assert token.encode() not in raw and secret not in raw, name


def test_cli_creates_lists_and_revokes_tokens(live, tmp_path: Path):
    data = str(live.settings.data)
    made = grove(
        "token",
        "create",
        "alice",
        "--label",
        "cli",
        "--read-only",
        "--expiry",
        "2h",
        "--data",
        data,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert probe(live.session("alice", token), live.dav() + "/") == 207
    assert (
        live.session("alice", token).put(live.dav() + "/x", data=b"").status_code == 403
    )

    listed = grove("token", "list", "alice", "--data", data)
    identifier, scope, label = listed.stdout.strip().split("\t")
    assert (scope, label) == ("read-only", "cli")
    assert identifier in token and PASSWORD not in listed.stdout

    revoked = grove("token", "revoke", "alice", identifier, "--data", data)
    assert revoked.returncode == 0, revoked.stderr
    assert probe(live.session("alice", token), live.dav() + "/") == 401
    missing = grove("token", "revoke", "alice", identifier, "--data", data)
    assert missing.returncode == 1 and "no token" in missing.stderr
