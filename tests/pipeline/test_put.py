"""The pipeline through WebDAV PUT: policy, MIME type, and each scanner outcome.

Other doors (chunked uploads, TUS) commit through the same Upload path; their
tests live with them and refuse the EICAR string the same way.
"""

from __future__ import annotations

import hashlib
import time
import zlib

import pytest
from lxml import etree

from app.models import AuditEvent, Node
from app.storage.ids import read_id
from tests.conftest import free_port, make_settings
from tests.pipeline.daemons import EICAR

NS = {"d": "DAV:", "s": "http://sabredav.org/ns", "oc": "http://owncloud.org/ns"}
INFECTED = b"report\n" + EICAR + b"\n"


def _events(action: str, since: float) -> list[AuditEvent]:
    query = AuditEvent.select().where(
        (AuditEvent.action == action) & (AuditEvent.time >= since)
    )
    return list(query.order_by(AuditEvent.id))


def _content_type(session, url: str) -> str:
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop>'
        "<d:getcontenttype/></d:prop></d:propfind>"
    )
    answer = session.request("PROPFIND", url, data=body, headers={"Depth": "0"})
    assert answer.status_code == 207, answer.text
    return str(
        etree.fromstring(answer.content).findtext(".//d:getcontenttype", None, NS)
    )


def _assert_refused_as_virus(answer) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["Content-Type"].startswith("application/xml")
    error = etree.fromstring(answer.content)
    assert error.findtext("oc:errorcode", None, NS) == "virusFound"
    assert "Eicar-Test-Signature" in error.findtext("s:message", "", NS)


@pytest.fixture
def settings(tmp_path, request):
    marker = request.node.get_closest_marker("grove")
    overrides = dict(marker.kwargs) if marker else {}
    if overrides.get("scanner") == "clamd" and "clamd_address" not in overrides:
        overrides["clamd_address"] = str(request.getfixturevalue("clamd").socket)
    if overrides.get("scanner") == "icap" and "icap_url" not in overrides:
        overrides["icap_url"] = request.getfixturevalue("c_icap").url
    return make_settings(tmp_path / "data", **overrides)


@pytest.mark.grove(scanner="clamd")
def test_eicar_is_refused_and_the_previous_version_stays(live, alice):
    url = f"{live.dav()}/report.txt"
    assert alice.put(url, data=b"version one\n").status_code == 201
    path = live.user_root() / "report.txt"
    node_id = read_id(path)
    start = time.time()

    _assert_refused_as_virus(alice.put(url, data=INFECTED))

    assert alice.get(url).content == b"version one\n"
    assert read_id(path) == node_id
    assert not list((live.settings.state_dir / "uploads").glob("*.put"))
    [scan] = _events("file_scan", start)
    assert (scan.actor, scan.address, scan.outcome) == (
        "alice",
        "127.0.0.1",
        "infected",
    )
    assert scan.detail.startswith("Eicar-Test-Signature")
    assert scan.target.endswith("/report.txt")
    [refusal] = _events("file_create", start)
    assert refusal.outcome == "refused" and "virusFound" in refusal.detail


@pytest.mark.grove(scanner="clamd")
def test_a_new_infected_file_never_appears(live, alice):
    _assert_refused_as_virus(alice.put(f"{live.dav()}/new.txt", data=INFECTED))
    assert alice.get(f"{live.dav()}/new.txt").status_code == 404
    assert not (live.user_root() / "new.txt").exists()


@pytest.mark.grove(scanner="clamd")
def test_clean_content_is_scanned_and_stored(live, alice):
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 4000
    assert alice.put(f"{live.dav()}/a.pdf", data=payload).status_code == 201
    assert alice.get(f"{live.dav()}/a.pdf").content == payload


@pytest.mark.grove(scanner="icap")
def test_icap_refuses_eicar_and_stores_clean_content(live, alice):
    url = f"{live.dav()}/notes.txt"
    assert alice.put(url, data=b"clean notes\n" * 1000).status_code == 201
    _assert_refused_as_virus(alice.put(url, data=INFECTED))
    assert alice.get(url).content == b"clean notes\n" * 1000


