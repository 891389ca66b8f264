"""The child process that reads PDF, OOXML and ODF text under resource limits.

``python -m app.search.extract_worker KIND PATH MAX_CHARS MEMORY_MB CPU_S
MAX_UNPACKED``: the text on stdout (UTF-8), exit status 0; anything else
(a limit reached, a broken file) exits non-zero with the reason on stderr.
It imports nothing of Grove but this module, so it starts quickly.
"""

from __future__ import annotations

import fnmatch
import re
import resource
import sys
import zipfile
from collections.abc import Iterator

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"

# kind -> (members to read, in order; the elements that are paragraphs)
ZIP_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "docx": (
        ("word/document.xml", "word/header*.xml", "word/footer*.xml"),
        (f"{W}p",),
    ),
    "xlsx": (
        ("xl/sharedStrings.xml", "xl/worksheets/sheet*.xml"),
        (f"{S}si", f"{S}is"),
    ),
    "pptx": (("ppt/slides/slide*.xml", "ppt/notesSlides/*.xml"), (f"{A}p",)),
    "odf": (("content.xml",), (f"{TEXT}p", f"{TEXT}h")),
}


class TooLarge(Exception):
    """The document unpacks to more than the limit (a zip bomb, or just huge)."""


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _members(archive: zipfile.ZipFile, patterns: tuple[str, ...]) -> Iterator[str]:
    names = archive.namelist()
    for pattern in patterns:
        yield from sorted(fnmatch.filter(names, pattern), key=_natural)


def zip_text(path: str, kind: str, max_chars: int, max_unpacked: int) -> str:
    from lxml import etree

    patterns, paragraphs = ZIP_KINDS[kind]
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    out: list[str] = []
    chars = 0
    unpacked = 0
    with zipfile.ZipFile(path) as archive:
        for member in _members(archive, patterns):
            # Declared sizes can lie: count what is actually inflated.
            with archive.open(member) as stream:
                data = stream.read(max_unpacked - unpacked + 1)
            unpacked += len(data)
            if unpacked > max_unpacked:
                raise TooLarge(f"unpacks to more than {max_unpacked} bytes")
            root = etree.fromstring(data, parser=parser)
            del data
            for element in root.iter(*paragraphs):
                text = "".join(element.itertext()).strip()
                if text:
                    out.append(text)
                    chars += len(text) + 1
                    if chars >= max_chars:
                        return "\n".join(out)[:max_chars]
    return "\n".join(out)


def pdf_text(path: str, max_chars: int) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    out: list[str] = []
    chars = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        out.append(text)
        chars += len(text)
        if chars >= max_chars:
            break
    return "\n".join(out)[:max_chars]


def main(argv: list[str]) -> int:
    kind, path = argv[0], argv[1]
    max_chars, memory_mb, cpu, max_unpacked = (int(value) for value in argv[2:6])
    _limit(memory_mb, cpu)
    try:
        if kind == "pdf":
            text = pdf_text(path, max_chars)
        else:
            text = zip_text(path, kind, max_chars, max_unpacked)
    except MemoryError:
        print("memory limit reached", file=sys.stderr)
        return 3
    except TooLarge as error:
        print(str(error), file=sys.stderr)
        return 3
    except Exception as error:  # noqa: BLE001 - any failure: no text, reason told
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(text.encode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
