"""Map the core's exceptions to WebDAV status codes: HTTP starts at this edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_LOCKED,
    HTTP_NOT_FOUND,
    HTTP_PRECONDITION_FAILED,
    DAVError,
)

from app import errors

STATUS = {
    errors.BadRequest: HTTP_BAD_REQUEST,
    errors.Forbidden: HTTP_FORBIDDEN,
    errors.NotFound: HTTP_NOT_FOUND,
    errors.Conflict: HTTP_CONFLICT,
    errors.PreconditionFailed: HTTP_PRECONDITION_FAILED,
    errors.Locked: HTTP_LOCKED,
    errors.InsufficientStorage: HTTP_INSUFFICIENT_STORAGE,
}


def to_dav_error(error: errors.GroveError) -> DAVError:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return DAVError(STATUS[kind], str(error))
    return DAVError(500, str(error))


@contextmanager
def translated() -> Iterator[None]:
    """Raise the core's errors inside the block as the matching DAVError."""
    try:
        yield
    except errors.GroveError as error:
        raise to_dav_error(error) from error
