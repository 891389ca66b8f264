"""What Windows' mini-redirector and macOS Finder need (issue 2, section 3).

Neither runs here; these tests send the requests they are known to send
(see ../shared/reference/clients.md).
"""

from __future__ import annotations

import os
from email.utils import formatdate

import requests
from lxml import etree

from tests.dav.rawhttp import chunked, send

NS = {"d": "DAV:", "z": "urn:schemas-microsoft-com:"}
BASE = "/remote.php/dav/files/alice"


def test_anonymous_options_is_answered_on_the_root_and_on_dav_paths(live):
    for path in ("/", f"{BASE}/", f"{BASE}/missing/folder", "/remote.php/webdav/"):
        answer = requests.options(live.url + path, timeout=10)
        assert answer.status_code == 200, path
        assert "1" in answer.headers["DAV"] and "2" in answer.headers["DAV"], path
        assert answer.headers["MS-Author-Via"] == "DAV", path


def test_basic_is_offered_when_credentials_are_missing_or_wrong(live):
    for auth in (None, ("alice", "wrong")):
        for method in ("PROPFIND", "GET", "PUT", "LOCK"):
            answer = requests.request(method, f"{live.dav()}/", auth=auth, timeout=10)
            assert answer.status_code == 401, (method, auth)
            challenge = answer.headers["WWW-Authenticate"]
            assert challenge.startswith("Basic ") and 'realm="' in challenge


def win32_proppatch(props: dict[str, str]) -> str:
    inner = "".join(f"<Z:{name}>{value}</Z:{name}>" for name, value in props.items())
    return (
        '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" '
        f'xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>{inner}'
        "</D:prop></D:set></D:propertyupdate>"
    )


def test_win32_timestamp_proppatch_sets_mtime_and_stores_the_rest(live, alice):
    url = f"{live.dav()}/report.docx"
    alice.put(url, data=b"doc")
    props = {
        "Win32CreationTime": formatdate(1200000000, usegmt=True),
        "Win32LastAccessTime": formatdate(1300000000, usegmt=True),
        "Win32LastModifiedTime": formatdate(1400000000, usegmt=True),
        "Win32FileAttributes": "00000020",
    }
    answer = alice.request("PROPPATCH", url, data=win32_proppatch(props))
    assert answer.status_code == 207
    tree = etree.fromstring(answer.content)
    for propstat in tree.iterfind(".//d:propstat", NS):
        assert propstat.findtext("d:status", namespaces=NS).endswith("200 OK")
    assert len(tree.findall(".//d:propstat/d:prop/*", NS)) == 4

    assert os.stat(live.user_root() / "report.docx").st_mtime == 1400000000
    body = (
        '<D:propfind xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:prop>'
        + "".join(f"<Z:{name}/>" for name in props)
        + "<D:getlastmodified/></D:prop></D:propfind>"
    )
    found = etree.fromstring(
        alice.request("PROPFIND", url, data=body, headers={"Depth": "0"}).content
    )
    for name, value in props.items():
        assert found.findtext(f".//z:{name}", namespaces=NS) == value, name
    modified = found.findtext(".//d:getlastmodified", namespaces=NS)
    assert modified == formatdate(1400000000, usegmt=True)
    # The content is untouched and readable.
    assert alice.get(url).content == b"doc"
    # Win32LastModifiedTime is the file's mtime: a later write moves it too.
    alice.put(url, data=b"doc 2", headers={"X-OC-Mtime": "1500000000"})
    found = etree.fromstring(
        alice.request("PROPFIND", url, data=body, headers={"Depth": "0"}).content
    )
    assert found.findtext(".//z:Win32LastModifiedTime", namespaces=NS) == formatdate(
        1500000000, usegmt=True
    )
    assert (
        found.findtext(".//z:Win32CreationTime", namespaces=NS)
        == props["Win32CreationTime"]
    )


def test_win32_proppatch_on_a_folder_is_accepted(live, alice):
    alice.request("MKCOL", f"{live.dav()}/dir")
    stamp = formatdate(1250000000, usegmt=True)
    answer = alice.request(
        "PROPPATCH",
        f"{live.dav()}/dir",
        data=win32_proppatch(
            {"Win32LastModifiedTime": stamp, "Win32FileAttributes": "10"}
        ),
    )
    assert answer.status_code == 207
    assert "200 OK" in answer.text and "HTTP/1.1 4" not in answer.text
    assert os.stat(live.user_root() / "dir").st_mtime == 1250000000


def test_win32_proppatch_with_a_bad_date_changes_nothing(live, alice):
    url = f"{live.dav()}/x.txt"
    alice.put(url, data=b"x", headers={"X-OC-Mtime": "1100000000"})
    answer = alice.request(
        "PROPPATCH",
        url,
        data=win32_proppatch(
            {"Win32LastModifiedTime": "not a date", "Win32FileAttributes": "00000020"}
        ),
    )
    assert answer.status_code == 207
    assert "HTTP/1.1 200 OK" not in answer.text
    assert os.stat(live.user_root() / "x.txt").st_mtime == 1100000000


def test_chunked_put_without_content_length_stores_the_whole_body(live, alice):
    body = os.urandom(3 * 1024 * 1024 + 17)
    for name, extra in (
        ("plain.bin", {}),
        ("finder.bin", {"X-Expected-Entity-Length": str(len(body))}),
    ):
        headers = {"Transfer-Encoding": "chunked", **extra}
        answer = send(
            live.url, "PUT", f"{BASE}/{name}", headers, chunked(body, 100_000)
        )
        assert answer.status == 201, (name, answer)
        assert answer.headers["etag"].startswith('"')
        assert alice.get(f"{live.dav()}/{name}").content == body
    # Overwriting with an empty chunked body leaves an empty file.
    answer = send(
        live.url,
        "PUT",
        f"{BASE}/plain.bin",
        {"Transfer-Encoding": "chunked"},
        chunked(b""),
    )
    assert answer.status == 204
    assert (live.user_root() / "plain.bin").read_bytes() == b""


def test_macos_resource_fork_files_are_ordinary_files(live, alice):
    for name in ("._report.docx", ".DS_Store"):
        assert (
            alice.put(f"{live.dav()}/{name}", data=b"\0\x05\x16\x07").status_code == 201
        )
        assert alice.get(f"{live.dav()}/{name}").content == b"\0\x05\x16\x07"
        assert alice.delete(f"{live.dav()}/{name}").status_code == 204
