"""``grove serve``: the built-in cheroot server for one process."""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from app import jobs
from app.config import Settings
from app.factory import configure_logging, create_app
from app.storage.watcher import start_watcher

logger = logging.getLogger(__name__)


class BindError(Exception):
    """The server cannot listen on the configured address."""


class GroveServer(wsgi.Server):
    """cheroot with its error reports in Grove's log instead of bare stderr."""

    def error_log(
        self, msg: str = "", level: int = 20, traceback: bool = False
    ) -> None:
        logger.log(level, "%s", msg, exc_info=traceback)


def build_server(settings: Settings) -> GroveServer:
    host, _, port = settings.bind.rpartition(":")
    server = GroveServer(
        (host.strip("[]"), int(port)),
        create_app(settings),
        numthreads=settings.threads,
        max=-1,
        request_queue_size=64,
        timeout=60,
        server_name="grove",
    )
    # A head over this size answers 414 (request line) or 413 (headers).
    server.max_request_header_size = settings.max_header_bytes
    if settings.tls_cert or settings.tls_key:
        server.ssl_adapter = _tls_adapter(settings)
    return server


def _tls_adapter(settings: Settings) -> BuiltinSSLAdapter:
    """cheroot's adapter over Python's ssl; a clear error for missing files."""
    if not (settings.tls_cert and settings.tls_key):
        raise BindError("HTTPS needs both tls_cert and tls_key")
    for name in (settings.tls_cert, settings.tls_key):
        if not os.access(name, os.R_OK):
            raise BindError(f"cannot read TLS file {name!r}")
    try:
        return BuiltinSSLAdapter(settings.tls_cert, settings.tls_key)
    except (OSError, ValueError) as error:
        raise BindError(f"cannot use the TLS certificate and key: {error}") from None


def run(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM."""
    configure_logging(settings)
    server = build_server(settings)
    try:
        server.prepare()
    except OSError as error:
        raise BindError(f"cannot listen on {settings.bind}: {error}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    scheme = "https" if settings.tls_cert else "http"
    logger.info("Grove serving %s on %s://%s/", settings.data, scheme, settings.bind)
    watcher = start_watcher(settings)
    workers = jobs.start_workers(settings.job_threads)
    try:
        server.serve()
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        server.stop()
        if watcher is not None:
            watcher.stop()
        if workers is not None:
            workers.stop()
