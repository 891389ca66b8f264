"""Each kind of event the audit trail promises is really recorded, with the
caller's name and address: reads, restores, shares and links, spaces, app
tokens and TOTP, quota refusals; and no secret of any of them reaches it."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import requests
from lxml import etree

from app import roles, spaces, users
from app.models import AuditEvent
from tests.conftest import PASSWORD, LiveServer

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
ADDRESS = "127.0.0.1"


def _since(start: float, *actions: str) -> list[AuditEvent]:
    query = AuditEvent.select().where(AuditEvent.time >= start)
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    return list(query.order_by(AuditEvent.id))


def _summary(events: list[AuditEvent]) -> list[tuple[str, str, str, str]]:
    return [(e.action, e.actor, e.address, e.outcome) for e in events]


def _prop(session: requests.Session, url: str, name: str) -> str:
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
        f'xmlns:oc="http://owncloud.org/ns"><d:prop><oc:{name}/></d:prop>'
        "</d:propfind>"
    )
    answer = session.request("PROPFIND", url, data=body, headers={"Depth": "0"})
    assert answer.status_code == 207, answer.text
    return str(etree.fromstring(answer.content).findtext(f".//oc:{name}", None, NS))


def _hrefs(session: requests.Session, url: str) -> list[str]:
    answer = session.request("PROPFIND", url + "/", headers={"Depth": "1"})
    assert answer.status_code == 207, answer.text
    found = etree.fromstring(answer.content).findall(".//d:href", NS)
    return [str(h.text) for h in found][1:]


def _graph(live: LiveServer, path: str) -> str:
    return f"{live.url}/graph{path}"


def _item(live: LiveServer, session: requests.Session, name: str) -> dict:
    listing = session.get(_graph(live, "/v1.0/me/drive/root/children"))
    assert listing.status_code == 200, listing.text
    return next(i for i in listing.json()["value"] if i["name"] == name)


def _item_url(item: dict, tail: str) -> str:
    drive = item["parentReference"]["driveId"]
    return f"/v1beta1/drives/{drive}/items/{item['id']}{tail}"


def test_a_download_is_audited_as_file_read_and_a_listing_is_not(
    live: LiveServer, alice: requests.Session
) -> None:
    url = f"{live.dav()}/a.txt"
    assert alice.put(url, data=b"one").status_code == 201
    assert alice.put(url, data=b"two").status_code == 204
    meta = f"{live.url}/dav/meta/{_prop(alice, url, 'fileid')}/v"
    [version] = _hrefs(alice, meta)
    start = time.time()

    assert alice.get(url).content == b"two"
    assert alice.head(url).status_code == 200
    alice.request("PROPFIND", live.dav() + "/", headers={"Depth": "1"})
    assert alice.get(live.url + version).content == b"one"

    reads = _since(start, "file_read")
    assert _summary(reads) == [("file_read", "alice", ADDRESS, "ok")] * 2
    assert all(e.target.endswith("/a.txt") for e in reads)
    assert reads[0].detail == "" and reads[1].detail.startswith("version=")
    assert _since(start, "file_read", "file_create", "file_update") == reads


def test_restores_from_the_trash_and_of_a_version_are_audited(
    live: LiveServer, alice: requests.Session
) -> None:
    url = f"{live.dav()}/a.txt"
    alice.put(url, data=b"one")
    alice.put(url, data=b"two")
    meta = f"{live.url}/dav/meta/{_prop(alice, url, 'fileid')}/v"
    [version] = _hrefs(alice, meta)
    start = time.time()

    restored = alice.request("COPY", live.url + version, headers={"Destination": url})
    assert restored.status_code == 204, restored.text
    assert alice.delete(url).status_code == 204
    trash = f"{live.url}/dav/spaces/trash-bin/{live.drive_id(alice)}"
    [entry] = _hrefs(alice, trash)
    back = alice.request("MOVE", live.url + entry, headers={"Destination": url})
    assert back.status_code == 201, back.text

    events = _since(start, "file_version_restore", "file_delete", "file_trash_restore")
    assert _summary(events) == [
        ("file_version_restore", "alice", ADDRESS, "ok"),
        ("file_delete", "alice", ADDRESS, "ok"),
        ("file_trash_restore", "alice", ADDRESS, "ok"),
    ]
    assert all(e.target.endswith("a.txt") for e in events)


def test_token_and_totp_changes_are_audited_with_the_callers_address(
    live: LiveServer, alice: requests.Session
) -> None:
    start = time.time()
    made = alice.post(f"{live.url}/auth-app/tokens", params={"label": "sync"})
    assert made.status_code == 200, made.text
    identifier = made.json()["token"].split("_")[1]
    gone = alice.delete(f"{live.url}/auth-app/tokens", params={"token": identifier})
    assert gone.status_code == 200, gone.text
    # With TOTP on, the password alone makes no tokens: the one used to switch
    # it off again is made first.
    token = alice.post(f"{live.url}/auth-app/tokens").json()["token"]

    begun = alice.post(f"{live.url}/auth/totp")
    secret = parse_qs(urlparse(begun.json()["otpauth_uri"]).query)["secret"][0]
    generator = pyotp.TOTP(secret)
    now = time.time()
    confirmed = alice.post(
        f"{live.url}/auth/totp/confirm", json={"code": generator.at(now)}
    )
    assert confirmed.status_code == 200, confirmed.text
    code = generator.generate_otp(generator.timecode(now) + 1)
    owner = requests.Session()
    owner.headers["Authorization"] = f"Bearer {token}"
    assert owner.delete(f"{live.url}/auth/totp", json={"code": code}).status_code == 204

    events = _since(
        start, "token.create", "token.revoke", "totp.enable", "totp.disable"
    )
    assert _summary(events) == [
        ("token.create", "alice", ADDRESS, "ok"),
        ("token.revoke", "alice", ADDRESS, "ok"),
        ("token.create", "alice", ADDRESS, "ok"),
        ("totp.enable", "alice", ADDRESS, "ok"),
        ("totp.disable", "alice", ADDRESS, "ok"),
    ]
    assert {e.target for e in events} == {"alice"}


def test_share_and_link_changes_and_link_passwords_are_audited(
    live: LiveServer, alice: requests.Session
) -> None:
    live.add_user("bob")
    alice.request("MKCOL", f"{live.dav()}/Docs")
    alice.put(f"{live.dav()}/Docs/a.txt", data=b"alpha")
    item = _item(live, alice, "Docs")
    start = time.time()

    shared = alice.post(
        _graph(live, _item_url(item, "/invite")),
        json={
            "recipients": [
                {
                    "objectId": users.get("bob").id,
                    "@libre.graph.recipient.type": "user",
                }
            ],
            "roles": [roles.VIEWER.id],
        },
    )
    assert shared.status_code == 200, shared.text
    link = alice.post(
        _graph(live, _item_url(item, "/createLink")),
        json={"type": "view", "password": "link-pass-9"},
    )
    assert link.status_code == 200, link.text
    url = link.json()["link"]["webUrl"]
    assert requests.get(f"{url}/a.txt", auth=("x", "wrong-pass")).status_code == 401
    for _ in range(2):
        opened = requests.get(f"{url}/a.txt", auth=("x", "link-pass-9"))
        assert opened.content == b"alpha"

    events = _since(start, "file_shared", "public_link_accessed")
    assert _summary(events) == [
        ("file_shared", "alice", ADDRESS, "ok"),
        ("file_shared", "alice", ADDRESS, "ok"),
        ("public_link_accessed", events[2].actor, ADDRESS, "failed"),
        ("public_link_accessed", events[2].actor, ADDRESS, "ok"),
    ]
    assert events[2].actor.startswith("link:")
    reads = _since(start, "file_read")
    assert [(e.actor, e.address) for e in reads] == [(events[2].actor, ADDRESS)] * 2


def test_space_changes_made_over_the_api_carry_the_callers_address(
    live: LiveServer,
) -> None:
    admin = live.session("admin", "admin-password-1")
    start = time.time()
    made = admin.post(_graph(live, "/v1.0/drives"), json={"name": "Mars"})
    assert made.status_code == 201, made.text
    renamed = admin.patch(
        _graph(live, f"/v1.0/drives/{made.json()['id']}"), json={"name": "Phobos"}
    )
    assert renamed.status_code == 200, renamed.text

    events = _since(start, "space_created", "space_renamed")
    assert _summary(events) == [
        ("space_created", "admin", ADDRESS, "ok"),
        ("space_renamed", "admin", ADDRESS, "ok"),
    ]


def test_an_upload_over_the_quota_is_refused_and_audited(
    live: LiveServer, alice: requests.Session
) -> None:
    spaces.update(spaces.personal_space(users.get("alice")), quota_total=10)
    start = time.time()
    answer = alice.put(f"{live.dav()}/big.bin", data=b"x" * 11)
    assert answer.status_code == 507
    assert alice.put(f"{live.dav()}/small.bin", data=b"x" * 10).status_code == 201

    events = _since(start, "file_create")
    assert _summary(events) == [
        ("file_create", "alice", ADDRESS, "refused"),
        ("file_create", "alice", ADDRESS, "ok"),
    ]
    assert events[0].target.endswith("/big.bin")
    assert "InsufficientStorage" in events[0].detail


@pytest.fixture
def secrets_used(live: LiveServer, alice: requests.Session) -> list[str]:
    """Go through every flow that handles a secret; the secrets it used."""
    used = [PASSWORD, "wrong-password-1", "link-pass-9", "new-password-77"]
    live.session("alice", used[1]).request("PROPFIND", live.dav())
    token = alice.post(f"{live.url}/auth-app/tokens").json()["token"]
    used.append(token)
    used.append(token.rpartition("_")[2])
    requests.request("PROPFIND", live.dav(), auth=("alice", token))
    alice.delete(f"{live.url}/auth-app/tokens", params={"token": token})
    begun = alice.post(f"{live.url}/auth/totp").json()
    used.append(parse_qs(urlparse(begun["otpauth_uri"]).query)["secret"][0])
    alice.request("MKCOL", f"{live.dav()}/Docs")
    link = alice.post(
        _graph(live, _item_url(_item(live, alice, "Docs"), "/createLink")),
        json={"type": "view", "password": used[2]},
    ).json()
    used.append(link["link"]["webUrl"].rpartition("/")[2])
    requests.request("PROPFIND", link["link"]["webUrl"], auth=("x", used[2]))
    users.set_password("alice", used[3], actor="admin")
    return used


def test_no_secret_reaches_the_trail(secrets_used: list[str]) -> None:
    events = list(AuditEvent.select())
    assert {"auth.signin", "token.create", "file_shared"} <= {e.action for e in events}
    fields = ("actor", "address", "action", "target", "outcome", "detail")
    for event in events:
        for field in fields:
            value = str(getattr(event, field))
            for secret in secrets_used:
                assert secret not in value, (event.action, field)
