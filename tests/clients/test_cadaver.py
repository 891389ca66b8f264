"""cadaver, the command-line WebDAV client, in a scripted session against Grove."""

from __future__ import annotations

import os
import re

import pytest
from lxml import etree

from tests.clients.programs import program, run
from tests.conftest import PASSWORD

NS = {"d": "DAV:", "c": "http://webdav.org/cadaver/custom-properties/"}
SCRIPT = """\
mkcol docs
put upload.txt docs/upload.txt
ls docs
get docs/upload.txt downloaded.txt
lock docs/upload.txt
discover docs/upload.txt
put changed.txt docs/upload.txt
unlock docs/upload.txt
propset docs/upload.txt colour blue
propget docs/upload.txt colour
propnames docs/upload.txt
move docs/upload.txt docs/moved.txt
copy docs/moved.txt copy.txt
cat copy.txt
delete copy.txt
mkcol gone
rmcol gone
lock docs/moved.txt
quit
"""


@pytest.mark.clients
def test_cadaver_session_with_lock_and_unlock(live, alice, tmp_path):
    cadaver = program("cadaver")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(f'machine 127.0.0.1\nlogin alice\npassword "{PASSWORD}"\n')
    netrc.chmod(0o600)
    (work / "upload.txt").write_bytes(b"first version\n")
    (work / "changed.txt").write_bytes(b"second version, written under the lock\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}

    done = run([cadaver, f"{live.dav()}/"], input=SCRIPT, cwd=work, env=env, timeout=60)
    output = done.stdout + done.stderr

    assert "failed" not in output.lower(), output
    assert output.count("succeeded") == 15, output
    assert re.search(r"upload\.txt\s+14\s", output), output
    assert "Scope: exclusive" in output
    assert "Value of colour is: blue" in output
    assert "colour" in output.split("propnames", 1)[1]
    assert "second version, written under the lock" in output
    assert (work / "downloaded.txt").read_bytes() == b"first version\n"

    dav = live.dav()
    moved = alice.get(f"{dav}/docs/moved.txt")
    assert moved.content == b"second version, written under the lock\n"
    for gone in ("docs/upload.txt", "copy.txt", "gone"):
        assert alice.get(f"{dav}/{gone}").status_code == 404, gone
    found = alice.request(
        "PROPFIND",
        f"{dav}/docs/moved.txt",
        headers={"Depth": "0"},
        data='<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
        f'xmlns:c="{NS["c"]}"><d:prop><c:colour/><d:lockdiscovery/></d:prop>'
        "</d:propfind>",
    )
    tree = etree.fromstring(found.content)
    assert tree.findtext(".//c:colour", namespaces=NS) == "blue"
    token = tree.findtext(".//d:activelock/d:locktoken/d:href", namespaces=NS)
    assert token, "the lock cadaver took before quitting is held"

    assert alice.put(f"{dav}/docs/moved.txt", data=b"x").status_code == 423
    unlocked = alice.request(
        "UNLOCK", f"{dav}/docs/moved.txt", headers={"Lock-Token": f"<{token}>"}
    )
    assert unlocked.status_code == 204
    assert alice.put(f"{dav}/docs/moved.txt", data=b"x").status_code == 204
