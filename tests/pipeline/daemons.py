"""Private clamd and c-icap instances for the scanner tests.

Each runs from Debian's packages with its own config file, socket or port and
signature folder (Grove's config/clamav/eicar.ndb), never the system's. Their
defaults would pass files unscanned (DESIGN.md, "Traps"), so the configs set
the limits explicitly. A missing program fails the test: never a skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SIGNATURES = ROOT / "config" / "clamav" / "eicar.ndb"
C_ICAP_LIBS = Path("/usr/lib/x86_64-linux-gnu/c_icap")

# The EICAR test string, in two parts so that this file is not itself a "virus".
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def program(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(
            f"{name} is not installed: run scripts/system-packages.sh", pytrace=False
        )
    return found


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    folder: Path
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Clamd(Daemon):
    socket: Path
    port: int


@dataclass
class Icap(Daemon):
    port: int

    @property
    def url(self) -> str:
        return f"icap://127.0.0.1:{self.port}/virus_scan"


def _wait(ready: object, daemon: Daemon, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(ready) and ready():
            return
        if daemon.process.poll() is not None:
            break
        time.sleep(0.05)
    log = daemon.log.read_text(errors="replace")[-3000:] if daemon.log.exists() else ""
    daemon.stop()
    pytest.fail(f"{what} did not start\n{log}", pytrace=False)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start_clamd(folder: Path, *, stream_max: str = "200M") -> Clamd:
    binary = program("clamd")
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "db"
    database.mkdir(exist_ok=True)
    shutil.copy(SIGNATURES, database / SIGNATURES.name)
    sock = folder / "clamd.sock"
    port = free_port()
    log = folder / "clamd.log"
    config = folder / "clamd.conf"
    config.write_text(
        f"LocalSocket {sock}\n"
        f"TCPSocket {port}\nTCPAddr 127.0.0.1\n"
        "Foreground yes\n"
        f"DatabaseDirectory {database}\n"
        f"LogFile {log}\n"
        # clamd resets the connection past StreamMaxLength (25M by default).
        f"StreamMaxLength {stream_max}\nMaxScanSize {stream_max}\n"
        f"MaxFileSize {stream_max}\n"
    )
    process = subprocess.Popen(
        [binary, "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    daemon = Clamd(process, folder, log, sock, port)
    _wait(lambda: sock.exists() and _listening(port), daemon, "clamd")
    return daemon


def start_c_icap(folder: Path, clamd: Clamd) -> Icap:
    binary = program("c-icap")
    if not (C_ICAP_LIBS / "virus_scan.so").exists():
        pytest.fail(
            "c-icap's virus_scan module is missing: install "
            "libc-icap-mod-virus-scan (scripts/system-packages.sh)",
            pytrace=False,
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tmp").mkdir(exist_ok=True)
    port = free_port()
    log = folder / "server.log"
    config = folder / "c-icap.conf"
    config.write_text(
        f"PidFile {folder}/c-icap.pid\n"
        f"CommandsSocket {folder}/c-icap.ctl\n"
        "Timeout 60\nStartServers 1\nMaxServers 2\n"
        "MinSpareThreads 2\nMaxSpareThreads 4\nThreadsPerChild 4\n"
        f"Port 127.0.0.1:{port}\n"
        f"TmpDir {folder}/tmp\n"
        "MaxMemObject 131072\nDebugLevel 1\n"
        f"ModulesDir {C_ICAP_LIBS}\nServicesDir {C_ICAP_LIBS}\n"
        "TemplateDir /usr/share/c_icap/templates/\n"
        "TemplateDefaultLanguage en\n"
        "LoadMagicFile /etc/c-icap/c-icap.magic\n"
        f"ServerLog {log}\nAccessLog {folder}/access.log\n"
        # Debian's c-icap.conf does not include virus_scan.conf: set it here.
        "Module common clamd_mod.so\n"
        f"clamd_mod.ClamdSocket {clamd.socket}\n"
        "Service antivirus_module virus_scan.so\n"
        # Every type: a type left off this list passes unscanned.
        "virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GRAPHICS STREAM "
        "DOCUMENT\n"
        # Its defaults pass objects over 5M unscanned and send data back before
        # the scan ends; sizes are in M (a G suffix is misread).
        "virus_scan.MaxObjectSize 2047M\n"
        "virus_scan.SendPercentData 0\n"
        "virus_scan.StartSendPercentDataAfter 2047M\n"
        "virus_scan.Allow204Responces on\n"
        "virus_scan.PassOnError off\n"
        "virus_scan.DefaultEngine clamd\n"
    )
    process = subprocess.Popen(
        [binary, "-N", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    daemon = Icap(process, folder, log, port)
    _wait(lambda: _listening(port), daemon, "c-icap")
    return daemon
