"""MIME types from the content (libmagic through python-magic), weighed against
the name.

The detected type and the type the name's extension suggests are compared by
family (text, image, audio/video, font, zip containers, OLE documents, or the
exact type). They agree when the detected type is generic (plain text, octet
stream, empty) or in the name's family: then the name's, more specific, type
is reported. They contradict when both are specific and the families differ
(a ``.jpg`` that is really HTML or a PDF): then the detected type is the truth
that Grove stores and reports, and the ``mime_mismatch`` policy decides whether
the upload is accepted at all.
"""

from __future__ import annotations

import dataclasses
import functools
import mimetypes
import threading
from pathlib import Path

OCTET = "application/octet-stream"

# Detected types that say nothing beyond "some text" or "some bytes".
GENERIC = frozenset(
    {OCTET, "text/plain", "inode/x-empty", "application/x-empty", "inode/blockdevice"}
)
# Compression a name's suffix adds (``.tar.gz``): the outer type is what is seen.
_ENCODINGS = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
    "br": "application/x-brotli",
}
_TEXTUAL = (
    "json",
    "javascript",
    "ecmascript",
    "xml",
    "x-sh",
    "x-shellscript",
    "x-python",
    "x-php",
    "x-httpd-php",
    "x-perl",
    "x-ruby",
    "sql",
    "rtf",
    "x-tex",
    "x-latex",
    "toml",
    "yaml",
    "x-yaml",
    "csv",
    "x-csh",
    "x-awk",
)
_ZIP = ("zip", "java-archive", "x-zip-compressed", "epub+zip")
_OLE = ("msword", "cdfv2", "x-ole-storage", "vnd.ms-")
_EXECUTABLE = (
    "x-dosexec",
    "x-msdos-program",
    "x-msdownload",
    "vnd.microsoft.portable-executable",
)

_local = threading.local()


def _magic() -> object:
    # A libmagic cookie is not safe to share between threads.
    cookie = getattr(_local, "cookie", None)
    if cookie is None:
        import magic

        cookie = magic.Magic(mime=True)
        _local.cookie = cookie
    return cookie


def detect(path: Path) -> str:
    """The MIME type libmagic sees in the file's content."""
    found = _magic().from_file(str(path))  # type: ignore[attr-defined]
    return str(found or OCTET)


def by_name(name: str) -> str | None:
    dot = name.find(".", 1)
    if dot < 0 or ":" in name:
        return _guess(name)
    # Only the suffixes count: cached by them (every upload asks).
    return _by_suffixes(name[dot:])


@functools.lru_cache(maxsize=1024)
def _by_suffixes(suffixes: str) -> str | None:
    return _guess("x" + suffixes)


def _guess(name: str) -> str | None:
    kind, encoding = mimetypes.guess_type(name, strict=False)
    if encoding:
        return _ENCODINGS.get(encoding)
    return kind


def family(kind: str) -> str:
    major, _, minor = kind.lower().partition("/")
    if major == "text" or minor.endswith(("+xml", "+json")) or minor in _TEXTUAL:
        return "text"
    if major in ("audio", "video"):
        return "media"
    if major in ("image", "font"):
        return major
    if (
        minor.endswith("+zip")
        or minor in _ZIP
        or minor.startswith(("vnd.openxmlformats", "vnd.oasis.opendocument"))
    ):
        return "zip"
    if minor in _EXECUTABLE:
        return "windows-executable"
    if minor.startswith(_OLE):
        return "ole"
    return kind.lower()


@dataclasses.dataclass(frozen=True)
class Decision:
    detected: str
    named: str | None
    reported: str
    contradicts: bool


def decide(detected: str, name: str) -> Decision:
    """What to report for content of type ``detected`` under ``name``."""
    named = by_name(name)
    if detected in GENERIC:
        return Decision(detected, named, named or OCTET, False)
    if named is None or named == OCTET:
        return Decision(detected, named, detected, False)
    if family(named) == family(detected):
        return Decision(detected, named, named, False)
    return Decision(detected, named, detected, True)
