"""Build the WsgiDAV application that serves every WebDAV URL layout."""

from __future__ import annotations

import logging
from typing import Any

from wsgidav.error_printer import ErrorPrinter
from wsgidav.wsgidav_app import WsgiDAVApp

from app.instance import Grove
from dav import meta, trash
from dav.failures import FaultBarrier
from dav.locks import DatabaseLockStorage, GroveLockManager
from dav.provider import GroveProvider
from dav.resolver import GroveRequestResolver
from dav.resources import BLOCK_SIZE

# Share path -> layout; hrefs echo the prefix the client used.
LAYOUTS = {
    "/remote.php/dav/files": "files",
    "/remote.php/webdav": "home",
    "/webdav": "home",
    "/dav/files": "files",
    "/dav/spaces": "spaces",
    "/remote.php/dav/public-files": "public",
    "/dav/public-files": "public",
}


def create_dav_app(grove: Grove) -> Any:
    config = {
        "provider_mapping": {
            share: GroveProvider(grove, layout) for share, layout in LAYOUTS.items()
        },
        "lock_storage": DatabaseLockStorage(grove.settings.lock_timeout_max),
        "property_manager": None,
        "middleware_stack": [ErrorPrinter, FaultBarrier, GroveRequestResolver],
        "http_authenticator": {"domain_controller": None},
        "add_header_MS_Author_Via": True,
        "dir_browser": {"enable": False},
        "verbose": 1,
        "logging": {"enable": False},
        "suppress_version_info": True,
        # GET bodies leave in 1 MiB blocks: with the library's 8 KiB default
        # cheroot sends a 1 GiB file at a quarter of the speed (docs/benchmarks.md).
        "block_size": BLOCK_SIZE,
    }
    # The trash-bin and the versions (meta) trees of every space.
    config["provider_mapping"].update(trash.providers(grove))  # type: ignore[attr-defined]
    config["provider_mapping"].update(meta.providers(grove))  # type: ignore[attr-defined]
    app = WsgiDAVApp(config)
    # Grove's lock manager, before anything else is mounted on the app.
    app.lock_manager = GroveLockManager(app.lock_manager.storage)
    for provider in app.provider_map.values():
        provider.set_lock_manager(app.lock_manager)
    # WsgiDAV's logger stops at its own NullHandler; Grove's logging shows its
    # warnings and the tracebacks of internal errors.
    library_logger = logging.getLogger("wsgidav")
    library_logger.setLevel(logging.WARNING)
    library_logger.propagate = True
    # FaultBarrier has logged every fault once already, with its traceback.
    logging.getLogger("wsgidav.error_printer").setLevel(logging.CRITICAL)
    return app
