"""Following drive items through the API: the same per-user mark as oc:favorite."""

from __future__ import annotations

import requests

from tests.conftest import LiveServer
from tests.dav.test_favorites import favourites, shown
from tests.graph.contract import assert_conforms


def test_follow_and_unfollow_are_the_favourite_mark(
    live: LiveServer, alice: requests.Session
) -> None:
    dav = live.dav()
    alice.put(f"{dav}/a.txt", data=b"a")
    item_id = shown(alice, f"{dav}/a.txt", "fileid")

    followed = alice.post(f"{live.url}/graph/v1.0/me/drive/items/{item_id}/follow")
    assert followed.status_code == 201, followed.text
    assert_conforms(followed)
    assert followed.json()["@libre.graph.me.following"] is True
    assert followed.json()["id"] == item_id
    assert shown(alice, f"{dav}/a.txt") == "1"
    assert list(favourites(alice, f"{dav}/")) == ["/remote.php/dav/files/alice/a.txt"]

    gone = alice.delete(f"{live.url}/graph/v1.0/me/drive/following/{item_id}")
    assert gone.status_code == 204
    assert_conforms(gone)
    assert shown(alice, f"{dav}/a.txt") == "0"


def test_nobody_follows_what_they_cannot_see(
    live: LiveServer, alice: requests.Session
) -> None:
    alice.put(f"{live.dav()}/a.txt", data=b"a")
    item_id = shown(alice, f"{live.dav()}/a.txt", "fileid")
    live.add_user("bob")
    bob = live.session("bob")

    refused = bob.post(f"{live.url}/graph/v1.0/me/drive/items/{item_id}/follow")
    assert refused.status_code == 404
    assert_conforms(refused)
    unknown = alice.post(f"{live.url}/graph/v1.0/me/drive/items/nonsense/follow")
    assert unknown.status_code == 404
    assert shown(alice, f"{live.dav()}/a.txt") == "0"
