"""Map the core's exceptions to WebDAV status codes: HTTP starts at this edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from xml.sax.saxutils import escape

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_LOCKED,
    HTTP_MEDIATYPE_NOT_SUPPORTED,
    HTTP_NOT_FOUND,
    HTTP_PRECONDITION_FAILED,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    HTTP_SERVICE_UNAVAILABLE,
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
    errors.TooLarge: HTTP_REQUEST_ENTITY_TOO_LARGE,
    errors.UnsupportedType: HTTP_MEDIATYPE_NOT_SUPPORTED,
    errors.ScannerUnavailable: HTTP_SERVICE_UNAVAILABLE,
    errors.SearchUnavailable: HTTP_SERVICE_UNAVAILABLE,
}

# Sabre's exception names, which ownCloud-lineage clients show or log.
_EXCEPTIONS = {
    403: "Sabre\\DAV\\Exception\\Forbidden",
    415: "Sabre\\DAV\\Exception\\UnsupportedMediaType",
    503: "Sabre\\DAV\\Exception\\ServiceUnavailable",
}


class CodedDAVError(DAVError):
    """A DAVError whose body is an XML error naming the reason and its code.

    ``<d:error>`` with Sabre's ``s:exception`` and ``s:message`` (what ownCloud
    and Nextcloud clients read) and Grove's ``oc:errorcode`` (``virusFound`` …),
    the same code the API answers with.
    """

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(status, message)
        self.code = code

    def get_response_page(self) -> tuple[str, bytes]:
        exception = _EXCEPTIONS.get(self.value, "Sabre\\DAV\\Exception")
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" '
            'xmlns:oc="http://owncloud.org/ns">'
            f"<s:exception>{escape(exception)}</s:exception>"
            f"<s:message>{escape(str(self.context_info))}</s:message>"
            f"<oc:errorcode>{escape(self.code)}</oc:errorcode>"
            "</d:error>\n"
        )
        return "application/xml; charset=utf-8", body.encode("utf-8")


def to_dav_error(error: errors.GroveError) -> DAVError:
    code = getattr(error, "code", None)
    for kind in type(error).__mro__:
        if kind in STATUS:
            if isinstance(code, str):
                return CodedDAVError(STATUS[kind], str(error), code)
            return DAVError(STATUS[kind], str(error))
    return DAVError(500, str(error))


@contextmanager
def translated() -> Iterator[None]:
    """Raise the core's errors inside the block as the matching DAVError."""
    try:
        yield
    except errors.GroveError as error:
        raise to_dav_error(error) from error
