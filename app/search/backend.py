"""The interface every search backend implements, and how config picks one.

A backend stores :class:`Document` records keyed by node id and answers
:class:`~app.search.query.Query` trees for an :class:`~app.search.query.Access`
(the spaces and shared items a user may read), so that permissions are
applied inside the backend's own query, never by filtering afterwards.
Backends: ``sqlite`` (FTS5 in its own file under .grove/, app.search.fts),
``elasticsearch`` (app.search.elastic). A third (PostgreSQL full-text)
implements the same methods and adds one line to :data:`BACKENDS`; the
contract tests in tests/search/ run against every backend.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.search.query import Access, Query

if TYPE_CHECKING:
    from app.config import Settings

# config value -> "module:Class"
BACKENDS = {
    "sqlite": "app.search.fts:FtsBackend",
    "elasticsearch": "app.search.elastic:ElasticBackend",
}


@dataclass
class Document:
    """What the index keeps of one file or folder.

    ``ancestors``: ids of the folders above it, the space root first; with
    ``space_id`` and its own id they decide who may see it. ``content`` None:
    keep the content indexed before (only the metadata changed). ``stamp``
    says which content was extracted (inode, size, mtime), so unchanged files
    are not read again.
    """

    node_id: str
    space_id: str
    parent_id: str | None
    path: str  # relative to the space root, "/"-separated
    name: str
    is_dir: bool
    size: int
    mtime: float
    mediatype: str
    tags: list[str] = field(default_factory=list)
    ancestors: list[str] = field(default_factory=list)
    content: str | None = ""
    stamp: str = ""


@dataclass
class Hit:
    node_id: str
    space_id: str
    parent_id: str | None
    path: str
    name: str
    is_dir: bool
    size: int
    mtime: float
    mediatype: str
    tags: list[str]
    score: float
    highlights: str = ""


@dataclass
class Results:
    hits: list[Hit]
    total: int  # matches for this access, beyond limit and offset


class Backend(abc.ABC):
    """A search index. Methods may be called from several threads at once."""

    @abc.abstractmethod
    def upsert(self, documents: Iterable[Document]) -> None:
        """Add or replace documents (``content`` None keeps the stored content)."""

    @abc.abstractmethod
    def delete(self, node_ids: Iterable[str]) -> None:
        """Forget these documents (nothing below them)."""

    @abc.abstractmethod
    def delete_subtree(self, node_id: str) -> None:
        """Forget a document and every document below it."""

    @abc.abstractmethod
    def delete_space(self, space_id: str) -> None:
        """Forget every document of a space."""

    @abc.abstractmethod
    def known(self, node_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(content stamp, path) of the documents found among ``node_ids``."""

    @abc.abstractmethod
    def children(self, parent_id: str) -> dict[str, str]:
        """The documents whose parent is ``parent_id``: node id -> path."""

    @abc.abstractmethod
    def search(
        self, query: Query, access: Access, *, limit: int, offset: int = 0
    ) -> Results:
        """Documents matching ``query`` that ``access`` may read, best first."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many documents the index holds."""

    def refresh(self) -> None:  # noqa: B027 - optional
        """Make writes visible to searches (near-real-time backends)."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""


def load(settings: Settings) -> Backend:
    """The backend that config selects."""
    target = BACKENDS[settings.search_backend]
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    backend: Backend = getattr(module, class_name).from_settings(settings)
    return backend
