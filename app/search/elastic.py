"""The Elasticsearch backend, for large deployments: the official client.

The client is pinned to major version 9 (requirements.txt): it talks to
Elasticsearch 9.x servers (the client's major version must match the
server's). One index (``search_elasticsearch_index``) holds every document,
id = node id. Who may read a document is its ``acl`` keywords (its space,
the folders above it and itself), filtered in the query (a ``terms``
filter), like the FTS5 backend's ``acl`` column. Text is analysed with a
pattern tokenizer (letters and digits) plus lowercase and ASCII folding,
which splits names the way SQLite's unicode61 tokenizer does.

Tests run the shared contract suite against a local stand-in written from
the Elasticsearch API documentation (tests/search/es_standin.py), and against
a real server when GROVE_TEST_ELASTICSEARCH_URL is set.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from elastic_transport import TransportError
from elasticsearch import Elasticsearch, NotFoundError

from app.config import Settings
from app.errors import SearchUnavailable
from app.search.backend import Backend, Document, Hit, Results
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

SERVER_MAJOR = 9  # the server version the pinned client speaks to

INDEX_BODY: dict[str, Any] = {
    "settings": {
        "analysis": {
            "normalizer": {"grove_lower": {"type": "custom", "filter": ["lowercase"]}},
            "tokenizer": {
                "grove_words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}
            },
            "analyzer": {
                "grove_text": {
                    "type": "custom",
                    "tokenizer": "grove_words",
                    "filter": ["lowercase", "asciifolding"],
                }
            },
        }
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "node_id": {"type": "keyword"},
            "space_id": {"type": "keyword"},
            "parent_id": {"type": "keyword"},
            "path": {"type": "keyword"},
            "name": {
                "type": "text",
                "analyzer": "grove_text",
                "fields": {"lc": {"type": "keyword", "normalizer": "grove_lower"}},
            },
            "content": {"type": "text", "analyzer": "grove_text"},
            "tags": {
                "type": "keyword",
                "normalizer": "grove_lower",
                "fields": {"text": {"type": "text", "analyzer": "grove_text"}},
            },
            "acl": {"type": "keyword"},
            "ancestors": {"type": "keyword"},
            "mediatype": {"type": "keyword"},
            "size": {"type": "long"},
            "mtime": {"type": "double"},
            "is_dir": {"type": "boolean"},
            "stamp": {"type": "keyword", "index": False},
        },
    },
}

_SOURCE = [
    "node_id",
    "space_id",
    "parent_id",
    "path",
    "name",
    "is_dir",
    "size",
    "mtime",
    "mediatype",
    "tags",
]


class VersionMismatch(RuntimeError):
    """The server's major version is not the one the pinned client speaks."""


def space_token(space_id: str) -> str:
    return "s:" + space_id


def node_token(node_id: str) -> str:
    return "n:" + node_id


def _wildcard(pattern: str) -> str:
    return pattern.replace("\\", "\\\\")


def _phrase(field: str, term: Term) -> dict[str, Any]:
    kind = "match_phrase_prefix" if term.prefix else "match_phrase"
    return {kind: {field: {"query": term.text}}}


_FIELDS = {None: ["name", "content", "tags.text"], "name": ["name"]}
_FIELDS["content"] = ["content"]


def translate(query: Query) -> dict[str, Any]:
    """A query tree in Elasticsearch's query DSL."""
    if isinstance(query, Term):
        if query.field == "tag":
            return {"term": {"tags": query.text.lower()}}
        if query.pattern:
            return {"wildcard": {"name.lc": {"value": _wildcard(query.text.lower())}}}
        fields = _FIELDS[query.field]
        if len(fields) == 1:
            return _phrase(fields[0], query)
        should = [_phrase(field, query) for field in fields]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    if isinstance(query, MediaType):
        types: list[dict[str, Any]] = []
        if query.exact:
            types.append({"terms": {"mediatype": list(query.exact)}})
        types.extend({"prefix": {"mediatype": p}} for p in query.prefixes)
        return {"bool": {"should": types, "minimum_should_match": 1}}
    if isinstance(query, IsFolder):
        return {"term": {"is_dir": query.folder}}
    if isinstance(query, Range):
        bounds: dict[str, float] = {}
        if query.low is not None:
            bounds["gte" if query.low_inclusive else "gt"] = query.low
        if query.high is not None:
            bounds["lte" if query.high_inclusive else "lt"] = query.high
        return {"range": {query.field: bounds}}
    if isinstance(query, And):
        return {"bool": {"must": [translate(item) for item in query.items]}}
    if isinstance(query, Or):
        should = [translate(item) for item in query.items]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    if isinstance(query, Not):
        return {"bool": {"must_not": [translate(query.item)]}}
    raise TypeError(f"not a query: {query!r}")


