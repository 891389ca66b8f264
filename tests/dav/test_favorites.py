"""Favourites: ``oc:favorite`` by PROPPATCH, per user; found by REPORT filter-files."""

from __future__ import annotations

from urllib.parse import unquote

from lxml import etree

from app import roles, shares, spaces, users
from app.auth.principal import Principal
from app.perms import Perm

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
MARK = (
    '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" '
    'xmlns:oc="http://owncloud.org/ns"><d:{verb}><d:prop>'
    "<oc:favorite>{value}</oc:favorite></d:prop></d:{verb}></d:propertyupdate>"
)
SHOW = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><oc:favorite/><oc:fileid/></d:prop></d:propfind>"
)
FILTER = (
    '<?xml version="1.0"?><oc:filter-files xmlns:d="DAV:" '
    'xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/><oc:favorite/>'
    "<d:getcontentlength/><d:resourcetype/></d:prop>"
    "<oc:filter-rules>{rules}</oc:filter-rules></oc:filter-files>"
)
FAVOURITES = FILTER.format(rules="<oc:favorite>1</oc:favorite>")


def mark(session, url, value="1", verb="set"):
    answer = session.request("PROPPATCH", url, data=MARK.format(verb=verb, value=value))
    assert answer.status_code == 207, answer.text
    return etree.fromstring(answer.content).findtext(".//d:status", namespaces=NS)


def shown(session, url, name="favorite"):
    answer = session.request("PROPFIND", url, data=SHOW, headers={"Depth": "0"})
    assert answer.status_code == 207, answer.text
    return etree.fromstring(answer.content).findtext(f".//oc:{name}", namespaces=NS)


def favourites(session, url, body=FAVOURITES):
    """href -> {property local name: text} of the REPORT's answer."""
    answer = session.request("REPORT", url, data=body)
    assert answer.status_code == 207, answer.text
    found = {}
    for response in etree.fromstring(answer.content).findall("d:response", NS):
        values = {
            etree.QName(prop).localname: prop.text
            for prop in response.findall("d:propstat/d:prop/*", NS)
        }
        found[unquote(response.findtext("d:href", namespaces=NS))] = values
    return found


def test_marked_items_are_shown_and_found_until_unmarked(live, alice):
    dav = live.dav()
    alice.request("MKCOL", f"{dav}/docs")
    alice.put(f"{dav}/docs/a.txt", data=b"hello")
    alice.put(f"{dav}/b.txt", data=b"b")
    assert shown(alice, f"{dav}/docs/a.txt") == "0"
    assert favourites(alice, f"{dav}/") == {}

    assert mark(alice, f"{dav}/docs/a.txt") == "HTTP/1.1 200 OK"
    assert mark(alice, f"{dav}/docs") == "HTTP/1.1 200 OK"
    assert shown(alice, f"{dav}/docs/a.txt") == "1"
    listing = alice.request(
        "PROPFIND", f"{dav}/docs", data=SHOW, headers={"Depth": "1"}
    )
    assert listing.content.count(b">1</oc:favorite>") == 2

    found = favourites(alice, f"{dav}/")
    base = "/remote.php/dav/files/alice"
    assert set(found) == {f"{base}/docs/", f"{base}/docs/a.txt"}
    assert found[f"{base}/docs/a.txt"]["favorite"] == "1"
    assert found[f"{base}/docs/a.txt"]["getcontentlength"] == "5"
    file_id = shown(alice, f"{dav}/docs/a.txt", "fileid")
    assert found[f"{base}/docs/a.txt"]["fileid"] == file_id

    # Moved, the mark follows the item; unmarked (or removed), it is gone.
    alice.request("MOVE", f"{dav}/docs/a.txt", headers={"Destination": f"{dav}/c.txt"})
    assert set(favourites(alice, f"{dav}/")) == {f"{base}/docs/", f"{base}/c.txt"}
    mark(alice, f"{dav}/c.txt", "0")
    mark(alice, f"{dav}/docs", verb="remove")
    assert favourites(alice, f"{dav}/") == {}
    assert shown(alice, f"{dav}/c.txt") == "0"


def test_favourites_are_per_user_and_found_in_project_spaces(live, alice):
    space = spaces.create_project(
        live.settings.storage_dir, "Mars", creator=users.get("alice")
    )
    url = f"{live.url}/dav/spaces/{spaces.drive_id(space)}"
    alice.put(f"{url}/plan.txt", data=b"plan")
    live.add_user("bob")
    grant = spaces.add_member(space, "user", users.get("bob").id, roles.SPACE_VIEWER.id)
    bob = live.session("bob")

    # A viewer marks for himself: nothing about the file changes for alice.
    assert mark(bob, f"{url}/plan.txt") == "HTTP/1.1 200 OK"
    assert shown(bob, f"{url}/plan.txt") == "1"
    assert shown(alice, f"{url}/plan.txt") == "0"
    assert favourites(alice, f"{live.dav()}/") == {}
    found = favourites(bob, f"{live.dav('bob')}/")
    assert list(found) == [f"/dav/spaces/{spaces.drive_id(space)}/plan.txt"]

    # Out of the space, bob finds the item no more.
    spaces.remove_member(space, grant)
    assert favourites(bob, f"{live.dav('bob')}/") == {}


def test_bad_favourite_values_and_filters_are_refused(live, alice):
    dav = live.dav()
    alice.put(f"{dav}/a.txt", data=b"a")
    assert mark(alice, f"{dav}/a.txt", "yes") == "HTTP/1.1 400 Bad Request"
    assert shown(alice, f"{dav}/a.txt") == "0"
    for rules in ("", "<oc:systemtag>7</oc:systemtag>", "<oc:favorite>0</oc:favorite>"):
        answer = alice.request("REPORT", f"{dav}/", data=FILTER.format(rules=rules))
        assert answer.status_code == 400, rules
    answer = alice.request("REPORT", f"{dav}/", data="<x:nonsense xmlns:x='urn:x'/>")
    assert answer.status_code == 403


def test_a_recipient_finds_favourites_inside_a_share(live, alice):
    dav = live.dav()
    alice.request("MKCOL", f"{dav}/docs")
    alice.put(f"{dav}/docs/a.txt", data=b"a")
    live.add_user("bob")
    owner = Principal(user_id=str(users.get("alice").id), name="alice")
    docs = live.app.grove.tree(spaces.personal_space(users.get("alice"))).item(["docs"])
    grant = shares.share(
        owner, docs, Perm.owner(), grantee_type="user", grantee_id="bob", role="Viewer"
    )
    bob = live.session("bob")

    assert mark(bob, f"{live.dav('bob')}/Shares/docs/a.txt") == "HTTP/1.1 200 OK"
    found = favourites(bob, f"{live.dav('bob')}/")
    assert list(found) == [f"/dav/spaces/{shares.JAIL_DRIVE_ID}!{grant.id}/a.txt"]
    assert found[next(iter(found))]["favorite"] == "1"
    assert shown(alice, f"{dav}/docs/a.txt") == "0"

    shares.remove(owner, grant, Perm.owner())
    assert favourites(bob, f"{live.dav('bob')}/") == {}
