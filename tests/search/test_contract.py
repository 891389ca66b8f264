"""The search backend contract: what every backend answers alike.

Runs once per backend (see conftest.py: fts5, elasticsearch-standin and,
with GROVE_TEST_ELASTICSEARCH_URL, elasticsearch-server).
"""

from __future__ import annotations

import time

from app.search.backend import Backend, Document
from app.search.kql import parse
from app.search.query import Access

NOW = time.time()
DAY = 86400.0

ALICE = Access(frozenset({"space-a"}))
BOB = Access(frozenset({"space-b"}))


def doc(node_id: str, path: str, **values: object) -> Document:
    space = str(values.pop("space", "space-a"))
    parts = path.split("/")
    ancestors = values.pop("ancestors", [space])
    fields: dict[str, object] = {
        "node_id": node_id,
        "space_id": space,
        "parent_id": values.pop("parent", space),
        "path": path,
        "name": parts[-1],
        "is_dir": False,
        "size": 100,
        "mtime": NOW,
        "mediatype": "text/plain",
        "tags": [],
        "ancestors": ancestors,
        "content": "",
        "stamp": f"stamp-{node_id}",
    }
    fields.update(values)
    return Document(**fields)  # type: ignore[arg-type]


def corpus(backend: Backend) -> None:
    backend.upsert(
        [
            doc(
                "d1",
                "Reports/Quarterly Report 2024.pdf",
                parent="f-reports",
                ancestors=["space-a", "f-reports"],
                mediatype="application/pdf",
                size=5_000_000,
                mtime=NOW - 40 * DAY,
                content="The quick brown fox jumps over the lazy dog. Revenue grew.",
                tags=["Finance", "urgent"],
            ),
            doc(
                "d2",
                "notes.md",
                mediatype="text/markdown",
                size=300,
                content="Meeting notes: the brown cow and the fox were discussed.",
            ),
            doc(
                "d3",
                "holiday.jpg",
                mediatype="image/jpeg",
                size=2_000_000,
                mtime=NOW - 400 * DAY,
            ),
            doc(
                "f-reports",
                "Reports",
                is_dir=True,
                mediatype="httpd/unix-directory",
                size=5_000_000,
                stamp="",
            ),
            doc(
                "d5",
                "Reports/Budget.xlsx",
                parent="f-reports",
                ancestors=["space-a", "f-reports"],
                mediatype=(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                ),
                content="Budget lines for the zebra project",
                tags=["finance"],
            ),
            doc(
                "b1",
                "secret.txt",
                space="space-b",
                ancestors=["space-b"],
                content="brown fox secret plans",
            ),
        ]
    )
    backend.refresh()


def names(backend: Backend, pattern: str, access: Access = ALICE) -> list[str]:
    results = backend.search(parse(pattern), access, limit=50)
    return sorted(hit.name for hit in results.hits)


def test_a_bare_word_finds_names_and_content(backend: Backend) -> None:
    corpus(backend)
    assert names(backend, "fox") == ["Quarterly Report 2024.pdf", "notes.md"]
    assert names(backend, "budget") == ["Budget.xlsx"]
    assert names(backend, "REPORT") == ["Quarterly Report 2024.pdf"]


def test_name_words_patterns_and_case(backend: Backend) -> None:
    corpus(backend)
    assert names(backend, "name:report") == ["Quarterly Report 2024.pdf"]
    assert names(backend, "name:reports") == ["Reports"]
    assert names(backend, 'name:"*.PDF"') == ["Quarterly Report 2024.pdf"]
    assert names(backend, "name:note*") == ["notes.md"]
    assert names(backend, "name:h?liday.jpg") == ["holiday.jpg"]
    assert names(backend, "name:fox") == []


def test_content_phrases_keep_word_order(backend: Backend) -> None:
    corpus(backend)
    assert names(backend, 'content:"brown fox"') == ["Quarterly Report 2024.pdf"]
    assert names(backend, 'content:"fox brown"') == []
    assert names(backend, "content:zeb*") == ["Budget.xlsx"]
    assert names(backend, "content:notes") == ["notes.md"]


