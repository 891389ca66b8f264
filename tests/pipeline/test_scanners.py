"""Scanners against the real daemons: clamd (pyclamd, Unix and TCP socket) and
c-icap's virus_scan backed by clamd, through Grove's own ICAP client."""

from __future__ import annotations

import os
import socket
import time
import tracemalloc

import pytest

from app.pipeline import scanners
from tests.conftest import free_port
from tests.pipeline.daemons import EICAR


@pytest.fixture
def infected(tmp_path):
    path = tmp_path / "infected.bin"
    path.write_bytes(b"some text before " + EICAR + b" and after\n")
    return path


@pytest.fixture
def clean(tmp_path):
    path = tmp_path / "clean.bin"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # more than one block
    return path


def _scanners(clamd, c_icap):
    return [
        scanners.ClamdScanner(str(clamd.socket), 30),
        scanners.ClamdScanner(f"127.0.0.1:{clamd.port}", 30),
        scanners.IcapScanner(c_icap.url, 30),
    ]


def test_every_scanner_finds_the_eicar_string(clamd, c_icap, infected):
    for scanner in _scanners(clamd, c_icap):
        result = scanner.scan(infected, infected.stat().st_size)
        assert result.infected, scanner.name
        # A finding from Grove's own signature file carries .UNOFFICIAL.
        assert result.finding.startswith("Eicar-Test-Signature"), result


def test_every_scanner_passes_clean_content_of_several_blocks(clamd, c_icap, clean):
    for scanner in _scanners(clamd, c_icap):
        assert scanner.scan(clean, clean.stat().st_size) == scanners.CLEAN


def test_eicar_after_the_icap_preview_is_found(c_icap, tmp_path):
    path = tmp_path / "late.bin"
    path.write_bytes(os.urandom(2 * 1024 * 1024) + EICAR)
    result = scanners.IcapScanner(c_icap.url, 30).scan(path, path.stat().st_size)
    assert result.infected and result.finding.startswith("Eicar-Test-Signature")


def test_an_unreachable_scanner_is_an_error_never_clean(tmp_path, infected):
    size = infected.stat().st_size
    for scanner in (
        scanners.ClamdScanner(str(tmp_path / "no.sock"), 2),
        scanners.ClamdScanner(f"127.0.0.1:{free_port()}", 2),
        scanners.IcapScanner(f"icap://127.0.0.1:{free_port()}/virus_scan", 2),
    ):
        with pytest.raises(scanners.ScannerError):
            scanner.scan(infected, size)


def test_scanners_stream_the_content_in_blocks(clamd, c_icap, tmp_path):
    path = tmp_path / "large.bin"
    with open(path, "wb") as handle:
        for _ in range(48):
            handle.write(os.urandom(1024 * 1024))
    size = path.stat().st_size
    for scanner in _scanners(clamd, c_icap):
        tracemalloc.start()
        try:
            assert scanner.scan(path, size) == scanners.CLEAN, scanner.name
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # 48 MiB scanned with a few MiB at most in memory at any time.
        assert peak < 4 * 1024 * 1024, (scanner.name, peak)


def test_a_scanner_that_never_answers_is_an_error_never_clean(infected):
    # A listener that takes connections (the kernel's backlog) and never reads
    # or answers: a hung daemon.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        for scanner in (
            scanners.ClamdScanner(f"127.0.0.1:{port}", 1),
            scanners.IcapScanner(f"icap://127.0.0.1:{port}/virus_scan", 1),
        ):
            started = time.monotonic()
            with pytest.raises(scanners.ScannerError):
                scanner.scan(infected, infected.stat().st_size)
            assert time.monotonic() - started < 10, scanner.name
