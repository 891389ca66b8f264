"""Run Grove the way an admin does: the installed ``grove`` script and gunicorn,
as subprocesses with their own environment, bounded by timeouts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GROVE = BIN / "grove"
GUNICORN = BIN / "gunicorn"


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without GROVE_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
    env.update(extra)
    return env


def grove(
    *args: str | Path,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``grove`` console script to completion."""
    assert GROVE.is_file(), f"console script missing: {GROVE} (pip install -e .)"
    return subprocess.run(
        [str(GROVE), *map(str, args)],
        input=stdin or "",
        capture_output=True,
        text=True,
        env=env if env is not None else environment(),
        timeout=timeout,
        cwd=REPO,
    )


@dataclass
class Running:
    url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def dav(self, user: str) -> str:
        return f"{self.url}/remote.php/dav/files/{user}"

    def propfind(self, user: str, password: str) -> int:
        answer = requests.request(
            "PROPFIND",
            self.dav(user) + "/",
            auth=(user, password),
            headers={"Depth": "0"},
            timeout=30,
        )
        return answer.status_code


def _wait_ready(running: Running, deadline: float) -> None:
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise AssertionError(
                f"server exited with {running.process.returncode}:\n{running.stderr()}"
            )
        try:
            if requests.get(f"{running.url}/healthz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # Timeout: a worker took the connection while still starting up.
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not up within the timeout:\n{running.stderr()}")


@contextmanager
def served(
    command: Sequence[str | Path],
    port: int,
    log: Path,
    env: dict[str, str],
    timeout: float = 60,
) -> Iterator[Running]:
    """Start ``command`` (listening on ``port``), wait for /healthz, stop it after."""
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [str(part) for part in command],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            env=env,
            cwd=REPO,
        )
    running = Running(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_ready(running, time.monotonic() + timeout)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def grove_serve(
    data: Path, log: Path, *, prefix: Sequence[str] = (), **extra_env: str
) -> Iterator[Running]:
    """``grove serve --data DATA --bind 127.0.0.1:<free port>``."""
    port = free_port()
    command = [*prefix, GROVE, "serve", "--data", data, "--bind", f"127.0.0.1:{port}"]
    with served(command, port, log, environment(**extra_env)) as running:
        yield running


@contextmanager
def gunicorn(
    data: Path, log: Path, *, workers: int = 2, **extra_env: str
) -> Iterator[Running]:
    """``gunicorn -c config/gunicorn.conf.py wsgi:app`` on a free port."""
    assert GUNICORN.is_file(), f"gunicorn missing: {GUNICORN}"
    port = free_port()
    command = [
        GUNICORN,
        "-c",
        REPO / "config" / "gunicorn.conf.py",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "wsgi:app",
    ]
    env = environment(GROVE_DATA=str(data), **extra_env)
    with served(command, port, log, env) as running:
        yield running