def test_tags_match_whole_tags_in_any_case(backend: Backend) -> None:
    corpus(backend)
    assert names(backend, "tag:FINANCE") == ["Budget.xlsx", "Quarterly Report 2024.pdf"]
    assert names(backend, "tag:urgent") == ["Quarterly Report 2024.pdf"]
    assert names(backend, "tag:fin") == []


def test_media_types_and_keywords(backend: Backend) -> None:
    corpus(backend)
    assert names(backend, "mediatype:pdf") == ["Quarterly Report 2024.pdf"]
    assert names(backend, "mediatype:image") == ["holiday.jpg"]
    assert names(backend, "mediatype:image/*") == ["holiday.jpg"]
    assert names(backend, "mediatype:spreadsheet") == ["Budget.xlsx"]
    assert names(backend, "mediatype:folder") == ["Reports"]
    assert names(backend, "type:file AND name:report*") == ["Quarterly Report 2024.pdf"]


def test_size_and_time_ranges(backend: Backend) -> None:
    corpus(backend)
    assert names(backend, "size>1mb") == [
        "Quarterly Report 2024.pdf",
        "Reports",
        "holiday.jpg",
    ]
    assert names(backend, "size<=300 AND type:file") == ["Budget.xlsx", "notes.md"]
    assert names(backend, "mtime:today AND type:file") == ["Budget.xlsx", "notes.md"]
    assert names(backend, 'mtime:"last 7 days" AND NOT type:folder') == [
        "Budget.xlsx",
        "notes.md",
    ]
    assert names(backend, "mtime<2020-01-01") == []
    assert names(backend, 'mtime:"last year" OR mtime:"this year"') != []


def test_boolean_operators(backend: Backend) -> None:
    corpus(backend)
    assert names(backend, "fox AND NOT cow") == ["Quarterly Report 2024.pdf"]
    assert names(backend, "fox -cow") == ["Quarterly Report 2024.pdf"]
    assert names(backend, "zebra OR cow") == ["Budget.xlsx", "notes.md"]
    assert names(backend, "(zebra OR cow) AND mediatype:document") == ["notes.md"]
    assert names(backend, "NOT fox AND type:file") == ["Budget.xlsx", "holiday.jpg"]
    assert names(backend, "tag:finance OR size>1mb AND mediatype:image") == [
        "Budget.xlsx",
        "Quarterly Report 2024.pdf",
        "holiday.jpg",
    ]


def test_access_limits_every_answer(backend: Backend) -> None:
    corpus(backend)
    assert names(backend, "secret") == []
    assert names(backend, "secret", BOB) == ["secret.txt"]
    assert names(backend, "fox", BOB) == ["secret.txt"]
    assert names(backend, "fox", Access(frozenset())) == []
    # A shared folder: it and everything below it, nothing beside it.
    shared = Access(frozenset(), frozenset({"f-reports"}))
    assert names(backend, "name:*", shared) == [
        "Budget.xlsx",
        "Quarterly Report 2024.pdf",
        "Reports",
    ]
    assert names(backend, "fox", shared) == ["Quarterly Report 2024.pdf"]


def test_excluded_folders_are_neither_found_nor_counted(backend: Backend) -> None:
    """A folder kept from the user (the Denied role) inside a space they may
    read: nothing at or below it is a hit, and the total does not count it,
    so the total cannot tell whether a word occurs in there."""
    corpus(backend)
    denied = Access(frozenset({"space-a"}), excluded=frozenset({"f-reports"}))
    assert names(backend, "fox", denied) == ["notes.md"]
    assert names(backend, "name:*", denied) == sorted(
        set(names(backend, "name:*"))
        - {"Budget.xlsx", "Quarterly Report 2024.pdf", "Reports"}
    )
    for pattern in ("revenue", "name:Budget.xlsx", "fox"):
        total = backend.search(parse(pattern), denied, limit=10).total
        assert total == len(names(backend, pattern, denied)), pattern


def test_scopes_narrow_to_a_space_or_folder(backend: Backend) -> None:
    corpus(backend)
    both = Access(frozenset({"space-a", "space-b"}))
    assert names(backend, "fox", both) == [
        "Quarterly Report 2024.pdf",
        "notes.md",
        "secret.txt",
    ]
    in_b = Access(frozenset({"space-a", "space-b"}), scope_space="space-b")
    assert names(backend, "fox", in_b) == ["secret.txt"]
    in_folder = Access(frozenset({"space-a"}), scope_folder="f-reports")
    assert names(backend, "name:*", in_folder) == [
        "Budget.xlsx",
        "Quarterly Report 2024.pdf",
    ]


