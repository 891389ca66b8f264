"""Grove's own PROPFIND answer (dav/propfind.py) says what WsgiDAV's generic one said.

Each request is answered twice by the same live server: once by Grove's
builder, once by the library's generic machinery (``RequestServer.do_PROPFIND``
and, for propname, ``get_properties("name")``), and the parsed answers must
agree: the same hrefs in the same order, each property with the same status
and value.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import etree
from wsgidav import util, xml_tools
from wsgidav.dav_error import HTTP_NOT_FOUND, DAVError
from wsgidav.request_server import RequestServer

import dav.propfind

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
OC_PROPS = (
    "<oc:id/><oc:fileid/><oc:spaceid/><oc:file-parent/><oc:name/><oc:permissions/>"
    "<oc:size/><oc:checksums/><oc:owner-id/><oc:owner-display-name/><oc:favorite/>"
    "<oc:share-types/><oc:tags/>"
)
DAV_PROPS = (
    "<d:resourcetype/><d:creationdate/><d:getcontentlength/><d:getcontenttype/>"
    "<d:getlastmodified/><d:displayname/><d:getetag/><d:lockdiscovery/>"
    "<d:supportedlock/><d:quota-used-bytes/><d:quota-available-bytes/>"
    "<d:unknown-live/>"
)
OTHER_PROPS = (
    "<z:color/><z:big/><z:absent/><ms:Win32LastModifiedTime/><ms:Win32FileAttributes/>"
)


def body(inner: str) -> str:
    return (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
        'xmlns:oc="http://owncloud.org/ns" xmlns:z="urn:z" '
        f'xmlns:ms="urn:schemas-microsoft-com:">{inner}</d:propfind>'
    )


BODIES = {
    "allprop": body("<d:allprop/>"),
    "empty": "",
    "propname": body("<d:propname/>"),
    "named": body(f"<d:prop>{DAV_PROPS}{OC_PROPS}{OTHER_PROPS}</d:prop>"),
    "nothing": body(""),
}


def _generic(server: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """What answered before: the library's PROPFIND, and propname through
    ``get_properties("name")`` (the library looks for <name/>, not <propname/>)."""
    if b"propname" not in environ["wsgi.input"].getvalue():
        return RequestServer.do_PROPFIND(server, environ, start_response)
    res = server._davProvider.get_resource_inst(environ["PATH_INFO"], environ)
    if res is None:
        raise DAVError(HTTP_NOT_FOUND)
    multistatus = xml_tools.make_multistatus_el()
    for member in res.get_descendants(depth=environ["HTTP_DEPTH"], add_self=True):
        util.add_property_response(
            multistatus, member.get_href(), member.get_properties("name")
        )
    return util.send_multi_status_response(environ, start_response, multistatus)


def _canonical(element: Any) -> str:
    text = etree.tostring(element, method="c14n").decode()
    text = re.sub(r'\s*xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r"<(/?)\w+:", r"<\1", text)
    # Seconds left on a lock and free disk space move between two requests.
    text = re.sub(r"Second-\d+", "Second-N", text)
    return re.sub(r"\s+", " ", text)


def parse(content: bytes) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    tree = etree.fromstring(content)
    out = []
    for response in tree.findall("d:response", NS):
        props: dict[str, tuple[str, str]] = {}
        for propstat in response.findall("d:propstat", NS):
            status = propstat.findtext("d:status", namespaces=NS)
            for prop in propstat.find("d:prop", NS):
                value = _canonical(prop)
                if prop.tag == "{DAV:}quota-available-bytes" and prop.text:
                    value = "free"
                props[prop.tag] = (status, value)
        out.append((response.findtext("d:href", namespaces=NS), props))
    return out


def _ask(session: Any, url: str, depth: str, data: str) -> Any:
    answer = session.request("PROPFIND", url, data=data, headers={"Depth": depth})
    assert answer.status_code == 207, answer.text
    assert answer.headers["Content-Type"] == "application/xml; charset=utf-8"
    return answer


@pytest.fixture
def tree(live, alice):
    """A folder with every kind of member a listing must describe."""
    dav = live.dav()
    alice.request("MKCOL", f"{dav}/box")
    alice.request("MKCOL", f"{dav}/box/sub")
    alice.put(f"{dav}/box/sub/deep.txt", data=b"deep")
    alice.put(f"{dav}/box/a.txt", data=b"hello")
    alice.put(f"{dav}/box/b.tar.gz", data=b"x" * 10)
    alice.put(f"{dav}/box/café (1).pdf", data=b"%PDF")
    alice.put(f"{dav}/box/.hidden", data=b"")
    alice.put(f"{dav}/box/locked.txt", data=b"l")
    answer = alice.request(
        "PROPPATCH",
        f"{dav}/box/a.txt",
        data='<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:z">'
        "<d:set><d:prop><z:color>blue</z:color>"
        f"<z:big>{'y' * 5000}</z:big></d:prop></d:set></d:propertyupdate>",
    )
    assert answer.status_code == 207
    answer = alice.request(
        "PROPPATCH",
        f"{dav}/box/b.tar.gz",
        data='<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" '
        'xmlns:oc="http://owncloud.org/ns"><d:set><d:prop><oc:favorite>1'
        "</oc:favorite></d:prop></d:set></d:propertyupdate>",
    )
    assert answer.status_code == 207
    lock = (
        '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/>'
        "</d:lockscope><d:locktype><d:write/></d:locktype>"
        "<d:owner><d:href>mailto:alice@example.org</d:href></d:owner></d:lockinfo>"
    )
    for target, depth in (("box/locked.txt", "0"), ("box/sub/", "infinity")):
        answer = alice.request(
            "LOCK", f"{dav}/{target}", data=lock, headers={"Depth": depth}
        )
        assert answer.status_code == 200, answer.text
    # A name XML 1.0 cannot carry, written by another program.
    (live.user_root() / "box" / "bell\x07.txt").write_bytes(b"b")
    return f"{dav}/box/"


def _both(alice: Any, url: str, depth: str, data: str, monkeypatch: Any) -> Any:
    """Both answers; asked again (up to three times) if they differ, since a
    change on disk seen by Grove's watcher between the two may move ETags."""
    for _ in range(3):
        ours = parse(_ask(alice, url, depth, data).content)
        with monkeypatch.context() as patch:
            patch.setattr(dav.propfind, "answer", _generic)
            theirs = parse(_ask(alice, url, depth, data).content)
        if ours == theirs:
            break
    return ours, theirs


