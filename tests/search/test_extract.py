"""Text extraction: every supported format gives its words; hostile documents
(zip bombs, PDF streams that inflate without end, documents that take too
long) cost a bounded child process and give no text, never a hang or a crash."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.search.extract import Limits, extract
from tests.search import documents

WORDS = ["Quarterly zebra report", "second paragraph"]

Builder = Callable[[Path, list[str]], Path]


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("report.docx", documents.docx),
        ("report.xlsx", documents.xlsx),
        ("report.pptx", documents.pptx),
        ("report.odt", documents.odf),
        ("report.ods", documents.odf),
        ("report.odp", documents.odf),
        ("report.pdf", documents.pdf),
    ],
)
def test_office_and_pdf_documents_give_their_text(
    tmp_path: Path, name: str, build: Builder
) -> None:
    path = build(tmp_path / name, WORDS)

    text = extract(path, name, "application/octet-stream", Limits())

    assert text is not None
    assert "Quarterly zebra report" in text and "second paragraph" in text


def test_plain_text_markdown_and_html(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes("caf\u00e9 zebra".encode())
    (tmp_path / "b.md").write_text("# Title\n\n*zebra* notes\n")
    (tmp_path / "c.html").write_text(
        "<html><head><style>.x{color:red}</style><script>var hidden=1</script>"
        "</head><body><h1>Zebra</h1><p>crossing&nbsp;here</p></body></html>"
    )

    assert extract(tmp_path / "a.txt", "a.txt", "text/plain", Limits()) == (
        "caf\u00e9 zebra"
    )
    assert "*zebra* notes" in str(
        extract(tmp_path / "b.md", "b.md", "text/markdown", Limits())
    )
    html = str(extract(tmp_path / "c.html", "c.html", "text/html", Limits()))
    assert "Zebra" in html and "crossing" in html
    assert "hidden" not in html and "color" not in html


def test_binary_files_and_unknown_types_give_no_text(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_bytes(b"\x00\x01\x02zebra")
    (tmp_path / "y.bin").write_bytes(b"zebra")

    assert extract(tmp_path / "x.txt", "x.txt", "text/plain", Limits()) is None
    assert extract(tmp_path / "y.bin", "y.bin", "application/x-foo", Limits()) is None


def test_a_broken_document_gives_no_text(tmp_path: Path) -> None:
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 and then nothing")

    assert extract(tmp_path / "broken.docx", "broken.docx", "", Limits()) is None
    assert extract(tmp_path / "broken.pdf", "broken.pdf", "", Limits()) is None


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"zebra " * 1000)

    assert extract(path, "big.txt", "text/plain", Limits(max_bytes=100)) is None


@pytest.fixture(scope="module")
def docx_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 300 MiB of blanks in ~300 KiB: three times the default unpacked limit.
    folder = tmp_path_factory.mktemp("bombs")
    return documents.docx_bomb(folder / "bomb.docx", 300 * 1024 * 1024)


def test_a_zip_bomb_stops_at_the_unpacked_limit(docx_bomb: Path) -> None:
    assert docx_bomb.stat().st_size < 1024 * 1024

    started = time.monotonic()
    text = extract(docx_bomb, "bomb.docx", "", Limits())

    assert text is None
    assert time.monotonic() - started < Limits().timeout


def test_a_zip_bomb_stops_at_the_memory_limit_too(docx_bomb: Path) -> None:
    # With the unpacked limit out of the way, the child's address space limit
    # is what stops it.
    limits = Limits(max_unpacked=1024**3, memory_mb=200)

    started = time.monotonic()
    text = extract(docx_bomb, "bomb.docx", "", limits)

    assert text is None
    assert time.monotonic() - started < limits.timeout


def test_a_pdf_stream_that_inflates_without_end_gives_no_text(
    tmp_path: Path,
) -> None:
    path = documents.pdf_bomb(tmp_path / "bomb.pdf", 300 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024

    started = time.monotonic()
    text = extract(path, "bomb.pdf", "application/pdf", Limits(memory_mb=256))

    assert text is None
    assert time.monotonic() - started < Limits().timeout


def test_a_document_that_takes_too_long_is_given_up(tmp_path: Path) -> None:
    path = documents.pdf(tmp_path / "long.pdf", [f"page {n}" for n in range(3000)])
    limits = Limits(timeout=0.5)

    started = time.monotonic()
    text = extract(path, "long.pdf", "application/pdf", limits)

    assert text is None
    assert time.monotonic() - started < 3
    # Given time, the same document gives its text.
    assert "page 2999" in str(extract(path, "long.pdf", "application/pdf", Limits()))


def test_text_kept_per_document_is_bounded(tmp_path: Path) -> None:
    path = documents.docx(tmp_path / "long.docx", [f"zebra {n}" for n in range(5000)])

    text = extract(path, "long.docx", "", Limits(max_chars=1000))

    assert text is not None and len(text) <= 1000 and text.startswith("zebra 0")
