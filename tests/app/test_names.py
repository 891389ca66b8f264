"""Name rules, without HTTP: what Grove creates, and which spellings a lookup tries."""

from __future__ import annotations

import unicodedata

import pytest

from app.errors import BadRequest
from app.storage.names import check_new_name, is_text, spellings, xml_safe


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "a/b",
        "a\x00b",
        "a\x01b",
        "a\tb",
        "a\x7fb",
        "a\x85b",
        "a\ufffeb",
        "a\udce9b",
        "x" * 256,
        "é" * 128,
    ],
)
def test_unsafe_or_long_names_are_refused(name: str) -> None:
    with pytest.raises(BadRequest):
        check_new_name(name)


def test_new_names_are_stored_in_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Ärger.txt")
    assert check_new_name(nfd) == unicodedata.normalize("NFC", nfd)
    assert check_new_name("x" * 255) == "x" * 255
    # The byte limit applies to the NFC spelling, as it is stored.
    assert check_new_name(unicodedata.normalize("NFD", "é") * 127)


def test_lookup_tries_the_exact_name_first() -> None:
    nfc = unicodedata.normalize("NFC", "café")
    nfd = unicodedata.normalize("NFD", "café")
    assert spellings(nfd) == [nfd, nfc]
    assert spellings(nfc) == [nfc, nfd]
    assert spellings("plain") == ["plain"]


def test_xml_safety_and_text_names() -> None:
    assert xml_safe("ordinary name – ok ✓")
    assert not xml_safe("bell\x07")
    assert is_text("日本語")
    assert not is_text(b"\xe9t\xe9".decode("utf-8", "surrogateescape"))
