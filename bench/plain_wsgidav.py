"""Plain WsgiDAV for the benchmark: its FilesystemProvider, Basic auth, cheroot.

The baseline Grove is compared with: the library as shipped, one user in
``simple_dc``, Basic only (no Digest), served by cheroot with the same thread
count and socket settings as ``grove serve``.

Usage: python -m bench.plain_wsgidav --root DIR --port N --threads N --user NAME
(the password is read from stdin, one line).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType
from typing import Any

from cheroot import wsgi
from wsgidav.fs_dav_provider import FilesystemProvider
from wsgidav.wsgidav_app import WsgiDAVApp


def build_app(root: str, user: str, password: str) -> Any:
    config = {
        "provider_mapping": {"/": FilesystemProvider(root, readonly=False)},
        "http_authenticator": {
            "domain_controller": None,  # SimpleDomainController
            "accept_basic": True,
            "accept_digest": False,
            "default_to_digest": False,
        },
        "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
        "verbose": 1,
        "logging": {"enable": False},
    }
    return WsgiDAVApp(config)


def gunicorn_app() -> Any:
    """The same app for gunicorn (``bench.plain_wsgidav:gunicorn_app()``),
    configured from BENCH_WSGIDAV_ROOT, _USER and _PASSWORD."""
    return build_app(
        os.environ["BENCH_WSGIDAV_ROOT"],
        os.environ["BENCH_WSGIDAV_USER"],
        os.environ["BENCH_WSGIDAV_PASSWORD"],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--user", required=True)
    args = parser.parse_args(argv)
    password = sys.stdin.readline().rstrip("\r\n")

    # Same settings as app/server.py builds for `grove serve`.
    server = wsgi.Server(
        (args.host, args.port),
        build_app(args.root, args.user, password),
        numthreads=args.threads,
        max=-1,
        request_queue_size=64,
        timeout=60,
        server_name="wsgidav",
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
