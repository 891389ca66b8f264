"""The search query as every backend receives it: a small tree of conditions.

KQL (app.search.kql) parses into these; each backend translates them into its
own language (FTS5 MATCH plus SQL, Elasticsearch's query DSL, later
PostgreSQL's tsquery). Text values are kept as the user wrote them; each
backend applies its own analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

# Properties a Term may name; None: the default (name, content and tags).
TEXT_FIELDS = ("name", "content", "tag")


@dataclass(frozen=True)
class Term:
    """Words (``phrase``: in this order) in a text property.

    ``field`` None searches name, content and tags. ``prefix``: the last word
    may continue (``word*``). ``pattern``: a glob over the whole name
    (``*.pdf``), only for ``name``. ``tag`` matches a whole tag, any case.
    """

    field: str | None
    text: str
    prefix: bool = False
    pattern: bool = False


@dataclass(frozen=True)
class MediaType:
    """The media type is one of ``exact`` or starts with one of ``prefixes``."""

    exact: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IsFolder:
    folder: bool


@dataclass(frozen=True)
class Range:
    """``field`` (``size`` in bytes or ``mtime`` in epoch seconds) compared."""

    field: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Query, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Query, ...]


@dataclass(frozen=True)
class Not:
    item: Query


@dataclass(frozen=True)
class Scope:
    """KQL ``scope:<resource id>``: only this space (``node`` None) or the
    subtree below this folder. Never reaches a backend: app.search.service
    turns it into :class:`Access`'s scope."""

    space: str
    node: str | None = None


Query = Union[Term, MediaType, IsFolder, Range, And, Or, Not, Scope]  # noqa: UP007


@dataclass(frozen=True)
class Access:
    """What a user may read: whole spaces and shared items (with what is below).

    ``scope_space`` / ``scope_folder`` narrow a search to one space or to one
    folder's subtree (a REPORT sent to a space or folder URL).
    """

    spaces: frozenset[str]
    nodes: frozenset[str] = frozenset()
    scope_space: str | None = None
    scope_folder: str | None = None
    # Folders kept from the user inside spaces they may read (the Denied role):
    # nothing at or below them is found, nor counted.
    excluded: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.spaces and not self.nodes
