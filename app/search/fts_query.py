"""Query trees in SQLite FTS5's terms: a MATCH expression and SQL on ``doc``.

``acl`` tokens name a document's space and every folder above it and itself
(:func:`token`); the user's tokens join the MATCH, so permissions are part of
the query (app.search.fts). What full text cannot express (sizes, times,
media types, whole tags, name patterns) becomes a WHERE clause on ``doc``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from app.search.backend import Document
from app.search.query import (
    Access,
    And,
    IsFolder,
    MediaType,
    Not,
    Or,
    Query,
    Range,
    Term,
)

_HEX = re.compile(r"[0-9a-fA-F-]{1,64}")
_WORD = re.compile(r"\w+")


def token(kind: str, ident: str) -> str:
    """The ``acl`` token of a space (``s``) or node (``n``) id."""
    if _HEX.fullmatch(ident):
        return kind + ident.replace("-", "").lower()
    return kind + "x" + hashlib.sha1(ident.encode()).hexdigest()


def acl_text(doc: Document) -> str:
    tokens = [token("s", doc.space_id)]
    tokens.extend(token("n", ident) for ident in doc.ancestors)
    tokens.append(token("n", doc.node_id))
    return " ".join(tokens)


def _phrase(text: str, prefix: bool = False) -> str | None:
    words = _WORD.findall(text)
    if not words:
        return None
    return '"' + " ".join(words) + '"' + (" *" if prefix else "")


_COLUMN_FILTER = {None: "{name content tags}", "content": "content", "name": "name"}


def match_expression(query: Query) -> str | None:
    """``query`` as an FTS5 expression, or None when FTS5 cannot express it."""
    if isinstance(query, Term):
        if query.pattern or query.field == "tag":
            return None
        phrase = _phrase(query.text, query.prefix)
        if phrase is None:
            return None
        return f"{_COLUMN_FILTER[query.field]} : {phrase}"
    if isinstance(query, Or):
        parts = [match_expression(item) for item in query.items]
        if any(part is None for part in parts):
            return None
        return "(" + " OR ".join(f"({part})" for part in parts) + ")"
    if isinstance(query, And):
        positive = [item for item in query.items if not isinstance(item, Not)]
        negative = [item.item for item in query.items if isinstance(item, Not)]
        pos = [match_expression(item) for item in positive]
        neg = [match_expression(item) for item in negative]
        if not pos or any(p is None for p in pos) or any(n is None for n in neg):
            return None
        expression = "(" + " AND ".join(f"({p})" for p in pos) + ")"
        for part in neg:
            expression = f"({expression} NOT ({part}))"
        return expression
    return None


class SqlWhere:
    """Collects a WHERE clause and its parameters."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def where(self, query: Query) -> str:
        if isinstance(query, Term):
            return self._term(query)
        if isinstance(query, MediaType):
            parts = []
            if query.exact:
                parts.append(f"d.mediatype IN ({','.join('?' * len(query.exact))})")
                self.params.extend(query.exact)
            for prefix in query.prefixes:
                parts.append("substr(d.mediatype, 1, ?) = ?")
                self.params.extend([len(prefix), prefix])
            return "(" + (" OR ".join(parts) or "0") + ")"
        if isinstance(query, IsFolder):
            return "d.is_dir = 1" if query.folder else "d.is_dir = 0"
        if isinstance(query, Range):
            column = {"size": "d.size", "mtime": "d.mtime"}[query.field]
            parts = []
            if query.low is not None:
                parts.append(f"{column} {'>=' if query.low_inclusive else '>'} ?")
                self.params.append(query.low)
            if query.high is not None:
                parts.append(f"{column} {'<=' if query.high_inclusive else '<'} ?")
                self.params.append(query.high)
            return "(" + (" AND ".join(parts) or "1") + ")"
        if isinstance(query, And):
            return "(" + " AND ".join(self.where(item) for item in query.items) + ")"
        if isinstance(query, Or):
            return "(" + " OR ".join(self.where(item) for item in query.items) + ")"
        if isinstance(query, Not):
            return f"(NOT {self.where(query.item)})"
        raise TypeError(f"not a query: {query!r}")

    def _term(self, term: Term) -> str:
        if term.field == "tag":
            self.params.append(term.text.lower())
            return "d.rowid IN (SELECT doc FROM doc_tag WHERE tag = ?)"
        if term.pattern:
            self.params.append(_glob(term.text.lower()))
            return "d.name_lc GLOB ?"
        expression = match_expression(term)
        if expression is None:
            # No word characters at all: a part of the name, taken literally.
            if term.field == "content":
                return "0"
            self.params.append("*" + _glob_literal(term.text.lower()) + "*")
            return "d.name_lc GLOB ?"
        self.params.append(expression)
        return "d.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)"


def _glob_literal(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def _glob(pattern: str) -> str:
    """A KQL name pattern (``*`` and ``?``) as a GLOB pattern."""
    return "".join(f"[{c}]" if c in "[]" else c for c in pattern)


def has_content_terms(query: Query) -> bool:
    if isinstance(query, Term):
        return query.field in (None, "content") and not query.pattern
    if isinstance(query, And | Or):
        return any(has_content_terms(item) for item in query.items)
    return False  # what a NOT excludes is not highlighted


def access_match(access: Access) -> str:
    tokens = [token("s", space) for space in sorted(access.spaces)]
    tokens += [token("n", node) for node in sorted(access.nodes)]
    expression = "acl : (" + " OR ".join(f'"{t}"' for t in tokens) + ")"
    if access.scope_folder is not None:
        expression += f' AND acl : "{token("n", access.scope_folder)}"'
    elif access.scope_space is not None:
        expression += f' AND acl : "{token("s", access.scope_space)}"'
    if access.excluded:
        denied = " OR ".join(f'"{token("n", n)}"' for n in sorted(access.excluded))
        expression += f" NOT acl : ({denied})"
    return expression
