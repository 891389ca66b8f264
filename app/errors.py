"""The core's exceptions: free of HTTP, each edge maps them to its own answers."""

from __future__ import annotations


class GroveError(Exception):
    """Base of all domain errors."""


class BadRequest(GroveError):
    """The input is malformed or unsafe (a name, a path, a header value)."""


class Unauthorized(GroveError):
    """No valid credentials."""


class Throttled(GroveError):
    """Too many failed sign-ins: refused until ``retry_after`` seconds pass."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(GroveError):
    """The principal may not do this."""


class NotFound(GroveError):
    """No such user, space or item (or the principal may not know of it)."""


class Conflict(GroveError):
    """The request conflicts with the current state (missing parent, exists)."""


class PreconditionFailed(GroveError):
    """An If-Match / If-None-Match style precondition does not hold."""


class Locked(GroveError):
    """The item is locked by someone else."""


class InsufficientStorage(GroveError):
    """The disk (or later a quota) has no room for the content."""


class ChecksumMismatch(BadRequest):
    """The content does not match the checksum the client sent."""


class ContentRefused(Forbidden):
    """The upload pipeline refuses the content (a policy rule or a finding).

    ``code`` names the reason for API answers (``virusFound``, ``blockedType`` …).
    """

    code = "contentRefused"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class VirusFound(ContentRefused):
    """The malware scanner found something in the content."""

    code = "virusFound"

    def __init__(self, finding: str) -> None:
        super().__init__(f"virus found: {finding}")
        self.finding = finding


class TooLarge(GroveError):
    """The content is larger than the configured limit."""

    code = "tooLarge"


class UnsupportedType(GroveError):
    """The content's type contradicts its name and policy refuses that."""

    code = "unsupportedType"


class ScannerUnavailable(GroveError):
    """The configured malware scanner could not be asked: try again later."""

    code = "scannerUnavailable"


class SearchUnavailable(GroveError):
    """The search index (an Elasticsearch server) could not be asked: try later."""

    code = "serviceNotAvailable"
