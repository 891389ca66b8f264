"""litmus, the WebDAV conformance suite, against a live Grove: no failure, no warning.

A warning is a real client somewhere that misbehaves, so it fails the test as
a failure does; so does a skipped check, which hides whatever it would test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.clients.programs import program, run
from tests.conftest import PASSWORD

SUITES = ("basic", "copymove", "props", "locks", "http")
SUMMARY = re.compile(
    r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed"
)


def run_litmus(url: str, workdir: Path) -> str:
    done = run(
        [program("litmus"), "--keep-going", url, "alice", PASSWORD],
        timeout=300,
        check=False,  # the output says what failed; the exit status does not
        cwd=workdir,  # litmus writes debug.log into its working folder
        env={**os.environ, "TESTS": " ".join(SUITES)},
    )
    return done.stdout + done.stderr


@pytest.mark.clients
@pytest.mark.parametrize("layout", ["files", "spaces"])
def test_litmus_passes_every_suite_without_warnings(live, alice, tmp_path, layout):
    url = (
        f"{live.dav()}/"
        if layout == "files"
        else f"{live.url}/dav/spaces/{live.drive_id(alice)}/"
    )
    output = run_litmus(url, tmp_path)

    summaries = {
        m[0]: (int(m[1]), int(m[2]), int(m[3])) for m in SUMMARY.findall(output)
    }
    problems = [
        line.strip()
        for line in output.splitlines()
        if "WARNING" in line
        or "FAIL" in line
        or "SKIPPED" in line
        or re.search(r"-> \d+ warnings? issued", line)
    ]
    detail = "\n".join(problems) or output[-4000:]
    assert set(summaries) == set(SUITES), detail
    for suite, (ran, passed, failed) in summaries.items():
        assert (passed, failed) == (ran, 0), f"{suite}: {detail}"
    assert problems == [], detail
    # litmus 0.13 (Debian) runs 104 checks; fewer means a suite stopped early.
    assert sum(ran for ran, _, _ in summaries.values()) >= 104, detail
