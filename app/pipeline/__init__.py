"""The upload pipeline: the ordered steps that content from every door passes
before it reaches the tree (DESIGN.md, "Uploads"; docs/pipeline.md).

Every door (WebDAV PUT, chunked uploads, TUS, later federation) streams into
an ``app.storage.upload.Upload`` and calls its ``commit``; the commit runs
``Pipeline.run`` on the staged file before the rename (and ``app.quota``
under the commit lock). The steps, in order:

1. policy: name rules, size limit, blocked extensions;
2. content: checksum check (``OC-Checksum`` and the like), MIME type detected
   from the content, blocked types, a type that contradicts the name;
3. malware scan (none, clamd or ICAP), streamed from the staging file.

A refusal raises one of the core's errors (403, 413, 415, 503 at the edges)
and writes an audit record; the staging file is then removed by the door and
nothing reaches the tree, so the previous version stays.

Pipelines are kept per data folder (several instances live in one test
process), like the ownership policy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from app import audit, quota
from app.config import Settings
from app.errors import (
    ContentRefused,
    GroveError,
    ScannerUnavailable,
    TooLarge,
    UnsupportedType,
    VirusFound,
)
from app.pipeline import checksum, mime, scanners
from app.storage.names import check_new_name

if TYPE_CHECKING:
    from app.models import Space
    from app.storage.tree import Item
    from app.storage.upload import Upload

logger = logging.getLogger(__name__)

# What the scan step says about the content it let through.
CLEAN = "clean"
NOT_SCANNED_OFF = "not scanned: no scanner"
NOT_SCANNED_EMPTY = "not scanned: empty"
OVER_LIMIT = "not scanned: over limit"
UNREACHABLE = "not scanned: scanner unreachable"


@dataclasses.dataclass(frozen=True)
class Origin:
    """Who sends the content, through which door, with which checksum header."""

    actor: str = ""
    address: str = ""
    door: str = "internal"
    checksum: str | None = None  # OC-Checksum: "SHA1:<hex> MD5:<hex>" …


@dataclasses.dataclass
class Job:
    """One upload on its way through the steps, and what they found."""

    upload: Upload
    folder: Item
    name: str
    origin: Origin
    mime: str | None = None
    scan: str = ""

    @property
    def target(self) -> str:
        parts = [*self.folder.parts, self.name]
        return f"/{self.folder.tree.space.id}/{'/'.join(parts)}"


Step = Callable[["Pipeline", Job], None]


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


def extension(name: str) -> str:
    _, dot, suffix = name.rpartition(".")
    return suffix.lower() if dot and suffix else ""


# --- the steps, in order ------------------------------------------------------


def check_name(pipe: Pipeline, job: Job) -> None:
    check_new_name(job.name)


def check_size(pipe: Pipeline, job: Job) -> None:
    pipe.check_declared_size(job.upload.size)


def check_extension(pipe: Pipeline, job: Job) -> None:
    pipe.check_extension(job.name)


def verify_checksum(pipe: Pipeline, job: Job) -> None:
    checksum.verify(job.upload, job.origin.checksum)


def detect_type(pipe: Pipeline, job: Job) -> None:
    decision = mime.decide(mime.detect(job.upload.path), job.name)
    job.mime = decision.reported
    if decision.contradicts and pipe.mime_mismatch == "refuse":
        raise UnsupportedType(
            f"the content is {decision.detected}, which contradicts the name "
            f"{job.name!r} ({decision.named})"
        )
    if decision.contradicts:
        logger.info(
            "%r: content is %s, name says %s; stored as %s",
            job.target,
            decision.detected,
            decision.named,
            decision.reported,
        )


def check_type(pipe: Pipeline, job: Job) -> None:
    kind = (job.mime or "").lower()
    for blocked in pipe.blocked_types:
        family = blocked.removesuffix("*")
        if kind == blocked or (blocked.endswith("/*") and kind.startswith(family)):
            raise ContentRefused(
                f"files of type {kind} may not be uploaded here", code="blockedType"
            )


def scan(pipe: Pipeline, job: Job) -> None:
    size = job.upload.size
    if isinstance(pipe.scanner, scanners.NoScanner):
        job.scan = NOT_SCANNED_OFF
        return
    if size == 0:
        job.scan = NOT_SCANNED_EMPTY
        return
    if size > pipe.scan_max_bytes:
        job.scan = OVER_LIMIT
        refuse = pipe.scan_over_limit == "refuse"
        pipe.record(job, "file_scan", "over_limit", "refused" if refuse else "accepted")
        if refuse:
            raise TooLarge(
                f"not scanned: over limit ({size} bytes, the scanner takes at most "
                f"{pipe.scan_max_bytes})"
            )
        return
    try:
        result = pipe.scanner.scan(job.upload.path, size)
    except scanners.ScannerError as error:
        job.scan = UNREACHABLE
        refuse = pipe.scan_unreachable == "refuse"
        logger.warning(
            "%s: %r %s unscanned: %s",
            pipe.scanner.name,
            job.target,
            "refused" if refuse else "accepted",
            error,
        )
        pipe.record(
            job, "file_scan", "unreachable", f"{'refused' if refuse else 'accepted'}"
        )
        if refuse:
            raise ScannerUnavailable(
                "the malware scanner is not available; try again later"
            ) from error
        return
    if result.infected:
        pipe.record(job, "file_scan", "infected", result.finding)
        raise VirusFound(result.finding)
    job.scan = CLEAN


STEPS: tuple[Step, ...] = (
    check_name,
    check_size,
    check_extension,
    verify_checksum,
    detect_type,
    check_type,
    scan,
)


class Pipeline:
    def __init__(
        self,
        *,
        max_bytes: int = 0,
        blocked_extensions: str = "",
        blocked_types: str = "",
        mime_mismatch: str = "accept",
        scanner: scanners.Scanner | None = None,
        scan_max_bytes: int = 26214400,
        scan_over_limit: str = "accept",
        scan_unreachable: str = "refuse",
        steps: tuple[Step, ...] = STEPS,
    ) -> None:
        self.max_bytes = max_bytes
        self.blocked_extensions = frozenset(
            e.lstrip(".") for e in _split(blocked_extensions)
        )
        self.blocked_types = _split(blocked_types)
        self.mime_mismatch = mime_mismatch
        self.scanner: scanners.Scanner = scanner or scanners.NoScanner()
        self.scan_max_bytes = scan_max_bytes
        self.scan_over_limit = scan_over_limit
        self.scan_unreachable = scan_unreachable
        self.steps = steps

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        return cls(
            max_bytes=settings.upload_max_bytes,
            blocked_extensions=settings.upload_blocked_extensions,
            blocked_types=settings.upload_blocked_types,
            mime_mismatch=settings.mime_mismatch,
            scanner=scanners.from_settings(
                settings.scanner,
                clamd_address=settings.clamd_address,
                icap_url=settings.icap_url,
                timeout=float(settings.scan_timeout_seconds),
            ),
            scan_max_bytes=settings.scan_max_bytes,
            scan_over_limit=settings.scan_over_limit,
            scan_unreachable=settings.scan_unreachable,
        )

    # --- checks a door may run before the body arrives ------------------------

    def check_declared_size(self, size: int | None) -> None:
        if size is not None and self.max_bytes and size > self.max_bytes:
            raise TooLarge(
                f"the file is larger than the upload limit of {self.max_bytes} bytes"
            )

    def check_extension(self, name: str) -> None:
        if extension(name) in self.blocked_extensions:
            raise ContentRefused(
                f"files ending in .{extension(name)} may not be uploaded here",
                code="blockedExtension",
            )

    def precheck(
        self,
        name: str,
        size: int | None,
        origin: Origin,
        target: str,
        *,
        space: Space | None = None,
        replacing: int = 0,
    ) -> None:
        """Refuse what policy already forbids from the name and declared size,
        and (given the ``space``) a declared size over its quota."""
        with self.auditing(origin, target):
            check_new_name(name)
            self.check_extension(name)
            self.check_declared_size(size)
            if space is not None and size is not None:
                quota.check(space, size - replacing)

    def check_quota(
        self, space: Space, growth: int, origin: Origin, target: str
    ) -> None:
        """The quota step, run by the commit under its lock on the content's size."""
        with self.auditing(origin, target):
            quota.check(space, growth)

    @contextlib.contextmanager
    def auditing(self, origin: Origin, target: str) -> Iterator[None]:
        """Audit a refusal raised inside as a refused ``file_create``."""
        try:
            yield
        except GroveError as error:
            self._refused(origin, target, error)
            raise

    # --- the run ----------------------------------------------------------------

    def run(self, upload: Upload, folder: Item, name: str, origin: Origin) -> Job:
        """Run every step on the staged content; raises to refuse it."""
        job = Job(upload, folder, name, origin)
        for step in self.steps:
            try:
                step(self, job)
            except GroveError as error:
                self._refused(origin, job.target, error)
                raise
        return job

    def record(self, job: Job, action: str, outcome: str, detail: str) -> None:
        audit.record(
            action,
            actor=job.origin.actor,
            address=job.origin.address,
            target=job.target,
            outcome=outcome,
            detail=detail,
        )

    def _refused(self, origin: Origin, target: str, error: GroveError) -> None:
        code = getattr(error, "code", type(error).__name__)
        audit.record(
            "file_create",
            actor=origin.actor,
            address=origin.address,
            target=target,
            outcome="refused",
            detail=f"{origin.door}: {code}: {error}",
        )


_pipelines: dict[Path, Pipeline] = {}


def configure(settings: Settings) -> Pipeline:
    pipeline = Pipeline.from_settings(settings)
    _pipelines[settings.data.resolve()] = pipeline
    return pipeline


def for_state_dir(state_dir: Path) -> Pipeline:
    """The pipeline of the instance whose ``.grove`` folder is ``state_dir``."""
    folder = _resolved(state_dir.parent)
    found = _pipelines.get(folder)
    if found is None:
        found = _pipelines.setdefault(folder, Pipeline())
    return found


@functools.lru_cache(maxsize=64)
def _resolved(folder: Path) -> Path:
    # Every upload asks twice; resolve() costs a system call per path component.
    return folder.resolve()
