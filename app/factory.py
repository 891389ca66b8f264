"""The composition root: build a prepared Grove and mount both edges on it."""

from __future__ import annotations

import logging

from app import quota
from app.config import Settings
from app.dispatch import Dispatcher
from app.instance import Grove
from app.storage import ownership
from dav import chunking, tus
from dav.app import create_dav_app
from graph import ocs
from graph.web import create_web_app


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def create_app(settings: Settings) -> Dispatcher:
    """The WSGI application for ``settings``; prepares data folder and schema."""
    grove = Grove(settings)
    grove.prepare()
    ownership.configure(settings)
    quota.configure(settings.quota_default)
    dav_app = create_dav_app(grove)
    # The upload doors beside the file layouts, and the open pages sync
    # clients read first (status.php, OCS).
    chunking.mount(dav_app, grove)
    tus.mount(dav_app, grove)
    web_app = create_web_app(grove)
    web_app.register_blueprint(ocs.create_blueprint(grove))
    return Dispatcher(grove, dav_app, web_app)
