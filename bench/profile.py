"""Profile one Grove request in process: ``python -m bench.profile WORKLOAD``.

Builds a Grove on a temporary data folder, prepares the fixture the workload
needs, warms up, then runs the request ``--count`` times under pyinstrument
and prints the profile (or writes HTML with ``--html``). No network: the WSGI
application is called directly, so only Grove's own costs show.

Workloads: propfind_big (Depth 1 on --files files), propfind_small (100
entries), put_small (4 KiB PUTs), get (a 64 MiB GET), move (a folder of
--files files), copy (a 64 MiB file).

``--against-wsgidav`` runs the same requests on plain WsgiDAV in the same
process (no network, no profiler) and prints the CPU-time ratio: on a shared
machine a steadier guide than wall-clock runs over HTTP.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.workloads import PROPFIND_BODY

USER, PASSWORD = "bench", "bench-password-1"
BASE = f"/remote.php/dav/files/{USER}/"


def _app(data: Path, settings: dict[str, str]) -> Any:
    from app import users
    from app.config import load_settings
    from app.factory import create_app

    values: dict[str, Any] = {"data": data, "admin_password": "admin-password-1"}
    values.update(settings)
    loaded = load_settings(environ={}, overrides=values)
    app = create_app(loaded)
    users.add(loaded.storage_dir, USER, PASSWORD)
    return app, loaded.storage_dir / "users" / USER


def _plain_app(data: Path) -> tuple[Any, Path]:
    from bench.plain_wsgidav import build_app

    root = data / "plain"
    root.mkdir(parents=True)
    return build_app(str(root), USER, PASSWORD), root


def call(
    app: Any,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "REQUEST_URI": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Basic {token}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status: list[str] = []

    def start_response(s: str, h: Any, exc_info: Any = None) -> None:
        status.append(s)

    result = app(environ, start_response)
    try:
        out = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return status[0], out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload")
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--setting", action="append", default=[])
    parser.add_argument("--time-only", action="store_true", help="no profiler")
    parser.add_argument(
        "--against-wsgidav",
        action="store_true",
        help="also time plain WsgiDAV in process; print the CPU ratio",
    )
    args = parser.parse_args(argv)
    settings = dict(pair.split("=", 1) for pair in args.setting)
    work = Path(tempfile.mkdtemp(prefix="grove-profile-"))
    app, root = _app(work / "data", settings)
    grove_cpu = _measure(args, app, root, "Grove")
    if args.against_wsgidav:
        plain, plain_root = _plain_app(work)
        plain_cpu = _measure(args, plain, plain_root, "WsgiDAV", profile=False)
        print(f"CPU per run, WsgiDAV / Grove: {plain_cpu / grove_cpu:.2f}")


def _measure(
    args: argparse.Namespace, app: Any, root: Path, label: str, *, profile: bool = True
) -> float:
    """Prepare the fixture in ``root``, time ``--count`` runs; return CPU per run."""
    from pyinstrument import Profiler

    base = BASE if label == "Grove" else "/"
    headers = {"Depth": "1", "Content-Type": "application/xml"}
    if args.workload in ("propfind_big", "propfind_small", "move"):
        count = args.files if args.workload != "propfind_small" else 100
        (root / "list").mkdir()
        for index in range(count):
            (root / "list" / f"f{index:05d}.txt").write_bytes(b"x" * 100)
    if args.workload in ("get", "copy"):
        (root / "big.bin").write_bytes(os.urandom(64 * 2**20))
    call(app, "PROPFIND", base + "list/", PROPFIND_BODY, headers)
    call(app, "PROPFIND", base, PROPFIND_BODY, headers)

    def once(number: int) -> str:
        kind = args.workload
        if kind.startswith("propfind"):
            return call(app, "PROPFIND", base + "list/", PROPFIND_BODY, headers)[0]
        if kind == "put_small":
            body = os.urandom(4096)
            return "".join(
                call(app, "PUT", f"{base}p{number}-{i}.bin", body)[0][:4]
                for i in range(200)
            )
        if kind == "get":
            return call(app, "GET", base + "big.bin")[0]
        if kind == "move":
            src, dst = ("list", "moved") if number % 2 == 0 else ("moved", "list")
            hdr = {"Destination": f"http://127.0.0.1{base}{dst}/"}
            return call(app, "MOVE", f"{base}{src}/", headers=hdr)[0]
        if kind == "copy":
            hdr = {"Destination": f"http://127.0.0.1{base}c{number}.bin"}
            return call(app, "COPY", f"{base}big.bin", headers=hdr)[0]
        raise SystemExit(f"unknown workload {kind}")

    once(-1)
    status = ""
    started, cpu = time.perf_counter(), time.process_time()
    for number in range(args.count):
        status = once(number)
    elapsed = (time.perf_counter() - started) / args.count
    cpu = (time.process_time() - cpu) / int(args.count)
    print(
        f"{label} {args.workload}: {elapsed * 1000:.1f} ms per run "
        f"({cpu * 1000:.1f} ms CPU), last status {status[:40]}"
    )
    if args.time_only or not profile:
        return cpu
    profiler = Profiler(interval=0.001)
    with profiler:
        for number in range(args.count):
            once(number + args.count)
    if args.html:
        args.html.write_text(profiler.output_html())
    else:
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return cpu


if __name__ == "__main__":
    main()
