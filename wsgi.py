"""WSGI entry point: ``gunicorn wsgi:app`` (settings from GROVE_CONFIG and GROVE_*)."""

from app.config import load_settings
from app.factory import configure_logging, create_app

settings = load_settings()
configure_logging(settings)
app = create_app(settings)
