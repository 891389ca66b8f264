"""Whole-file GET bodies handed to the server's ``wsgi.file_wrapper``.

gunicorn sends a ``wsgi.file_wrapper`` body with sendfile(2), without copying
it through Python, but only when the application returns that very object.
WsgiDAV's middleware and Grove's own layers are generators, and a file passed
up through them is read in blocks like any other body. So, for a GET of a
whole file where the server has a file wrapper, the dispatcher offers a slot
in the environ; the file resource puts its open file there instead of
returning it, the layers carry an empty body up as usual (every check, header
and record on the way runs as before), and the dispatcher returns the wrapper
around the file itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

SLOT = "grove.file_body"
BLOCK = 1024 * 1024


def offer(environ: dict[str, Any]) -> list[IO[bytes]] | None:
    """A slot for the file of a whole-file GET, when the server can send one."""
    if (
        environ.get("REQUEST_METHOD") != "GET"
        or "wsgi.file_wrapper" not in environ
        or "HTTP_RANGE" in environ
    ):
        return None
    slot: list[IO[bytes]] = []
    environ[SLOT] = slot
    return slot


def hand_over(environ: dict[str, Any], file: IO[bytes]) -> bool:
    """Put ``file`` in the offered slot (once); False when none was offered."""
    slot: list[IO[bytes]] | None = environ.pop(SLOT, None)
    if slot is None:
        return False
    slot.append(file)
    return True


class _Primed:
    """A body whose first chunk was already taken from it."""

    def __init__(self, first: list[bytes], rest: Iterator[bytes], body: Any) -> None:
        self._first = first
        self._rest = rest
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield from self._first
        yield from self._rest

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


def settle(
    environ: dict[str, Any],
    body: Iterable[bytes],
    slot: list[IO[bytes]],
    on_close: Callable[[int], None],
) -> tuple[Iterable[bytes], bool]:
    """Run ``body`` to its first chunk; if a file was handed over meanwhile,
    return the server's wrapper around it (its close writes the access line)
    and True, else the body unchanged in effect and False."""
    rest = iter(body)
    first: list[bytes] = []
    for chunk in rest:
        first.append(chunk)
        break
    environ.pop(SLOT, None)  # not taken: nothing later may take it
    if not slot:
        return _Primed(first, rest, body), False
    for _ in rest:  # the empty body's end: the layers finish and close
        pass
    close = getattr(body, "close", None)
    if close is not None:
        close()
    file = slot[0]
    size = os.fstat(file.fileno()).st_size
    wrapper = environ["wsgi.file_wrapper"](file, BLOCK)

    def close_and_log() -> None:
        try:
            file.close()
        finally:
            on_close(size)

    # Servers call close() on what the application returned (PEP 3333).
    wrapper.close = close_and_log
    return wrapper, True
