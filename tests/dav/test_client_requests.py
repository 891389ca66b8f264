"""Requests that real clients send and that Grove once answered wrongly."""

from __future__ import annotations

import logging
import time

import requests
from lxml import etree

NS = {"d": "DAV:"}
LOCK_BODY = (
    '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/>'
    "</d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>"
)


def test_anonymous_options_on_a_mount_url_answers_dav(live, alice):
    # davfs2 probes the URL it mounts before it signs in; a 404 ended the mount.
    for url in (f"{live.dav()}/", f"{live.dav()}/no/such/thing", f"{live.dav('bob')}/"):
        answer = requests.options(url)
        assert answer.status_code == 200, url
        assert "2" in answer.headers["DAV"]
    assert requests.request("PROPFIND", f"{live.dav()}/").status_code == 401


def test_lock_on_an_unmapped_url_creates_an_empty_locked_file(live, alice):
    # davfs2 locks every new file before its first PUT (RFC 4918 9.10.4).
    url = f"{live.dav()}/new.txt"
    locked = alice.request("LOCK", url, data=LOCK_BODY)
    assert locked.status_code == 201
    assert alice.get(url).content == b""
    assert alice.put(url, data=b"other").status_code == 423
    token = locked.headers["Lock-Token"]
    assert alice.put(url, data=b"mine", headers={"If": f"({token})"}).status_code == 204
    assert (live.user_root() / "new.txt").read_bytes() == b"mine"


def test_lock_on_an_unmapped_url_needs_an_existing_folder(live, alice):
    answer = alice.request("LOCK", f"{live.dav()}/missing/new.txt", data=LOCK_BODY)
    assert answer.status_code == 409
    assert not (live.user_root() / "missing").exists()


def test_propfind_propname_lists_names_without_values(live, alice):
    url = f"{live.dav()}/p.txt"
    alice.put(url, data=b"x")
    alice.request(
        "PROPPATCH",
        url,
        data='<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:z">'
        "<d:set><d:prop><z:color>blue</z:color></d:prop></d:set></d:propertyupdate>",
    )
    answer = alice.request(
        "PROPFIND",
        f"{live.dav()}/",
        headers={"Depth": "1"},
        data='<?xml version="1.0"?><d:propfind xmlns:d="DAV:">'
        "<d:propname/></d:propfind>",
    )
    assert answer.status_code == 207
    tree = etree.fromstring(answer.content)
    for response in tree.findall("d:response", NS):
        if response.findtext("d:href", namespaces=NS).endswith("/p.txt"):
            prop = response.find("d:propstat/d:prop", NS)
            break
    else:
        raise AssertionError("no response for p.txt")
    names = {child.tag for child in prop}
    assert {"{DAV:}getetag", "{DAV:}getcontentlength", "{urn:z}color"} <= names
    assert all(len(child) == 0 and not child.text for child in prop)


def test_access_log_shows_unicode_paths_as_sent(live, alice, caplog):
    caplog.set_level(logging.INFO, logger="grove.access")
    alice.put(f"{live.dav()}/café.txt", data=b"x")
    wanted = "'/remote.php/dav/files/alice/café.txt' 201"
    deadline = time.monotonic() + 5
    # The line is written when the server closes the answer, just after sending.
    while time.monotonic() < deadline:
        lines = [r.getMessage() for r in caplog.records if r.name == "grove.access"]
        if any(wanted in line for line in lines):
            break
        time.sleep(0.02)
    assert any(wanted in line for line in lines), lines
