"""The KQL subset: what each pattern means as a query tree, and what is refused."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from app.search.kql import MAX_QUERY_CHARS, QueryError, parse
from app.search.query import And, IsFolder, MediaType, Not, Or, Range, Scope, Term

TODAY = dt.date(2026, 12, 4)  # a Friday


def kql(pattern: str) -> object:
    return parse(pattern, today=lambda: TODAY)


def day(value: str) -> float:
    return time.mktime(dt.date.fromisoformat(value).timetuple())


def test_words_phrases_and_properties() -> None:
    assert kql("fox") == Term(None, "fox")
    assert kql('"brown fox"') == Term(None, "brown fox")
    assert kql('content:"brown fox"') == Term("content", "brown fox")
    assert kql("name:rep*") == Term("name", "rep", prefix=True)
    assert kql("name:*.pdf") == Term("name", "*.pdf", pattern=True)
    assert kql("Tags:Urgent") == Term("tag", "Urgent")
    assert kql("type:folder") == IsFolder(True)
    assert kql("mediatype:image/*") == MediaType(prefixes=("image/",))
    assert kql("mediatype:application/pdf") == MediaType(exact=("application/pdf",))


def test_and_binds_tighter_than_or_and_not_negates() -> None:
    fox, cow, dog = Term(None, "fox"), Term(None, "cow"), Term(None, "dog")
    assert kql("fox cow") == And((fox, cow))
    assert kql("fox AND cow OR dog") == Or((And((fox, cow)), dog))
    assert kql("fox AND (cow OR dog)") == And((fox, Or((cow, dog))))
    assert kql("fox NOT cow") == And((fox, Not(cow)))
    assert kql("fox -cow") == And((fox, Not(cow)))
    assert kql("NOT NOT fox") == fox
    assert kql("fox-cow") == Term(None, "fox-cow")  # a hyphen inside a word


def test_sizes_with_units() -> None:
    assert kql("size>1mb") == Range("size", low=1024**2 + 1)
    assert kql("size<=10k") == Range("size", high=10 * 1024 + 1)
    assert kql("size:300") == Range("size", 300, 301, True, False)


def test_mtime_keywords_dates_and_comparisons() -> None:
    assert kql("mtime:today") == Range("mtime", day("2026-12-04"), day("2026-12-05"))
    assert kql('mtime:"last 7 days"') == Range(
        "mtime", day("2026-11-28"), day("2026-12-05")
    )
    assert kql('mtime:"this week"') == Range(
        "mtime", day("2026-11-30"), day("2026-12-07")
    )
    assert kql('mtime:"last month"') == Range(
        "mtime", day("2026-11-01"), day("2026-12-01")
    )
    assert kql("mtime>=2026-01-01") == Range("mtime", low=day("2026-01-01"))
    assert kql("mtime<2025") == Range("mtime", high=day("2025-01-01"))
    assert kql("mtime>2026-03") == Range("mtime", low=day("2026-04-01"))


def test_scope_names_a_space_or_a_folder() -> None:
    assert kql("scope:st$sp") == Scope("sp")
    assert kql("fox scope:st$sp!nd") == And((Term(None, "fox"), Scope("sp", "nd")))


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty search pattern"),
        ("fox AND", "invalid search pattern"),
        ("(fox", "invalid search pattern"),
        ("colour:red", "unknown property 'colour'"),
        ("name>fox", "name takes ':'"),
        ("size>huge", "invalid size 'huge'"),
        ("mtime:someday", "invalid time 'someday'"),
        ("mtime:2026-13-40", "invalid time '2026-13-40'"),
        ("type:car", "type is 'file' or 'folder'"),
        ("mediatype:banana", "unknown media type 'banana'"),
        ("scope:somewhere", "scope is a space or folder id, not 'somewhere'"),
        ("scope:st$sp!", "scope is a space or folder id"),
        ('name:""', "empty search term"),
        ("x" * (MAX_QUERY_CHARS + 1), "search pattern over"),
    ],
)
def test_what_is_not_kql_is_refused_with_its_reason(pattern: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(")):
        kql(pattern)
