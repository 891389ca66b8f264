"""The HTTP API edge (Flask): health now; the libre-graph API, OCS and status later."""
