"""The servers under test, each started on its own loopback port with its own data.

- ``grove``: ``python -m app serve`` (the project's cheroot server) on a fresh
  data folder with one user.
- ``wsgidav``: plain WsgiDAV 4.4 on its FilesystemProvider (bench/plain_wsgidav.py).
- ``nginx``: Debian's nginx with the dav and dav-ext modules, from a config
  file written here, as a non-daemon master with its own pid, log and temp paths.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.memory import process_tree

REPO = Path(__file__).resolve().parent.parent
USER = "bench"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
NGINX = "/usr/sbin/nginx"
# Grove's production gunicorn settings, for Grove and plain WsgiDAV alike.
GUNICORN = [
    sys.executable,
    "-m",
    "gunicorn",
    "-c",
    str(REPO / "config" / "gunicorn.conf.py"),
]
DAV_EXT_MODULE = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"


class BenchError(Exception):
    """A server did not start or answered a benchmark request wrongly."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A started server: where it listens, where its user's files are on disk."""

    key: str
    name: str
    port: int
    base: str  # URL path of the user's root folder, ending in "/"
    root: Path  # the folder on disk behind ``base``
    process: subprocess.Popen[bytes]
    log: Path
    password: str
    auth: str = field(init=False)

    def __post_init__(self) -> None:
        token = base64.b64encode(f"{USER}:{self.password}".encode()).decode()
        self.auth = f"Basic {token}"

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{self.base}{path}"

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def settle(server: Server, idle: float = 0.05, timeout: float = 180.0) -> float:
    """Wait until the server's processes use under ``idle`` of a core over half
    a second; returns the seconds waited.

    Grove works in the background after some requests (checksums and the
    search index of files written behind its back, the audit chain, indexing
    uploads): that work is charged to no workload, and must not slow the next
    one, which may be another server's.
    """
    window = 0.5
    ticks = os.sysconf("SC_CLK_TCK")
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = _cpu_ticks(server.pids())
        time.sleep(window)
        if _cpu_ticks(server.pids()) - before <= idle * ticks * window:
            break
    return time.monotonic() - started


def _log_tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return ""


def _wait_ready(server: Server) -> None:
    """Wait until an authenticated PROPFIND Depth 0 of the user's root answers 207."""
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"{server.name} exited with {server.process.returncode}:\n"
                f"{_log_tail(server.log)}"
            )
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request(
                "PROPFIND",
                server.base,
                headers={"Depth": "0", "Authorization": server.auth},
            )
            response = connection.getresponse()
            response.read()
            if response.status == 207:
                return
            last = f"status {response.status}"
        except OSError as error:
            last = str(error)
        finally:
            connection.close()
        time.sleep(0.2)
    server.stop()
    raise BenchError(f"{server.name} not ready after {START_TIMEOUT} s ({last})")


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("GROVE_")
    }
    env.update(extra)
    return env


def start_grove(
    work: Path,
    threads: int,
    password: str,
    settings: dict[str, str],
    wsgi_server: str = "cheroot",
) -> Server:
    folder = work / "grove"
    data = folder / "data"
    folder.mkdir(parents=True)
    env = _clean_env(
        {
            "GROVE_ADMIN_PASSWORD": "bench-admin-" + password,
            "GROVE_THREADS": str(threads),
            **{f"GROVE_{key.upper()}": value for key, value in settings.items()},
        }
    )
    python = sys.executable
    subprocess.run(
        [
            python,
            "-m",
            "app",
            "user",
            "add",
            USER,
            "--password-stdin",
            "--data",
            str(data),
        ],
        input=(password + "\n").encode(),
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = folder / "grove.log"
    command = [
        python,
        "-m",
        "app",
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--data",
        str(data),
    ]
    if wsgi_server == "gunicorn":
        env["GROVE_DATA"] = str(data)
        command = [*GUNICORN, "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"/remote.php/dav/files/{USER}/"
    root = data / "storage" / "users" / USER
    return Server("grove", "Grove", port, base, root, process, log, password)


def start_wsgidav(
    work: Path, threads: int, password: str, wsgi_server: str = "cheroot"
) -> Server:
    folder = work / "wsgidav"
    root = folder / "root"
    root.mkdir(parents=True)
    port = free_port()
    log = folder / "wsgidav.log"
    command = [
        sys.executable,
        "-m",
        "bench.plain_wsgidav",
        "--root",
        str(root),
        "--port",
        str(port),
        "--threads",
        str(threads),
        "--user",
        USER,
    ]
    if wsgi_server == "gunicorn":
        command = [
            *GUNICORN,
            "--bind",
            f"127.0.0.1:{port}",
            "--env",
            f"BENCH_WSGIDAV_ROOT={root}",
            "--env",
            f"BENCH_WSGIDAV_USER={USER}",
            "--env",
            f"BENCH_WSGIDAV_PASSWORD={password}",
            "bench.plain_wsgidav:gunicorn_app()",
        ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    assert process.stdin is not None
    process.stdin.write((password + "\n").encode())
    process.stdin.close()
    return Server("wsgidav", "WsgiDAV", port, "/", root, process, log, password)


def _htpasswd_line(user: str, password: str) -> str:
    # nginx reads the {SHA} scheme (base64 of the SHA-1 digest) in auth_basic_user_file.
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return f"{user}:{{SHA}}{digest}\n"


NGINX_CONFIG = """\
load_module {module};
daemon off;
master_process on;
user root root;
worker_processes auto;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_max_body_size 0;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{
            dav_methods PUT DELETE MKCOL COPY MOVE;
            dav_ext_methods PROPFIND OPTIONS;
            dav_access user:rw group:r all:r;
            create_full_put_path on;
            auth_basic "bench";
            auth_basic_user_file {folder}/htpasswd;
        }}
    }}
}}
"""


def start_nginx(work: Path, password: str) -> Server:
    for needed in (NGINX, DAV_EXT_MODULE):
        if not os.path.exists(needed):
            raise BenchError(
                f"{needed} is missing: apt-get install nginx libnginx-mod-http-dav-ext "
                "(make bench does it)"
            )
    folder = work / "nginx"
    root = folder / "root"
    root.mkdir(parents=True)
    (folder / "htpasswd").write_text(_htpasswd_line(USER, password))
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(
        NGINX_CONFIG.format(module=DAV_EXT_MODULE, folder=folder, root=root, port=port)
    )
    log = folder / "nginx.out"
    command = [
        NGINX,
        "-p",
        str(folder),
        "-c",
        str(config),
        "-e",
        str(folder / "error.log"),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    return Server("nginx", "nginx", port, "/", root, process, log, password)


Starter = Callable[[Path, int, str, dict[str, str], str], Server]

STARTERS: dict[str, Starter] = {
    "grove": start_grove,
    "wsgidav": lambda work, threads, password, settings, wsgi: start_wsgidav(
        work, threads, password, wsgi
    ),
    "nginx": lambda work, threads, password, settings, wsgi: start_nginx(
        work, password
    ),
}


def start(
    key: str,
    work: Path,
    threads: int,
    password: str,
    settings: dict[str, str],
    wsgi_server: str = "cheroot",
) -> Server:
    """Start the server named ``key`` and wait until it answers as the bench user.

    ``wsgi_server`` "gunicorn" runs Grove and plain WsgiDAV under gunicorn with
    config/gunicorn.conf.py (gthread, 2 workers of 8 threads) instead of cheroot.
    """
    server = STARTERS[key](work, threads, password, settings, wsgi_server)
    _wait_ready(server)
    return server