@pytest.mark.parametrize("depth", ["0", "1", "infinity"])
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_builder_answers_what_the_generic_propfind_answered(
    live, alice, tree, monkeypatch, depth, kind
):
    ours, theirs = _both(alice, tree, depth, BODIES[kind], monkeypatch)
    assert [href for href, _ in ours] == [href for href, _ in theirs]
    for (href, mine), (_, generic) in zip(ours, theirs, strict=True):
        assert mine == generic, href
    assert len(ours) == {"0": 1, "1": 8, "infinity": 9}[depth]


def test_file_depth_zero_matches_too(live, alice, tree, monkeypatch):
    ours, theirs = _both(alice, tree + "a.txt", "0", BODIES["allprop"], monkeypatch)
    assert ours == theirs


def test_listing_shows_permissions_locks_and_unsafe_names(live, alice, tree):
    answer = _ask(alice, tree, "1", BODIES["named"])
    listed = dict(parse(answer.content))
    prefix = "/remote.php/dav/files/alice/box/"
    assert listed[prefix]["{http://owncloud.org/ns}permissions"][1].endswith(
        ">RDNVCK</permissions>"
    )
    assert (
        ">RDNVW<" in listed[prefix + "a.txt"]["{http://owncloud.org/ns}permissions"][1]
    )
    assert listed[prefix + "a.txt"]["{urn:z}color"] == (
        "HTTP/1.1 200 OK",
        "<color>blue</color>",
    )
    assert listed[prefix + "a.txt"]["{urn:z}absent"][0] == "HTTP/1.1 404 Not Found"
    discovery = listed[prefix + "locked.txt"]["{DAV:}lockdiscovery"][1]
    assert "mailto:alice@example.org" in discovery
    assert f"<lockroot><href>{prefix}locked.txt</href></lockroot>" in discovery
    assert (
        listed[prefix + "a.txt"]["{DAV:}lockdiscovery"][1]
        == "<lockdiscovery></lockdiscovery>"
    )
    favorite = "{http://owncloud.org/ns}favorite"
    assert listed[prefix + "b.tar.gz"][favorite][1] == "<favorite>1</favorite>"
    assert listed[prefix + "a.txt"][favorite][1] == "<favorite>0</favorite>"
    unsafe = listed[prefix + "bell%07.txt"]
    assert unsafe["{DAV:}displayname"][0] == "HTTP/1.1 404 Not Found"
    assert unsafe["{http://owncloud.org/ns}name"][0] == "HTTP/1.1 404 Not Found"
    assert listed[prefix + "caf%C3%A9%20(1).pdf"]["{DAV:}getcontenttype"][1] == (
        "<getcontenttype>application/pdf</getcontenttype>"
    )
