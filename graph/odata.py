"""The OData query options the libre-graph API takes: ``$select``, ``$expand``,
``$orderby``, ``$top``, ``$skip``, ``$search`` and a subset of ``$filter``.

``$filter`` understands comparisons (``eq``, ``ne``), ``startswith(p,'v')``,
``any`` over a collection (``memberOf/any(x:x/id eq <id>)``), ``and``, ``or``,
``not`` and parentheses; anything else is refused with 400, never ignored.
Filters run over rows already loaded (directories here are small).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import marshmallow as ma

from app.errors import BadRequest
from graph.api import QuerySchema
from graph.errors import NotSupported

T = TypeVar("T")
Predicate = Callable[[Any], bool]

_TOKEN = re.compile(r"\s*('(?:[^']|'')*'|\(|\)|,|[^\s(),']+)")
MAX_FILTER = 2000
# Parentheses and ``not`` nest by recursion: deeper is refused, not a RecursionError.
MAX_DEPTH = 32


class ListQuery(QuerySchema):
    """Query options of a collection (each one optional)."""

    select = ma.fields.String(data_key="$select")
    expand = ma.fields.String(data_key="$expand")
    orderby = ma.fields.String(data_key="$orderby")
    filter = ma.fields.String(data_key="$filter")
    search = ma.fields.String(data_key="$search")
    top = ma.fields.Integer(data_key="$top", validate=ma.validate.Range(min=0))
    skip = ma.fields.Integer(data_key="$skip", validate=ma.validate.Range(min=0))


class ItemQuery(QuerySchema):
    """Query options of one object."""

    select = ma.fields.String(data_key="$select")
    expand = ma.fields.String(data_key="$expand")


def names(
    value: str | None,
    allowed: Iterable[str],
    option: str,
    unsupported: Iterable[str] = (),
) -> set[str]:
    """A comma-separated option (``$select``, ``$expand``) checked against
    ``allowed``; empty when absent. Names in ``unsupported`` (the libre-graph
    document knows them, Grove does not implement them) raise NotSupported."""
    if not value:
        return set()
    found = {part.strip() for part in value.split(",") if part.strip()}
    missing = found & set(unsupported)
    if missing:
        listed = ", ".join(sorted(missing))
        raise NotSupported(f"{option}={listed} is not supported by Grove")
    unknown = found - set(allowed)
    if unknown:
        raise BadRequest(f"{option} does not take {', '.join(sorted(unknown))}")
    return found


def order(
    items: list[T], value: str | None, keys: Mapping[str, Callable[[T], Any]]
) -> list[T]:
    """Sort by ``$orderby`` (``field`` or ``field desc``, comma-separated)."""
    if not value:
        return items
    for part in reversed([p.strip() for p in value.split(",") if p.strip()]):
        field, _, direction = part.partition(" ")
        direction = direction.strip().lower() or "asc"
        if field not in keys or direction not in ("asc", "desc"):
            raise BadRequest(f"$orderby does not take {part!r}")
        items = sorted(items, key=keys[field], reverse=direction == "desc")
    return items


def page(items: Sequence[T], top: int | None, skip: int | None) -> list[T]:
    start = skip or 0
    return list(items[start : None if top is None else start + top])


def search_term(value: str | None) -> str:
    """``$search`` without the double quotes OData puts around a phrase."""
    if value is None:
        return ""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value.strip().lower()


@dataclass(frozen=True)
class Vocabulary:
    """What a ``$filter`` may name: properties (a getter each) and collections
    (a getter returning one mapping of properties per member)."""

    properties: Mapping[str, Callable[[Any], Any]]
    collections: Mapping[str, Callable[[Any], Iterable[Mapping[str, Any]]]]
    unsupported: frozenset[str] = frozenset()


class _Parser:
    def __init__(self, text: str, vocabulary: Vocabulary) -> None:
        if len(text) > MAX_FILTER:
            raise BadRequest("$filter is too long")
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0
        self.vocabulary = vocabulary

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.at != len(self.tokens):
            raise BadRequest(f"$filter: unexpected {self.tokens[self.at]!r}")
        return predicate

    def _peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if not token or (expected is not None and token.lower() != expected):
            wanted = expected or "more"
            raise BadRequest(f"$filter: expected {wanted!r}, found {token or 'end'!r}")
        self.at += 1
        return token

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek().lower() == "or":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda row: any(p(row) for p in parts)

    def _and(self) -> Predicate:
        parts = [self._factor()]
        while self._peek().lower() == "and":
            self._take()
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else lambda row: all(p(row) for p in parts)

    def _factor(self) -> Predicate:
        self.depth += 1
        try:
            return self._nested()
        finally:
            self.depth -= 1

    def _nested(self) -> Predicate:
        if self.depth > MAX_DEPTH:
            raise BadRequest(f"$filter nests deeper than {MAX_DEPTH} levels")
        token = self._peek()
        if token.lower() == "not":
            self._take()
            inner = self._factor()
            return lambda row: not inner(row)
        if token == "(":
            self._take()
            inner = self._or()
            self._take(")")
            return inner
        if token.lower() == "startswith":
            return self._startswith(self.vocabulary.properties)
        if token.endswith("/any"):
            return self._any()
        return self._comparison(self.vocabulary.properties, "")

    def _property(
        self, token: str, properties: Mapping[str, Callable[[Any], Any]], prefix: str
    ) -> Callable[[Any], Any]:
        name = token[len(prefix) :] if prefix and token.startswith(prefix) else token
        if prefix and not token.startswith(prefix):
            raise BadRequest(f"$filter: {token!r} must start with {prefix!r}")
        if name in self.vocabulary.unsupported:
            raise NotSupported(f"$filter on {name!r} is not supported by Grove")
        getter = properties.get(name)
        if getter is None:
            raise BadRequest(f"$filter: unknown property {name!r}")
        return getter

    def _comparison(
        self, properties: Mapping[str, Callable[[Any], Any]], prefix: str
    ) -> Predicate:
        getter = self._property(self._take(), properties, prefix)
        operator = self._take().lower()
        if operator not in ("eq", "ne"):
            raise BadRequest(f"$filter: operator {operator!r} is not supported")
        value = _literal(self._take())
        if operator == "eq":
            return lambda row: _same(getter(row), value)
        return lambda row: not _same(getter(row), value)

    def _startswith(
        self, properties: Mapping[str, Callable[[Any], Any]], prefix: str = ""
    ) -> Predicate:
        self._take()
        self._take("(")
        getter = self._property(self._take(), properties, prefix)
        self._take(",")
        value = str(_literal(self._take())).lower()
        self._take(")")
        return lambda row: str(getter(row) or "").lower().startswith(value)

    def _any(self) -> Predicate:
        collection = self._take()[: -len("/any")]
        if collection in self.vocabulary.unsupported:
            raise NotSupported(f"$filter on {collection!r} is not supported by Grove")
        members = self.vocabulary.collections.get(collection)
        if members is None:
            raise BadRequest(f"$filter: unknown collection {collection!r}")
        self._take("(")
        variable, colon, first = self._take().partition(":")
        if not colon or not variable:
            raise BadRequest("$filter: any() needs a lambda such as x:x/id eq …")
        self.tokens.insert(self.at, first)
        properties = _MemberProperties()
        if self._peek().lower() == "startswith":
            raise BadRequest("$filter: startswith inside any() is not supported")
        inner = self._comparison(properties, f"{variable}/")
        self._take(")")
        return lambda row: any(inner(member) for member in members(row))


class _MemberProperties(dict[str, Callable[[Any], Any]]):
    """Any property of a collection member, read from its mapping."""

    def get(self, key: str, default: Any = None) -> Callable[[Any], Any]:
        return lambda member: member.get(key)


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise BadRequest(f"$filter: cannot read {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    if not tokens:
        raise BadRequest("$filter is empty")
    return tokens


def _literal(token: str) -> Any:
    if len(token) >= 2 and token[0] == token[-1] == "'":
        return token[1:-1].replace("''", "'")
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if token in ("(", ")", ","):
        raise BadRequest(f"$filter: expected a value, found {token!r}")
    return token  # bare values: ids, as the libre-graph examples write them


def _same(found: Any, value: Any) -> bool:
    if isinstance(found, str) and isinstance(value, str):
        return found.lower() == value.lower()
    return bool(found == value)


def compile_filter(text: str | None, vocabulary: Vocabulary) -> Predicate | None:
    """A predicate for ``$filter`` (None when absent); BadRequest if unreadable."""
    if not text:
        return None
    return _Parser(text, vocabulary).parse()