def _has_content_terms(query: Query) -> bool:
    if isinstance(query, Term):
        return query.field in (None, "content") and not query.pattern
    if isinstance(query, And | Or):
        return any(_has_content_terms(item) for item in query.items)
    return False


def access_filter(access: Access) -> list[dict[str, Any]]:
    tokens = [space_token(s) for s in sorted(access.spaces)]
    tokens += [node_token(n) for n in sorted(access.nodes)]
    filters: list[dict[str, Any]] = [{"terms": {"acl": tokens}}]
    if access.scope_folder is not None:
        filters.append({"term": {"acl": node_token(access.scope_folder)}})
        filters.append({"bool": {"must_not": [{"term": {"_id": access.scope_folder}}]}})
    elif access.scope_space is not None:
        filters.append({"term": {"space_id": access.scope_space}})
    if access.excluded:
        denied = [node_token(n) for n in sorted(access.excluded)]
        filters.append({"bool": {"must_not": [{"terms": {"acl": denied}}]}})
    return filters


def _source(doc: Document) -> dict[str, Any]:
    source: dict[str, Any] = {
        "node_id": doc.node_id,
        "space_id": doc.space_id,
        "parent_id": doc.parent_id,
        "path": doc.path,
        "name": doc.name,
        "tags": doc.tags,
        "acl": [
            space_token(doc.space_id),
            *(node_token(a) for a in doc.ancestors),
            node_token(doc.node_id),
        ],
        "ancestors": doc.ancestors,
        "mediatype": doc.mediatype,
        "size": doc.size,
        "mtime": doc.mtime,
        "is_dir": doc.is_dir,
        "stamp": doc.stamp,
    }
    if doc.content is not None:
        source["content"] = doc.content
    return source


@contextmanager
def _reachable() -> Iterator[None]:
    """Connection failures as SearchUnavailable (503), without the URL: it may
    carry credentials."""
    try:
        yield
    except TransportError as error:
        raise SearchUnavailable(
            f"the Elasticsearch server cannot be reached ({type(error).__name__})"
        ) from None