@pytest.mark.grove(scanner="clamd", clamd_address="/nonexistent/clamd.sock")
def test_an_unreachable_scanner_refuses_with_503(live, alice):
    start = time.time()
    answer = alice.put(f"{live.dav()}/a.txt", data=b"hello")
    assert answer.status_code == 503
    assert etree.fromstring(answer.content).findtext("oc:errorcode", None, NS) == (
        "scannerUnavailable"
    )
    assert not (live.user_root() / "a.txt").exists()
    [scan] = _events("file_scan", start)
    assert (scan.outcome, scan.detail) == ("unreachable", "refused")


@pytest.mark.grove(
    scanner="icap",
    icap_url=f"icap://127.0.0.1:{free_port()}/virus_scan",
    scan_unreachable="accept",
)
def test_an_unreachable_scanner_may_accept_and_flag(live, alice):
    start = time.time()
    assert alice.put(f"{live.dav()}/a.txt", data=b"hello").status_code == 201
    [scan] = _events("file_scan", start)
    assert (scan.outcome, scan.detail) == ("unreachable", "accepted")


@pytest.mark.grove(scanner="clamd", scan_max_bytes=1000)
def test_content_over_the_scan_limit_is_accepted_unscanned_and_audited(live, alice):
    start = time.time()
    # Even infected content over the limit is not scanned: the admin chose that.
    payload = INFECTED + b"x" * 2000
    assert alice.put(f"{live.dav()}/big.txt", data=payload).status_code == 201
    [scan] = _events("file_scan", start)
    assert (scan.outcome, scan.detail) == ("over_limit", "accepted")


@pytest.mark.grove(scanner="clamd", scan_max_bytes=1000, scan_over_limit="refuse")
def test_content_over_the_scan_limit_may_be_refused(live, alice):
    answer = alice.put(f"{live.dav()}/big.txt", data=b"x" * 2000)
    assert answer.status_code == 413
    assert "not scanned: over limit" in answer.text
    assert alice.put(f"{live.dav()}/small.txt", data=b"x" * 999).status_code == 201


@pytest.mark.grove(upload_blocked_extensions="exe, .BAT", upload_max_bytes=5000)
def test_policy_refuses_blocked_extensions_and_sizes(live, alice):
    start = time.time()
    answer = alice.put(f"{live.dav()}/setup.EXE", data=b"MZ")
    assert answer.status_code == 403
    assert etree.fromstring(answer.content).findtext("oc:errorcode", None, NS) == (
        "blockedExtension"
    )
    assert alice.put(f"{live.dav()}/run.bat", data=b"echo").status_code == 403
    assert alice.put(f"{live.dav()}/big.bin", data=b"x" * 5001).status_code == 413
    assert alice.put(f"{live.dav()}/ok.bin", data=b"x" * 5000).status_code == 201
    refusals = _events("file_create", start)
    assert [e.outcome for e in refusals] == ["refused", "refused", "refused", "ok"]


@pytest.mark.grove(upload_blocked_types="application/x-dosexec, image/*")
def test_policy_refuses_blocked_types_detected_from_the_content(live, alice):
    windows_program = b"MZ\x90\x00" + b"\x00" * 200
    answer = alice.put(f"{live.dav()}/harmless.txt", data=windows_program)
    assert answer.status_code == 403
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    assert alice.put(f"{live.dav()}/note.dat", data=png).status_code == 403
    assert alice.put(f"{live.dav()}/note.md", data=b"# hi\n").status_code == 201


