"""status.php, OCS capabilities and cloud/user as sync clients read them."""

from __future__ import annotations

import base64
import hashlib

import requests
from lxml import etree

from graph import ocs


def test_status_php_is_open_and_says_installed(live):
    for path in ("/status.php", "/status"):
        answer = requests.get(f"{live.url}{path}", timeout=10)
        assert answer.status_code == 200
        body = answer.json()
        assert body["installed"] is True
        assert body["maintenance"] is False
        assert body["needsDbUpgrade"] is False
        assert body["version"].startswith("10.")
        assert body["productname"] == "Grove"
        assert {"versionstring", "edition", "product", "productversion"} <= set(body)


def test_capabilities_json_in_the_ocs_envelope_v1_and_v2(live):
    for version, code in (("v1", 100), ("v2", 200)):
        answer = requests.get(
            f"{live.url}/ocs/{version}.php/cloud/capabilities?format=json",
            headers={"OCS-APIREQUEST": "true"},
            timeout=10,
        )
        assert answer.status_code == 200
        meta = answer.json()["ocs"]["meta"]
        assert (meta["status"], meta["statuscode"]) == ("ok", code)
        caps = answer.json()["ocs"]["data"]["capabilities"]
        assert caps["core"]["webdav-root"] == "remote.php/webdav"
        assert caps["dav"]["chunking"] == "1.0"
        assert caps["files"]["bigfilechunking"] is False
        assert caps["checksums"]["supportedTypes"] == ["SHA1"]
        assert caps["checksums"]["preferredUploadType"] == "SHA1"
        tus = caps["files"]["tus_support"]
        assert tus["version"] == "1.0.0"
        assert tus["extension"] == "creation,creation-with-upload,checksum,expiration"
        assert tus["max_chunk_size"] > 0


def test_capabilities_xml_without_format(live):
    answer = requests.get(f"{live.url}/ocs/v1.php/cloud/capabilities", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(answer.content)
    assert root.findtext("meta/statuscode") == "100"
    assert root.findtext("data/capabilities/dav/chunking") == "1.0"
    types = root.findall("data/capabilities/checksums/supportedTypes/element")
    assert [t.text for t in types] == ["SHA1"]


def test_advertised_optional_features_are_served(live, alice):
    """A flag is on only when its endpoint answers: clients act on flags."""
    caps = ocs.capabilities()
    drive = live.drive_id(alice)
    if caps["files"]["undelete"]:
        answer = alice.request(
            "PROPFIND",
            f"{live.url}/remote.php/dav/spaces/trash-bin/{drive}/",
            headers={"Depth": "1"},
        )
        assert answer.status_code == 207
    if caps["files"]["favorites"]:
        body = (
            '<?xml version="1.0"?><oc:filter-files xmlns:d="DAV:" '
            'xmlns:oc="http://owncloud.org/ns"><oc:filter-rules><oc:favorite>1'
            "</oc:favorite></oc:filter-rules></oc:filter-files>"
        )
        answer = alice.request("REPORT", f"{live.dav()}/", data=body)
        assert answer.status_code == 207
    if caps["files"]["versioning"]:
        answer = alice.request(
            "PROPFIND", f"{live.url}/dav/meta/", headers={"Depth": "0"}
        )
        assert answer.status_code != 404


def test_advertised_upload_features_are_served(live, alice):
    """Each upload flag a sync client acts on is backed by a door that answers."""
    caps = ocs.capabilities()
    dav = live.dav()
    # dav.chunking: chunked upload NG under /remote.php/dav/uploads/<user>/.
    assert caps["dav"]["chunking"] == "1.0"
    folder = f"{live.url}/remote.php/dav/uploads/alice/probe"
    assert alice.request("MKCOL", folder).status_code == 201
    assert alice.put(f"{folder}/1", data=b"chunk").status_code == 201
    moved = alice.request(
        "MOVE", f"{folder}/.file", headers={"Destination": f"{dav}/chunked.txt"}
    )
    assert moved.status_code == 201
    # files.tus_support: the version and every extension, on OPTIONS and POST.
    tus = caps["files"]["tus_support"]
    options = alice.options(f"{dav}/")
    assert options.headers["Tus-Version"] == tus["version"]
    served = options.headers["Tus-Extension"].split(",")
    assert set(tus["extension"].split(",")) <= set(served)
    body = b"tus"
    created = alice.post(
        f"{dav}/",
        data=body,
        headers={
            "Tus-Resumable": tus["resumable"],
            "Upload-Length": str(len(body)),
            "Upload-Metadata": "filename " + base64.b64encode(b"t.txt").decode(),
            "Upload-Checksum": "sha1 "
            + base64.b64encode(hashlib.sha1(body).digest()).decode(),
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["Upload-Expires"]  # expiration
    assert created.headers["Upload-Offset"] == "3"  # creation-with-upload
    # checksums.supportedTypes: verified on upload.
    for kind in caps["checksums"]["supportedTypes"]:
        bad = alice.put(
            f"{dav}/sum.txt", data=b"x", headers={"OC-Checksum": f"{kind}:00"}
        )
        assert bad.status_code == 400
    assert (live.user_root() / "chunked.txt").read_bytes() == b"chunk"
    assert (live.user_root() / "t.txt").read_bytes() == body


def test_advertised_tags_are_served(live, alice):
    assert ocs.capabilities()["files"]["tags"] is True
    answer = alice.get(f"{live.url}/graph/v1.0/extensions/org.libregraph/tags")
    assert answer.status_code == 200
    assert answer.json()["value"] == []


def test_cloud_user_needs_sign_in_and_names_the_caller(live, alice):
    anonymous = requests.get(
        f"{live.url}/ocs/v1.php/cloud/user?format=json", timeout=10
    )
    assert anonymous.status_code == 401
    for version, code in (("v1", 100), ("v2", 200)):
        answer = alice.get(f"{live.url}/ocs/{version}.php/cloud/user?format=json")
        assert answer.status_code == 200
        body = answer.json()["ocs"]
        assert body["meta"]["statuscode"] == code
        assert body["data"]["id"] == "alice"
        assert body["data"]["display-name"]
        assert body["data"]["quota"]["used"] >= 0
    xml = etree.fromstring(alice.get(f"{live.url}/ocs/v2.php/cloud/user").content)
    assert xml.findtext("data/id") == "alice"
