"""The composition root: build a prepared Grove and mount both edges on it."""

from __future__ import annotations

import logging

from app.config import Settings
from app.dispatch import Dispatcher
from app.instance import Grove
from app.storage import ownership
from dav.app import create_dav_app
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
    return Dispatcher(grove, create_dav_app(grove), create_web_app(grove))
