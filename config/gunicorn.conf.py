"""gunicorn settings for Grove: ``gunicorn -c config/gunicorn.conf.py wsgi:app``.

Grove reads its own settings from GROVE_CONFIG and GROVE_* variables; this file
only tunes gunicorn. Options given on the command line win over this file.
See docs/configuration.md.
"""

# The sync worker has no keep-alive and ties a worker to one slow client:
# gthread keeps WebDAV clients' connections open and serves them from threads.
worker_class = "gthread"
workers = 2
threads = 8

bind = "127.0.0.1:8080"

# WebDAV clients reuse connections; stay open longer than a proxy in front
# (nginx keeps upstream connections 60 s) so it never reuses a closed one.
keepalive = 75

# A worker that sends no heartbeat this long is killed; with gthread the
# heartbeat continues during long requests, but a multi-gigabyte upload on a
# slow disk must never come near it.
timeout = 300
graceful_timeout = 60

# The default request line limit (4094 bytes) answers 414 to deep folders with
# non-Latin names (every such character costs 9 bytes percent-encoded); 8190
# is gunicorn's largest finite value (0 would mean unbounded).
limit_request_line = 8190
# Lock tokens in If headers and long Destination URLs exceed 8190 bytes.
limit_request_field_size = 16384
limit_request_fields = 100

# No preload: Grove opens its database connections and locks in each worker,
# and threads started before the fork would die in the workers.
preload_app = False

# Grove writes its own access line per request (logger grove.access).
accesslog = None
errorlog = "-"

# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn),
# which two instances would share; give it a path of its own to use gunicornc.
control_socket_disable = True