def test_mime_type_comes_from_the_content_and_is_stored(live, alice):
    dav = live.dav()
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"
    assert alice.put(f"{dav}/photo.jpg", data=pdf).status_code == 201
    assert alice.put(f"{dav}/readme.md", data=b"# Title\n\ntext\n").status_code == 201
    assert alice.put(f"{dav}/noname", data=pdf).status_code == 201
    # Contradiction: the content decides (policy mime_mismatch = accept).
    assert _content_type(alice, f"{dav}/photo.jpg") == "application/pdf"
    assert alice.get(f"{dav}/photo.jpg").headers["Content-Type"] == "application/pdf"
    # Agreement: the name's more specific type stays.
    assert _content_type(alice, f"{dav}/readme.md") == "text/markdown"
    assert _content_type(alice, f"{dav}/noname") == "application/pdf"
    row = Node.get(Node.id == read_id(live.user_root() / "photo.jpg"))
    assert row.mime == "application/pdf"
    # The API reports the stored type too.
    listing = alice.get(f"{live.url}/graph/v1.0/me/drive/root/children")
    assert listing.status_code == 200, listing.text
    types = {i["name"]: i["file"]["mimeType"] for i in listing.json()["value"]}
    assert types["photo.jpg"] == "application/pdf"
    assert types["readme.md"] == "text/markdown"


@pytest.mark.grove(mime_mismatch="refuse")
def test_policy_may_refuse_a_type_that_contradicts_the_name(live, alice):
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"
    start = time.time()
    answer = alice.put(f"{live.dav()}/photo.jpg", data=pdf)
    assert answer.status_code == 415
    assert not (live.user_root() / "photo.jpg").exists()
    [refusal] = _events("file_create", start)
    assert refusal.outcome == "refused"
    assert "unsupportedType" in refusal.detail and "application/pdf" in refusal.detail
    assert alice.put(f"{live.dav()}/doc.pdf", data=pdf).status_code == 201
    assert alice.put(f"{live.dav()}/notes.txt", data=b"plain").status_code == 201


def test_a_wrong_checksum_is_refused_by_the_pipeline(live, alice):
    answer = alice.put(
        f"{live.dav()}/a.txt",
        data=b"hello",
        headers={"OC-Checksum": "SHA1:" + "0" * 40},
    )
    assert answer.status_code == 400
    assert not (live.user_root() / "a.txt").exists()


@pytest.mark.parametrize(
    "header",
    [
        "SHA1:" + hashlib.sha1(b"hello").hexdigest(),
        "MD5:" + hashlib.md5(b"hello").hexdigest(),
        "SHA256:" + hashlib.sha256(b"hello").hexdigest(),
        "SHA3-256:" + hashlib.sha3_256(b"hello").hexdigest(),
        # The ownCloud client writes Adler-32 without leading zeros.
        f"Adler32:{zlib.adler32(b'hello'):x}",
        f"MD5:{hashlib.md5(b'hello').hexdigest()} SHA1:{'0' * 40}",
        "SHA1:" + hashlib.sha1(b"hello").hexdigest().upper(),
    ],
)
def test_each_checksum_type_a_client_sends_is_verified(live, alice, header):
    url = f"{live.dav()}/a.txt"
    accepted = "0" * 40 not in header
    answer = alice.put(url, data=b"hello", headers={"OC-Checksum": header})
    assert answer.status_code == (201 if accepted else 400), answer.text
    assert (live.user_root() / "a.txt").exists() == accepted
    wrong = header.replace(header[-4:], "0000")
    refused = alice.put(url, data=b"other", headers={"OC-Checksum": wrong})
    assert refused.status_code == 400, refused.text
    assert "does not match" in refused.text


def test_a_malformed_checksum_is_refused_and_an_unknown_type_passed_over(live, alice):
    url = f"{live.dav()}/a.txt"
    for header in ("SHA1", "MD5:xyz", "SHA1:"):
        answer = alice.put(url, data=b"hello", headers={"OC-Checksum": header})
        assert answer.status_code == 400, header
    assert not (live.user_root() / "a.txt").exists()
    unknown = alice.put(url, data=b"hello", headers={"OC-Checksum": "BLAKE9:00ff"})
    assert unknown.status_code == 201
