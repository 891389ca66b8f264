"""Names: unsafe ones refused at every door, odd ones on disk still listed, and
NFC and NFD spellings finding the same file (issue 2, sections 3 and 4)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from urllib.parse import quote

from lxml import etree

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
BASE = "/remote.php/dav/files/alice"
ALLPROP = '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>'
NAMED = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><d:displayname/><d:getetag/><d:getcontenttype/><oc:name/><oc:fileid/>"
    "<oc:permissions/><oc:size/><d:resourcetype/></d:prop></d:propfind>"
)

# Characters XML 1.0 cannot carry, plus DEL and C1 controls.
UNSAFE_NAMES = [
    "bad\x01name.txt",
    "tab\tname.txt",
    "new\nline.txt",
    "esc\x1b.txt",
    "del\x7f.txt",
    "c1\x85.txt",
    "nonchar\ufffe.txt",
]
# Over 255 bytes in UTF-8 (NAME_MAX), in one- and three-byte characters.
LONG_NAMES = ["a" * 256, "森" * 86]


def listing(session, url: str, body: str = ALLPROP, depth: str = "1") -> etree._Element:
    answer = session.request("PROPFIND", url, data=body, headers={"Depth": depth})
    assert answer.status_code == 207, answer.text[:500]
    return etree.fromstring(answer.content)


def hrefs(tree: etree._Element) -> list[str]:
    return [href.text for href in tree.iterfind("d:response/d:href", NS)]


def found(response: etree._Element, prop: str) -> etree._Element | None:
    """``prop`` of one response when it is in a 200 propstat."""
    for propstat in response.iterfind("d:propstat", NS):
        if " 200 " in propstat.findtext("d:status", namespaces=NS):
            return propstat.find(f"d:prop/{prop}", NS)
    return None


def on_disk(folder: Path) -> set[str]:
    return set(os.listdir(folder))


def test_unsafe_and_long_names_are_refused_at_every_door(live, alice):
    alice.put(f"{live.dav()}/src.txt", data=b"source")
    alice.request("MKCOL", f"{live.dav()}/dir")
    for name in UNSAFE_NAMES + LONG_NAMES:
        url = f"{live.dav()}/{quote(name)}"
        assert alice.put(url, data=b"x").status_code == 400, repr(name)
        assert alice.request("MKCOL", url).status_code == 400, repr(name)
        for method, source in (
            ("MOVE", "src.txt"),
            ("COPY", "src.txt"),
            ("MOVE", "dir"),
        ):
            answer = alice.request(
                method, f"{live.dav()}/{source}", headers={"Destination": url}
            )
            assert answer.status_code == 400, (method, repr(name))
    assert on_disk(live.user_root()) == {"src.txt", "dir"}
    assert alice.get(f"{live.dav()}/src.txt").content == b"source"


def test_longest_allowed_name_is_accepted(live, alice):
    for name in ("a" * 255, "森" * 85):
        url = f"{live.dav()}/{quote(name)}"
        assert alice.put(url, data=b"x").status_code == 201
        assert alice.get(url).content == b"x"
    assert alice.get(f"{live.dav()}/{'a' * 300}").status_code == 404
    assert alice.request("PROPFIND", f"{live.dav()}/{'b' * 300}").status_code == 404


def test_names_xml_cannot_carry_are_listed_percent_encoded_without_displayname(
    live, alice
):
    """Such names come from other programs; the folder must stay listable."""
    root = live.user_root()
    for name in UNSAFE_NAMES:
        (root / name).write_bytes(name.encode("utf-8"))
    os.mkdir(os.path.join(os.fsencode(root), b"folder\x02"))
    raw = os.path.join(os.fsencode(root), b"latin1-\xe9t\xe9.txt")
    with open(raw, "wb") as handle:
        handle.write(b"not utf-8")
    alice.put(f"{live.dav()}/plain.txt", data=b"plain")

    expected = {BASE + "/", BASE + "/plain.txt", BASE + "/folder%02/"}
    expected |= {BASE + "/" + quote(name) for name in UNSAFE_NAMES}
    for body in (ALLPROP, NAMED):
        for depth in ("1", "infinity"):
            tree = listing(alice, live.dav() + "/", body, depth)
            assert set(hrefs(tree)) == expected
            for response in tree.iterfind("d:response", NS):
                href = response.findtext("d:href", namespaces=NS)
                shown = found(response, "d:displayname")
                if href.endswith("plain.txt"):
                    assert shown.text == "plain.txt"
                elif href != BASE + "/":
                    assert shown is None, href
                    assert found(response, "d:getetag") is not None, href
                    if body == NAMED:
                        assert found(response, "oc:fileid") is not None, href
                        assert found(response, "oc:name") is None, href

    # A name that is not UTF-8 cannot be addressed: left alone, not listed.
    assert os.path.exists(raw)
    assert alice.get(f"{live.url}{BASE}/latin1-%E9t%E9.txt").status_code == 400

    # Reachable by their href: read, then delete.
    url = f"{live.url}{BASE}/{quote(UNSAFE_NAMES[0])}"
    assert alice.get(url).content == UNSAFE_NAMES[0].encode()
    assert alice.delete(url).status_code == 204
    assert UNSAFE_NAMES[0] not in on_disk(root)


def test_nfd_name_is_stored_in_nfc(live, alice):
    nfd = unicodedata.normalize("NFD", "Café déjà.txt")
    nfc = unicodedata.normalize("NFC", nfd)
    assert nfd != nfc
    assert alice.put(f"{live.dav()}/{quote(nfd)}", data=b"x").status_code == 201
    assert (
        alice.request("MKCOL", f"{live.dav()}/{quote(nfd + ' dir')}").status_code == 201
    )
    alice.put(f"{live.dav()}/src.txt", data=b"s")
    moved = alice.request(
        "MOVE",
        f"{live.dav()}/src.txt",
        headers={"Destination": f"{live.dav()}/{quote(nfd + ' moved')}"},
    )
    assert moved.status_code == 201
    assert on_disk(live.user_root()) == {nfc, nfc + " dir", nfc + " moved"}


def test_nfc_and_nfd_spellings_find_the_same_file(live, alice):
    nfc = unicodedata.normalize("NFC", "Müller.txt")
    nfd = unicodedata.normalize("NFD", nfc)
    root = live.user_root()
    (root / nfd).write_bytes(b"written by macOS")
    for spelling in (nfc, nfd):
        url = f"{live.dav()}/{quote(spelling)}"
        assert alice.get(url).content == b"written by macOS", spelling
        assert listing(alice, url, depth="0") is not None
    # An update through the other spelling replaces the file, adds none.
    assert alice.put(f"{live.dav()}/{quote(nfc)}", data=b"updated").status_code == 204
    assert on_disk(root) == {nfd}
    assert (root / nfd).read_bytes() == b"updated"
    # MKCOL of the other spelling of an existing name is refused (it exists).
    os.mkdir(root / unicodedata.normalize("NFD", "Ordner-ä"))
    made = alice.request("MKCOL", f"{live.dav()}/{quote('Ordner-ä')}")
    assert made.status_code == 405


def test_both_spellings_on_disk_exact_match_wins_and_both_are_listed(live, alice):
    nfc = unicodedata.normalize("NFC", "résumé.txt")
    nfd = unicodedata.normalize("NFD", nfc)
    root = live.user_root()
    (root / nfc).write_bytes(b"composed")
    (root / nfd).write_bytes(b"decomposed")
    assert alice.get(f"{live.dav()}/{quote(nfc)}").content == b"composed"
    assert alice.get(f"{live.dav()}/{quote(nfd)}").content == b"decomposed"
    listed = set(hrefs(listing(alice, live.dav() + "/")))
    assert {f"{BASE}/{quote(nfc)}", f"{BASE}/{quote(nfd)}"} <= listed
    assert alice.put(f"{live.dav()}/{quote(nfd)}", data=b"new nfd").status_code == 204
    assert (root / nfc).read_bytes() == b"composed"
    assert (root / nfd).read_bytes() == b"new nfd"
    assert alice.delete(f"{live.dav()}/{quote(nfd)}").status_code == 204
    assert on_disk(root) == {nfc}


def test_folder_spelled_nfd_on_disk_is_found_in_paths(live, alice):
    root = live.user_root()
    nfd_folder = unicodedata.normalize("NFD", "Übersicht")
    os.mkdir(root / nfd_folder)
    (root / nfd_folder / "a.txt").write_bytes(b"a")
    url = f"{live.dav()}/{quote(unicodedata.normalize('NFC', nfd_folder))}/a.txt"
    assert alice.get(url).content == b"a"
    assert alice.put(url.replace("a.txt", "b.txt"), data=b"b").status_code == 201
    assert (root / nfd_folder / "b.txt").read_bytes() == b"b"
