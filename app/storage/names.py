"""Rules for the names of files and folders that Grove creates."""

from __future__ import annotations

import re
import unicodedata

from app.errors import BadRequest

MAX_NAME_BYTES = 255

# Characters XML 1.0 cannot carry (so no WebDAV answer could name the file),
# plus DEL and the C1 controls, which no person types in a file name.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_safe(name: str) -> bool:
    """True when ``name`` can appear in an XML 1.0 document as it is."""
    return _UNSAFE.search(name) is None


def is_text(name: str) -> bool:
    """True when a name read from disk was valid UTF-8 (no surrogate escapes).

    Other names cannot be written in a URL that Grove accepts, nor stored as
    text in the database, so Grove leaves such entries alone.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_new_name(name: str) -> str:
    """Validate a name for a new file or folder; returns its NFC spelling."""
    if name in ("", ".", ".."):
        raise BadRequest(f"invalid name {name!r}")
    if "/" in name:
        raise BadRequest(f"name contains a slash: {name!r}")
    if not xml_safe(name):
        raise BadRequest(f"name contains control or non-XML characters: {name!r}")
    normal = unicodedata.normalize("NFC", name)
    if len(normal.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise BadRequest(f"name longer than {MAX_NAME_BYTES} bytes: {name[:40]!r}…")
    return normal


def spellings(name: str) -> list[str]:
    """The spellings to try for a lookup: exact first, then NFC, then NFD."""
    out = [name]
    for form in ("NFC", "NFD"):
        other = unicodedata.normalize(form, name)
        if other not in out:
            out.append(other)
    return out


def folder_name(name: str) -> str:
    """A safe, readable folder name derived from a user or space name."""
    cleaned = re.sub(r"[^\w.@+-]", "_", unicodedata.normalize("NFC", name)).strip(".")
    return cleaned[:100] or "_"
