"""Small real documents for the extraction tests, written byte by byte.

OOXML and ODF are zip archives of XML parts; a PDF is objects plus a cross-
reference table. Each builder writes only what readers need to find the
text, so the tests do not depend on an office suite being installed.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"

ODF_TYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


def _zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            # ODF's mimetype comes first and uncompressed (ODF 1.2 part 3, 3.3).
            kind = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    return path


def docx(path: Path, paragraphs: Iterable[str]) -> Path:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    document = f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    return _zip(path, {"word/document.xml": document})


def xlsx(path: Path, cells: Iterable[str]) -> Path:
    strings = "".join(f"<si><t>{c}</t></si>" for c in cells)
    return _zip(path, {"xl/sharedStrings.xml": f'<sst xmlns="{S}">{strings}</sst>'})


def pptx(path: Path, slides: Iterable[str]) -> Path:
    members: dict[str, str | bytes] = {}
    for number, text in enumerate(slides, 1):
        members[f"ppt/slides/slide{number}.xml"] = (
            f'<p:sld xmlns:p="{P}" xmlns:a="{A}"><p:cSld><p:spTree><p:sp><p:txBody>'
            f"<a:p><a:r><a:t>{text}</a:t></a:r></a:p>"
            "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
        )
    return _zip(path, members)


def odf(path: Path, paragraphs: Iterable[str]) -> Path:
    body = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
    content = (
        f'<office:document-content xmlns:office="{OFFICE}" xmlns:text="{TEXT}">'
        f"<office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    )
    kind = ODF_TYPES[path.suffix.lstrip(".")]
    return _zip(path, {"mimetype": kind, "content.xml": content})


def docx_bomb(path: Path, inflated: int) -> Path:
    """A .docx whose document part inflates to ``inflated`` bytes of blanks."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>'.encode())
            block = b" " * (1024 * 1024)
            for _ in range(inflated // len(block)):
                part.write(block)
            part.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return path


def pdf(path: Path, pages: Iterable[str]) -> Path:
    """A PDF with one line of text on each page."""
    streams = [f"BT /F1 12 Tf 72 720 Td ({page}) Tj ET".encode() for page in pages]
    return _pdf(path, [(stream, False) for stream in streams])


def pdf_bomb(path: Path, inflated: int) -> Path:
    """A one-page PDF whose content stream inflates to ``inflated`` bytes."""
    packer = zlib.compressobj(9)
    block = b"0 0 m\n" * (1024 * 1024 // 6)
    parts = [packer.compress(block) for _ in range(inflated // len(block))]
    parts.append(packer.flush())
    return _pdf(path, [(b"".join(parts), True)])


def _pdf(path: Path, streams: list[tuple[bytes, bool]]) -> Path:
    count = len(streams)
    font = 3 + 2 * count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
    ]
    for number, (data, deflated) in enumerate(streams):
        page = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents "
            f"{4 + 2 * number} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>"
        )
        objects.append(page.encode())
        flate = " /Filter /FlateDecode" if deflated else ""
        head = f"<< /Length {len(data)}{flate} >>\nstream\n".encode()
        objects.append(head + data + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n".encode()
    )
    path.write_bytes(out.getvalue())
    return path
