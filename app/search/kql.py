"""A KQL subset, parsed with lark, into app.search.query trees.

Supported (what OpenCloud's clients send): ``name:``, ``content:``,
``mediatype:`` (a type such as ``application/pdf``, ``image/*`` or a keyword:
``document``, ``spreadsheet``, ``presentation``, ``pdf``, ``image``,
``video``, ``audio``, ``archive``, ``folder``, ``file``), ``type:`` (``file``
or ``folder``), ``tag:``/``tags:``, ``size`` and ``mtime`` with ``:``, ``=``,
``<``, ``<=``, ``>``, ``>=`` (``mtime:today``, ``"last 7 days"``, ``2024-05-01``
and the other keywords of the capability ``search.property.mtime``);
``scope:`` (a space's or folder's id: search only there); ``AND``, ``OR``,
``NOT`` (and a leading ``-``), parentheses, quoted phrases, implicit AND
between terms, ``*`` for a prefix or (in ``name``) a pattern.
Not supported: NEAR/ONEAR, synonyms, ranking terms, date intervals.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import time
from collections.abc import Callable

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, VisitError

from app.errors import BadRequest
from app.search.query import (
    And,
    IsFolder,
    MediaType,
    Not,
    Or,
    Query,
    Range,
    Scope,
    Term,
)

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND? not_expr)*
?not_expr: _NOT not_expr     -> negation
         | _MINUS not_expr   -> negation
         | atom
?atom: "(" or_expr ")"
     | WORD OPERATOR value   -> restriction
     | value                 -> bare
?value: PHRASE | WORD

_OR.3: /OR(?=[\s()]|$)/
_AND.3: /AND(?=[\s()]|$)/
_NOT.3: /NOT(?=[\s()]|$)/
_MINUS.3: /-(?=[^\s()-])/
OPERATOR.2: ">=" | "<=" | "<>" | ">" | "<" | ":" | "="
PHRASE: /"(?:[^"\\]|\\.)*"/
WORD: /[^\s()":<>=]+/

%import common.WS
%ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)

MAX_QUERY_CHARS = 2000

# mediatype keywords (capability search.property.mediatype) -> media types.
_DOCUMENT = (
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "application/rtf",
    "text/plain",
    "text/markdown",
)
_SPREADSHEET = (
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
    "text/csv",
)
_PRESENTATION = (
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.presentation",
)
_ARCHIVE = (
    "application/zip",
    "application/x-tar",
    "application/gzip",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/x-bzip2",
    "application/x-xz",
)
MEDIA_KEYWORDS: dict[str, MediaType] = {
    "document": MediaType(exact=_DOCUMENT),
    "spreadsheet": MediaType(exact=_SPREADSHEET),
    "presentation": MediaType(exact=_PRESENTATION),
    "pdf": MediaType(exact=("application/pdf",)),
    "image": MediaType(prefixes=("image/",)),
    "video": MediaType(prefixes=("video/",)),
    "audio": MediaType(prefixes=("audio/",)),
    "archive": MediaType(exact=_ARCHIVE),
}

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2}
_UNITS |= {"g": 1024**3, "gb": 1024**3, "t": 1024**4, "tb": 1024**4}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


class QueryError(BadRequest):
    """The search pattern is not KQL that Grove understands."""


def _text(token: Token | str) -> str:
    value = str(token)
    if value.startswith('"'):
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _is_phrase(token: Token | str) -> bool:
    return str(token).startswith('"')


def _term(field: str | None, token: Token | str) -> Query:
    text = _text(token).strip()
    if not text:
        raise QueryError("empty search term")
    if field == "name" and ("?" in text or "*" in text.rstrip("*")):
        return Term("name", text, pattern=True)
    if field == "name" and text.startswith("*"):
        return Term("name", text, pattern=True)
    prefix = text.endswith("*")
    text = text.rstrip("*").strip()
    if not text:
        # "*" alone: anything (a name pattern matches every name).
        return Term("name", "*", pattern=True)
    if field == "tag":
        return Term("tag", text)
    return Term(field, text, prefix=prefix)


def _media(token: Token | str) -> Query:
    value = _text(token).strip().lower()
    if value == "folder":
        return IsFolder(True)
    if value == "file":
        return IsFolder(False)
    if value in MEDIA_KEYWORDS:
        return MEDIA_KEYWORDS[value]
    if value.endswith("/*") or value.endswith("/"):
        return MediaType(prefixes=(value.rstrip("*"),))
    if value.endswith("*"):
        return MediaType(prefixes=(value.rstrip("*"),))
    if "/" not in value:
        raise QueryError(f"unknown media type {value!r}")
    return MediaType(exact=(value,))


def _size(token: Token | str) -> float:
    match = _SIZE.fullmatch(_text(token).strip().lower())
    if match is None or match.group(2) not in _UNITS:
        raise QueryError(f"invalid size {_text(token)!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _day_start(day: dt.date) -> float:
    return time.mktime(day.timetuple())


def _month_start(year: int, month: int) -> dt.date:
    while month < 1:
        year, month = year - 1, month + 12
    while month > 12:
        year, month = year + 1, month - 12
    return dt.date(year, month, 1)


def _mtime_span(value: str, today: dt.date) -> tuple[float, float] | None:
    """The [start, end) of a keyword or a date, in epoch seconds (local time)."""
    week_start = today - dt.timedelta(days=today.weekday())
    spans: dict[str, tuple[dt.date, dt.date]] = {
        "today": (today, today + dt.timedelta(days=1)),
        "yesterday": (today - dt.timedelta(days=1), today),
        "this week": (week_start, week_start + dt.timedelta(days=7)),
        "last week": (week_start - dt.timedelta(days=7), week_start),
        "this month": (
            _month_start(today.year, today.month),
            _month_start(today.year, today.month + 1),
        ),
        "last month": (
            _month_start(today.year, today.month - 1),
            _month_start(today.year, today.month),
        ),
        "this year": (dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)),
        "last year": (dt.date(today.year - 1, 1, 1), dt.date(today.year, 1, 1)),
    }
    key = " ".join(value.lower().split())
    if key in spans:
        start, end = spans[key]
        return _day_start(start), _day_start(end)
    match = re.fullmatch(r"last (\d{1,4}) days?", key)
    if match:
        start = today - dt.timedelta(days=int(match.group(1)) - 1)
        return _day_start(start), _day_start(today + dt.timedelta(days=1))
    return _date_span(key)


def _date_span(value: str) -> tuple[float, float] | None:
    """A date (a day, a month or a year) or an ISO date and time (one second)."""
    try:
        if re.fullmatch(r"\d{4}", value):
            year = int(value)
            return _day_start(dt.date(year, 1, 1)), _day_start(dt.date(year + 1, 1, 1))
        if re.fullmatch(r"\d{4}-\d{2}", value):
            year, month = map(int, value.split("-"))
            start = _month_start(year, month)
            return _day_start(start), _day_start(_month_start(year, month + 1))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            return _day_start(day), _day_start(day + dt.timedelta(days=1))
        moment = dt.datetime.fromisoformat(value.upper().replace(" ", "T"))
    except (ValueError, OverflowError):
        return None
    if moment.tzinfo is None:
        seconds = time.mktime(moment.timetuple())
    else:
        seconds = float(calendar.timegm(moment.utctimetuple()))
    return seconds, seconds + 1


def _compare(field: str, op: str, span: tuple[float, float]) -> Query:
    start, end = span
    if op in (":", "="):
        return Range(field, start, end, True, False)
    if op == "<>":
        return Not(Range(field, start, end, True, False))
    if op == ">":
        return Range(field, low=end, low_inclusive=True)
    if op == ">=":
        return Range(field, low=start, low_inclusive=True)
    if op == "<":
        return Range(field, high=start, high_inclusive=False)
    return Range(field, high=end, high_inclusive=False)  # <=


def _restriction(prop: str, op: str, token: Token | str, today: dt.date) -> Query:
    prop = prop.lower()
    if prop in ("name", "content"):
        if op not in (":", "="):
            raise QueryError(f"{prop} takes ':', not {op!r}")
        return _term(prop, token)
    if prop in ("tag", "tags"):
        if op not in (":", "="):
            raise QueryError(f"{prop} takes ':', not {op!r}")
        return _term("tag", token)
    if prop in ("mediatype", "mimetype"):
        if op not in (":", "="):
            raise QueryError(f"{prop} takes ':', not {op!r}")
        return _media(token)
    if prop == "type":
        kind = _text(token).strip().lower()
        if kind not in ("file", "folder") or op not in (":", "="):
            raise QueryError("type is 'file' or 'folder'")
        return IsFolder(kind == "folder")
    if prop == "scope":
        if op not in (":", "="):
            raise QueryError(f"scope takes ':', not {op!r}")
        return _scope(_text(token).strip())
    if prop == "size":
        size = _size(token)
        return _compare("size", op, (size, size + 1))
    if prop == "mtime":
        span = _mtime_span(_text(token), today)
        if span is None:
            raise QueryError(f"invalid time {_text(token)!r}")
        return _compare("mtime", op, span)
    raise QueryError(f"unknown property {prop!r}")


def _scope(value: str) -> Scope:
    """``<storage>$<space>`` (a space) or ``<storage>$<space>!<node>`` (a folder)."""
    drive, bang, node = value.partition("!")
    space = drive.rpartition("$")[2]
    if "$" not in drive or not space or (bang and not node):
        raise QueryError(f"scope is a space or folder id, not {value!r}")
    return Scope(space, node or None)


def _flatten(kind: type[And] | type[Or], items: list[Query]) -> Query:
    out: list[Query] = []
    for item in items:
        out.extend(item.items if isinstance(item, kind) else (item,))
    return out[0] if len(out) == 1 else kind(tuple(out))


class _Build(Transformer[Token, Query]):
    def __init__(self, today: dt.date) -> None:
        super().__init__()
        self.today = today

    def or_expr(self, items: list[Query]) -> Query:
        return _flatten(Or, items)

    def and_expr(self, items: list[Query]) -> Query:
        return _flatten(And, items)

    @v_args(inline=True)
    def negation(self, item: Query) -> Query:
        return item.item if isinstance(item, Not) else Not(item)

    @v_args(inline=True)
    def restriction(self, prop: Token, op: Token, value: Token) -> Query:
        return _restriction(str(prop), str(op), value, self.today)

    @v_args(inline=True)
    def bare(self, value: Token) -> Query:
        return _term(None, value)


def parse(pattern: str, *, today: Callable[[], dt.date] = dt.date.today) -> Query:
    """The query tree of a KQL pattern; QueryError (400) when it is not KQL."""
    if len(pattern) > MAX_QUERY_CHARS:
        raise QueryError(f"search pattern over {MAX_QUERY_CHARS} characters")
    if not pattern.strip():
        raise QueryError("empty search pattern")
    try:
        tree = _PARSER.parse(pattern)
        built = _Build(today()).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, QueryError):
            raise error.orig_exc from None
        raise
    except LarkError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise QueryError(f"invalid search pattern: {first}") from None
    if isinstance(built, Token):
        # A lone value that the transformer left as a token (a single word).
        return _term(None, built)
    return built