class ElasticBackend(Backend):
    def __init__(self, client: Elasticsearch, index: str) -> None:
        self.client = client
        self.index = index
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ElasticBackend:
        if not settings.search_elasticsearch_url:
            raise ValueError(
                "search_backend = elasticsearch needs search_elasticsearch_url"
            )
        client = Elasticsearch(settings.search_elasticsearch_url, request_timeout=30)
        return cls(client, settings.search_elasticsearch_index)

    def _ensure(self) -> None:
        if self._ready:
            return
        with self._lock, _reachable():
            self._check_version()
            if not self.client.indices.exists(index=self.index):
                self.client.indices.create(
                    index=self.index,
                    settings=INDEX_BODY["settings"],
                    mappings=INDEX_BODY["mappings"],
                )
            self._ready = True

    def _check_version(self) -> None:
        number = str(self.client.info()["version"]["number"])
        if number.split(".")[0] != str(SERVER_MAJOR):
            raise VersionMismatch(
                f"Elasticsearch server {number!r}: Grove's client (elasticsearch "
                f"{SERVER_MAJOR}.x) needs a server of major version {SERVER_MAJOR}"
            )

    def close(self) -> None:
        self.client.close()

    # --- writing --------------------------------------------------------------

    def _bulk(self, operations: list[dict[str, Any]]) -> None:
        if not operations:
            return
        self._ensure()
        answer = self.client.bulk(index=self.index, operations=operations)
        if answer.get("errors"):
            failed = [
                item
                for item in answer["items"]
                for action in item.values()
                if action.get("status", 200) >= 300 and action.get("status") != 404
            ]
            if failed:
                raise RuntimeError(f"Elasticsearch refused {len(failed)}: {failed[:1]}")

    def upsert(self, documents: Iterable[Document]) -> None:
        operations: list[dict[str, Any]] = []
        for doc in documents:
            if doc.content is None:
                operations.append({"update": {"_id": doc.node_id}})
                operations.append({"doc": _source(doc), "doc_as_upsert": True})
            else:
                operations.append({"index": {"_id": doc.node_id}})
                operations.append(_source(doc))
            if len(operations) >= 1000:
                self._bulk(operations)
                operations = []
        self._bulk(operations)

    def delete(self, node_ids: Iterable[str]) -> None:
        self._bulk([{"delete": {"_id": node_id}} for node_id in node_ids])

    def _delete_where(self, query: dict[str, Any]) -> None:
        self._ensure()
        self.client.delete_by_query(
            index=self.index, query=query, refresh=True, conflicts="proceed"
        )

    def delete_subtree(self, node_id: str) -> None:
        self._delete_where({"term": {"acl": node_token(node_id)}})

    def delete_space(self, space_id: str) -> None:
        self._delete_where({"term": {"space_id": space_id}})

    def refresh(self) -> None:
        self._ensure()
        self.client.indices.refresh(index=self.index)

    # --- reading --------------------------------------------------------------

    def _all(
        self, query: dict[str, Any], fields: list[str]
    ) -> Iterator[dict[str, Any]]:
        """Every matching document's source, in pages ordered by id."""
        self._ensure()
        after: list[Any] | None = None
        for _ in range(100_000):
            answer = self.client.search(
                index=self.index,
                query=query,
                size=1000,
                sort=[{"node_id": "asc"}],
                source_includes=fields,
                search_after=after,
            )
            hits = answer["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            if len(hits) < 1000:
                return
            after = hits[-1]["sort"]

    def known(self, node_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        wanted = list(node_ids)
        out: dict[str, tuple[str, str]] = {}
        for start in range(0, len(wanted), 1000):
            query = {"terms": {"node_id": wanted[start : start + 1000]}}
            for source in self._all(query, ["node_id", "stamp", "path"]):
                out[source["node_id"]] = (source.get("stamp", ""), source["path"])
        return out

    def children(self, parent_id: str) -> dict[str, str]:
        query = {"term": {"parent_id": parent_id}}
        return {s["node_id"]: s["path"] for s in self._all(query, ["node_id", "path"])}

    def count(self) -> int:
        self._ensure()
        return int(self.client.count(index=self.index)["count"])

    def search(
        self, query: Query, access: Access, *, limit: int, offset: int = 0
    ) -> Results:
        if access.empty:
            return Results([], 0)
        self._ensure()
        highlight = None
        if _has_content_terms(query):
            highlight = {
                "fields": {"content": {"number_of_fragments": 1, "fragment_size": 160}},
                "pre_tags": ["<mark>"],
                "post_tags": ["</mark>"],
            }
        try:
            with _reachable():
                answer = self._search(query, access, limit, offset, highlight)
        except NotFoundError:
            return Results([], 0)
        return _results(answer)

    def _search(
        self,
        query: Query,
        access: Access,
        limit: int,
        offset: int,
        highlight: dict[str, Any] | None,
    ) -> Any:
        return self.client.search(
            index=self.index,
            query={
                "bool": {
                    "filter": access_filter(access),
                    "must": [translate(query)],
                }
            },
            from_=offset,
            size=limit,
            sort=[{"_score": "desc"}, {"name.lc": "asc"}],
            track_total_hits=True,
            source_includes=_SOURCE,
            highlight=highlight,
        )


def _results(answer: Any) -> Results:
    hits = []
    for found in answer["hits"]["hits"]:
        source = found["_source"]
        fragments = found.get("highlight", {}).get("content", [])
        hits.append(
            Hit(
                node_id=source["node_id"],
                space_id=source["space_id"],
                parent_id=source.get("parent_id"),
                path=source["path"],
                name=source["name"],
                is_dir=bool(source["is_dir"]),
                size=int(source["size"]),
                mtime=float(source["mtime"]),
                mediatype=source["mediatype"],
                tags=list(source.get("tags") or []),
                score=round(float(found.get("_score") or 0.0), 6),
                highlights=" … ".join(fragments),
            )
        )
    return Results(hits, int(answer["hits"]["total"]["value"]))
