"""WSGI entry point: ``gunicorn wsgi:app`` (settings from GROVE_CONFIG and GROVE_*)."""

from app import jobs
from app.config import load_settings
from app.factory import configure_logging, create_app
from app.storage.watcher import start_watcher

settings = load_settings()
configure_logging(settings)
app = create_app(settings)
# Each worker imports this module (no preload); one of them holds the
# watcher's lock and watches, the others stand by to take over.
watcher = start_watcher(settings)
# Job worker threads start here, after gunicorn's fork (threads die in a fork).
workers = jobs.start_workers(settings.job_threads)
