"""status.php, OCS capabilities and cloud/user as sync clients read them."""

from __future__ import annotations

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
