"""The README's script that shares a folder through the API runs as printed
(only the server's address and alice's password are put in) and does what
the README says."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from tests.conftest import PASSWORD, LiveServer

README = Path(__file__).resolve().parents[2] / "README.md"


def script() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Share a folder through the API", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the README's sharing script is missing"
    return found.group(1)


def test_the_readme_script_shares_a_folder_and_makes_a_link(
    live: LiveServer, capsys
) -> None:
    live.add_user("bob")
    (live.user_root("alice") / "Photos").mkdir()
    (live.user_root("alice") / "Photos" / "cat.jpg").write_bytes(b"a cat")
    code = script().replace("https://grove.example.org", live.url)
    code = code.replace("alice's password or app token", PASSWORD)

    exec(compile(code, "README.md", "exec"), {})  # noqa: S102

    printed = capsys.readouterr().out.strip()
    token = printed.rstrip("/").rpartition("/")[2]
    link = requests.get(
        f"{live.url}/dav/public-files/{token}/cat.jpg", auth=("public", "Link-pass-1")
    )
    assert link.content == b"a cat"
    bob = live.session("bob")
    shared = bob.get(f"{live.dav('bob')}/Shares/Photos/cat.jpg")
    assert shared.content == b"a cat"
    assert bob.put(f"{live.dav('bob')}/Shares/Photos/dog.jpg", data=b"dog").ok
