"""Grove's benchmark: Grove, plain WsgiDAV and nginx measured side by side.

Not a test and not part of ``make test``; run it with ``make bench`` or
``python -m bench.run`` (docs/benchmarks.md explains the workloads).
"""