def test_hits_carry_metadata_highlights_and_scores(backend: Backend) -> None:
    corpus(backend)
    results = backend.search(parse('content:"brown fox"'), ALICE, limit=10)
    [hit] = results.hits
    assert (hit.node_id, hit.space_id, hit.parent_id) == ("d1", "space-a", "f-reports")
    assert hit.path == "Reports/Quarterly Report 2024.pdf"
    assert hit.size == 5_000_000 and hit.mediatype == "application/pdf"
    assert abs(hit.mtime - (NOW - 40 * DAY)) < 1
    assert sorted(hit.tags) == ["Finance", "urgent"]
    assert "<mark>" in hit.highlights and "fox" in hit.highlights.lower()
    assert hit.score > 0
    plain = backend.search(parse("size>1mb"), ALICE, limit=10)
    assert all(h.highlights == "" for h in plain.hits)


def test_limit_offset_and_total(backend: Backend) -> None:
    backend.upsert(
        doc(f"n{i:02d}", f"file {i:02d}.txt", content="common") for i in range(25)
    )
    backend.refresh()
    first = backend.search(parse("common"), ALICE, limit=10)
    second = backend.search(parse("common"), ALICE, limit=10, offset=10)
    last = backend.search(parse("common"), ALICE, limit=10, offset=20)
    assert (first.total, second.total, last.total) == (25, 25, 25)
    seen = [h.node_id for h in first.hits + second.hits + last.hits]
    assert len(seen) == 25 and len(set(seen)) == 25


def test_metadata_update_keeps_content_and_moves_access(backend: Backend) -> None:
    corpus(backend)
    moved = doc(
        "d2",
        "Reports/notes.md",
        parent="f-reports",
        ancestors=["space-a", "f-reports"],
        mediatype="text/markdown",
        content=None,  # only the metadata changed
        stamp="stamp-d2",
    )
    backend.upsert([moved])
    backend.refresh()
    shared = Access(frozenset(), frozenset({"f-reports"}))
    assert names(backend, "cow", shared) == ["notes.md"]
    [hit] = backend.search(parse("cow"), shared, limit=5).hits
    assert hit.path == "Reports/notes.md"
    assert backend.known(["d2", "nope"]) == {"d2": ("stamp-d2", "Reports/notes.md")}


def test_deletes(backend: Backend) -> None:
    corpus(backend)
    assert backend.count() == 6
    assert set(backend.children("f-reports")) == {"d1", "d5"}
    backend.delete(["d2", "missing"])
    backend.refresh()
    assert names(backend, "cow") == []
    backend.delete_subtree("f-reports")
    backend.refresh()
    assert names(backend, "name:*") == ["holiday.jpg"]
    backend.delete_space("space-b")
    backend.refresh()
    assert names(backend, "name:*", BOB) == []
    assert backend.count() == 1


def test_replacing_a_document_replaces_its_content_and_tags(backend: Backend) -> None:
    corpus(backend)
    backend.upsert([doc("d2", "notes.md", content="entirely new words", tags=["x"])])
    backend.refresh()
    assert names(backend, "cow") == []
    assert names(backend, "entirely") == ["notes.md"]
    assert names(backend, "tag:x") == ["notes.md"]


def test_pages_and_totals_count_only_what_access_allows(backend: Backend) -> None:
    # Many better matches the user may not read, a few they may: permissions
    # filtered inside the query give full pages and true totals.
    others = (
        doc(f"o{i:02d}", f"other {i:02d}.txt", space="space-b", content="apple " * 9)
        for i in range(40)
    )
    backend.upsert(others)
    backend.upsert(doc(f"m{i}", f"mine {i}.txt", content="apple pie") for i in range(3))
    backend.refresh()

    page = backend.search(parse("apple"), ALICE, limit=2)
    rest = backend.search(parse("apple"), ALICE, limit=2, offset=2)

    assert page.total == rest.total == 3
    assert len(page.hits) == 2 and len(rest.hits) == 1
    assert {h.space_id for h in page.hits + rest.hits} == {"space-a"}
