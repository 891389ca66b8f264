"""``grove serve``: the built-in cheroot server for one process."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from cheroot import wsgi

from app.config import Settings
from app.factory import configure_logging, create_app

logger = logging.getLogger(__name__)


def build_server(settings: Settings) -> wsgi.Server:
    host, _, port = settings.bind.rpartition(":")
    server = wsgi.Server(
        (host.strip("[]"), int(port)),
        create_app(settings),
        numthreads=settings.threads,
        max=-1,
        request_queue_size=64,
        timeout=60,
        server_name="grove",
    )
    server.max_request_header_size = settings.max_header_bytes
    return server


def run(settings: Settings) -> None:
    configure_logging(settings)
    server = build_server(settings)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    logger.info("Grove serving %s on http://%s/", settings.data, settings.bind)
    try:
        server.start()
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        server.stop()
