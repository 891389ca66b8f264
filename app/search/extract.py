"""Text extraction for the content index, bounded in time and memory.

Plain text, Markdown, CSV and HTML are read here, at most ``max_bytes``.
PDF (pypdf), OOXML (docx, xlsx, pptx) and ODF (odt, ods, odp; zip + XML read
with lxml) are read by a child process (app.search.extract_worker) with an
address-space and CPU-time limit and a wall-clock timeout: a zip bomb, a
PDF that expands without end or a parser bug costs that child, never the
server. Whatever fails or gives up yields None: the file stays stored and is
indexed by its name and metadata only.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lxml import etree, html

logger = logging.getLogger(__name__)

OOXML = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "pptx"
    ),
}
ODF = {
    "application/vnd.oasis.opendocument.text": "odf",
    "application/vnd.oasis.opendocument.spreadsheet": "odf",
    "application/vnd.oasis.opendocument.presentation": "odf",
}
SUFFIXES = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
    ".csv": "text",
    ".log": "text",
    ".htm": "html",
    ".html": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".pptx": "pptx",
    ".odt": "odf",
    ".ods": "odf",
    ".odp": "odf",
}
CHILD_KINDS = {"pdf", "docx", "xlsx", "pptx", "odf"}


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024  # larger files: name only
    max_chars: int = 1_000_000  # text kept per document
    timeout: float = 20.0  # seconds of wall clock per document
    memory_mb: int = 512  # address space of the child
    max_unpacked: int = 100 * 1024 * 1024  # bytes a document may unzip to


def kind_of(name: str, mediatype: str) -> str | None:
    """Which extractor reads this file, or None (indexed by name only)."""
    if mediatype in OOXML:
        return OOXML[mediatype]
    if mediatype in ODF:
        return ODF[mediatype]
    if mediatype == "application/pdf":
        return "pdf"
    if mediatype in ("text/html", "application/xhtml+xml"):
        return "html"
    if mediatype in ("text/plain", "text/markdown", "text/csv", "text/x-markdown"):
        return "text"
    return SUFFIXES.get(Path(name).suffix.lower())


def extract(path: Path, name: str, mediatype: str, limits: Limits) -> str | None:
    """The text of a file, or None when it has none Grove can read."""
    kind = kind_of(name, mediatype)
    if kind is None:
        return None
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size > limits.max_bytes:
        logger.info("not extracting %r: %d bytes, over the limit", str(path), size)
        return None
    if kind == "text":
        return _read_text(path, limits)
    if kind == "html":
        return _read_html(path, limits)
    return _in_child(kind, path, limits)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _read_text(path: Path, limits: Limits) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes)
    except OSError:
        return None
    if b"\x00" in data[:8192]:
        return None  # binary after all
    return _decode(data)[: limits.max_chars]


def _read_html(path: Path, limits: Limits) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes)
    except OSError:
        return None
    if not data.strip():
        return ""
    parser = html.HTMLParser(no_network=True, huge_tree=False, remove_comments=True)
    try:
        document = html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    for element in document.iter("script", "style"):
        element.text = ""
    text = " ".join(document.text_content().split())
    return text[: limits.max_chars]


def _in_child(kind: str, path: Path, limits: Limits) -> str | None:
    command = [
        sys.executable,
        "-m",
        "app.search.extract_worker",
        kind,
        str(path),
        str(limits.max_chars),
        str(limits.memory_mb),
        str(int(limits.timeout) + 1),
        str(limits.max_unpacked),
    ]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": _source_root()}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=limits.timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        logger.warning(
            "extracting %r took over %.1f s: gave up", str(path), limits.timeout
        )
        return None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        logger.warning(
            "no text from %r (%s): %s",
            str(path),
            kind,
            reason[-1] if reason else f"exit status {done.returncode}",
        )
        return None
    return done.stdout.decode("utf-8", "replace")[: limits.max_chars]


def _source_root() -> str:
    return str(Path(__file__).resolve().parents[2])
