"""rclone (vendor owncloud) signs in with an app token until it is revoked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.clients.programs import program, run


def _rclone_with_token(home: Path, url: str, token: str) -> list[str]:
    binary = program("rclone")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    obscured = run([binary, "obscure", token], env=env).stdout.strip()
    config = home / "rclone.conf"
    config.write_text(
        "[grove]\ntype = webdav\n"
        f"url = {url}\nvendor = owncloud\nuser = alice\npass = {obscured}\n"
    )
    retries = ["--retries", "1", "--low-level-retries", "1"]
    return [binary, "--config", str(config), *retries]


@pytest.mark.clients
def test_rclone_works_with_a_token_and_stops_when_it_is_revoked(live, tmp_path):
    alice = live.session()
    made = alice.post(f"{live.url}/auth-app/tokens", params={"label": "rclone"})
    token = made.json()["token"]
    home = tmp_path / "home"
    home.mkdir()
    rclone = _rclone_with_token(home, live.dav(), token)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    source = tmp_path / "source"
    source.mkdir()
    (source / "report.txt").write_bytes(b"quarterly numbers\n")

    run([*rclone, "copy", str(source), "grove:backup"], env=env)
    assert (live.user_root() / "backup" / "report.txt").read_bytes() == (
        b"quarterly numbers\n"
    )
    listed = run([*rclone, "lsf", "grove:backup"], env=env).stdout
    assert listed.split() == ["report.txt"]

    answer = alice.delete(f"{live.url}/auth-app/tokens", params={"token": token})
    assert answer.status_code == 200

    refused = run([*rclone, "lsf", "grove:backup"], env=env, check=False)
    assert refused.returncode != 0
    assert "401" in refused.stderr or "Unauthorized" in refused.stderr
