"""A STAND-IN for an Elasticsearch 9 server, for tests only.

No Elasticsearch server can be installed here (neither Debian nor PyPI ships
one), so the Elasticsearch backend's contract tests run against this small
HTTP server, written from the Elasticsearch REST API documentation for the
requests the official client makes for Grove: index exists/create/delete,
``_bulk`` (index, update with doc_as_upsert, delete), ``_search`` (bool,
term, terms, range, prefix, wildcard, match_phrase, match_phrase_prefix;
from/size, sort, search_after, track_total_hits, _source_includes,
highlight), ``_delete_by_query``, ``_count``, ``_refresh``. Text fields are
analysed as the index's custom analyzer says (pattern tokenizer on
non-letters/digits, lowercase, ASCII folding); keyword fields with a
lowercase normalizer are lowercased. Scores are simple term counts, not BM25.
With GROVE_TEST_ELASTICSEARCH_URL set, the same tests also run against a real
server.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PRODUCT_HEADERS = {
    "X-Elastic-Product": "Elasticsearch",
    "Content-Type": "application/vnd.elasticsearch+json;compatible-with=9",
}


def analyse(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", folded.lower())


class Index:
    def __init__(self, body: dict[str, Any]) -> None:
        self.mappings = body.get("mappings", {}).get("properties", {})
        self.docs: dict[str, dict[str, Any]] = {}

    def field(self, name: str) -> dict[str, Any]:
        top, _, sub = name.partition(".")
        mapping = self.mappings.get(top, {})
        if sub:
            mapping = mapping.get("fields", {}).get(sub, {})
        return mapping

    def values(self, doc_id: str, source: dict[str, Any], name: str) -> list[Any]:
        if name == "_id":
            return [doc_id]
        raw = source.get(name.partition(".")[0])
        if raw is None:
            return []
        items = raw if isinstance(raw, list) else [raw]
        mapping = self.field(name)
        if mapping.get("type") == "keyword" and mapping.get("normalizer"):
            return [str(item).lower() for item in items]
        return items

    def tokens(self, source: dict[str, Any], name: str) -> list[list[str]]:
        raw = source.get(name.partition(".")[0])
        if raw is None:
            return []
        items = raw if isinstance(raw, list) else [raw]
        return [analyse(str(item)) for item in items]

    # --- queries ----------------------------------------------------------

    def match(
        self, doc_id: str, source: dict[str, Any], query: dict[str, Any]
    ) -> float | None:
        """The score if ``query`` matches, None if not."""
        kind, spec = next(iter(query.items()))
        if kind == "match_all":
            return 1.0
        if kind == "bool":
            return self._bool(doc_id, source, spec)
        if kind == "term":
            name, value = next(iter(spec.items()))
            value = value["value"] if isinstance(value, dict) else value
            return 1.0 if self._equal(doc_id, source, name, value) else None
        if kind == "terms":
            name, wanted = next(iter(spec.items()))
            return (
                1.0
                if any(self._equal(doc_id, source, name, v) for v in wanted)
                else None
            )
        if kind == "range":
            name, bounds = next(iter(spec.items()))
            for value in self.values(doc_id, source, name):
                if _in_range(value, bounds):
                    return 1.0
            return None
        if kind == "prefix":
            name, value = next(iter(spec.items()))
            value = value["value"] if isinstance(value, dict) else value
            values = self.values(doc_id, source, name)
            return 1.0 if any(str(v).startswith(value) for v in values) else None
        if kind == "wildcard":
            name, value = next(iter(spec.items()))
            pattern = value["value"] if isinstance(value, dict) else value
            pattern = pattern.replace("[", "[[]").replace("\\\\", "\\")
            values = self.values(doc_id, source, name)
            hit = any(fnmatch.fnmatchcase(str(v), pattern) for v in values)
            return 1.0 if hit else None
        if kind in ("match_phrase", "match_phrase_prefix"):
            name, value = next(iter(spec.items()))
            text = value["query"] if isinstance(value, dict) else value
            wanted = analyse(text)
            count = 0
            for tokens in self.tokens(source, name):
                count += _phrase_count(tokens, wanted, kind == "match_phrase_prefix")
            return float(count) if count else None
        raise ValueError(f"stand-in does not know query {kind!r}")

    def _equal(
        self, doc_id: str, source: dict[str, Any], name: str, value: Any
    ) -> bool:
        mapping = self.field(name)
        if mapping.get("normalizer") and isinstance(value, str):
            value = value.lower()
        return value in self.values(doc_id, source, name)

    def _bool(
        self, doc_id: str, source: dict[str, Any], spec: dict[str, Any]
    ) -> float | None:
        score = 0.0
        for clause in _list(spec.get("filter")):
            if self.match(doc_id, source, clause) is None:
                return None
        for clause in _list(spec.get("must_not")):
            if self.match(doc_id, source, clause) is not None:
                return None
        for clause in _list(spec.get("must")):
            found = self.match(doc_id, source, clause)
            if found is None:
                return None
            score += found
        should = _list(spec.get("should"))
        if should:
            default = 0 if spec.get("must") or spec.get("filter") else 1
            needed = int(spec.get("minimum_should_match", default))
            matched = 0
            for clause in should:
                found = self.match(doc_id, source, clause)
                if found is not None:
                    matched += 1
                    score += found
            if matched < needed:
                return None
        return score

    def search(
        self, body: dict[str, Any], includes: list[str] | None
    ) -> dict[str, Any]:
        query = body.get("query", {"match_all": {}})
        found = []
        for doc_id, source in self.docs.items():
            score = self.match(doc_id, source, query)
            if score is not None:
                found.append((doc_id, source, score))
        sort = body.get("sort") or [{"_score": "desc"}]

        def keys(item: tuple[str, dict[str, Any], float]) -> list[Any]:
            doc_id, source, score = item
            out = []
            for spec in sort:
                name, order = next(iter(spec.items()))
                order = order if isinstance(order, str) else order.get("order", "asc")
                if name == "_score":
                    value: Any = score
                else:
                    values = self.values(doc_id, source, name)
                    value = values[0] if values else ""
                out.append((value, order))
            return out

        def ordering(item: tuple[str, dict[str, Any], float]) -> list[Any]:
            return [_Ordered(v, o) for v, o in keys(item)]

        found.sort(key=ordering)
        after = body.get("search_after")
        if after is not None:
            found = [item for item in found if _after(keys(item), after)]
        total = len(found)
        start = int(body.get("from", 0))
        size = int(body.get("size", 10))
        hits = []
        for doc_id, source, score in found[start : start + size]:
            shown = {
                k: v for k, v in source.items() if includes is None or k in includes
            }
            hit: dict[str, Any] = {
                "_index": "grove",
                "_id": doc_id,
                "_score": score,
                "_source": shown,
            }
            if body.get("sort"):
                hit["sort"] = [v for v, _ in keys((doc_id, source, score))]
            highlight = body.get("highlight")
            if highlight:
                fragments = _highlight(source, query, highlight)
                if fragments:
                    hit["highlight"] = fragments
            hits.append(hit)
        return {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": total, "relation": "eq"},
                "max_score": max((h["_score"] for h in hits), default=None),
                "hits": hits,
            },
        }


class _Ordered:
    def __init__(self, value: Any, order: str) -> None:
        self.value, self.order = value, order

    def __lt__(self, other: _Ordered) -> bool:
        if self.order == "desc":
            return bool(other.value < self.value)
        return bool(self.value < other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ordered) and self.value == other.value


def _after(keys: list[tuple[Any, str]], after: list[Any]) -> bool:
    for (value, order), last in zip(keys, after, strict=False):
        if value == last:
            continue
        return bool(value < last) if order == "desc" else bool(value > last)
    return False


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _in_range(value: Any, bounds: dict[str, Any]) -> bool:
    checks = {
        "gte": lambda b: value >= b,
        "gt": lambda b: value > b,
        "lte": lambda b: value <= b,
        "lt": lambda b: value < b,
    }
    return all(checks[key](bound) for key, bound in bounds.items() if key in checks)


def _phrase_count(tokens: list[str], wanted: list[str], prefix: bool) -> int:
    if not wanted:
        return 0
    count = 0
    for start in range(len(tokens) - len(wanted) + 1):
        window = tokens[start : start + len(wanted)]
        if prefix:
            ok = window[:-1] == wanted[:-1] and window[-1].startswith(wanted[-1])
        else:
            ok = window == wanted
        count += ok
    return count


def _content_terms(
    query: Any, out: list[tuple[str, bool]], negated: bool = False
) -> None:
    if isinstance(query, list):
        for item in query:
            _content_terms(item, out, negated)
        return
    if not isinstance(query, dict):
        return
    for kind, spec in query.items():
        if kind in ("match_phrase", "match_phrase_prefix") and "content" in spec:
            if not negated:
                value = spec["content"]
                text = value["query"] if isinstance(value, dict) else value
                out.extend((t, kind.endswith("prefix")) for t in analyse(text))
        elif kind == "bool":
            for key, clause in spec.items():
                _content_terms(clause, out, negated or key == "must_not")


def _highlight(
    source: dict[str, Any], query: dict[str, Any], spec: dict[str, Any]
) -> dict[str, list[str]]:
    text = source.get("content")
    if "content" not in spec.get("fields", {}) or not text:
        return {}
    terms: list[tuple[str, bool]] = []
    _content_terms(query, terms)
    if not terms:
        return {}
    pre = spec.get("pre_tags", ["<em>"])[0]
    post = spec.get("post_tags", ["</em>"])[0]
    size = spec["fields"]["content"].get("fragment_size", 100)
    first = None
    pieces = []
    last = 0
    for match in re.finditer(r"[^\W_]+", text):
        word = analyse(match.group())
        hit = word and any(
            word[0] == t or (prefix and word[0].startswith(t)) for t, prefix in terms
        )
        if hit:
            if first is None:
                first = match.start()
            pieces.append(text[last : match.start()] + pre + match.group() + post)
            last = match.end()
    if first is None:
        return {}
    pieces.append(text[last:])
    marked = "".join(pieces)
    begin = max(0, marked.find(pre) - size // 3)
    return {"content": [marked[begin : begin + size + 40]]}


class StandIn:
    """The stand-in server on a loopback port; ``url`` for the client."""

    def __init__(self) -> None:
        self.version = "9.0.0"  # what GET / reports
        self.indices: dict[str, Index] = {}
        self.lock = threading.Lock()
        self.requests: list[str] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for key, value in PRODUCT_HEADERS.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                params = parse_qs(parts.query)
                segments = [s for s in parts.path.split("/") if s]
                standin.requests.append(f"{self.command} {parts.path}")
                with standin.lock:
                    status, body = standin.route(
                        self.command, segments, params, self._body()
                    )
                self._answer(status, body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(
        self, method: str, segments: list[str], params: dict[str, list[str]], raw: bytes
    ) -> tuple[int, Any]:
        if not segments:
            return 200, {
                "version": {"number": self.version},
                "tagline": "You Know, for Search",
            }
        name = segments[0]
        action = segments[1] if len(segments) > 1 else ""
        index = self.indices.get(name)
        if not action:
            if method == "HEAD":
                return (200 if index else 404), None
            if method == "PUT":
                if index is not None:
                    return 400, {"error": {"type": "resource_already_exists_exception"}}
                self.indices[name] = Index(json.loads(raw or b"{}"))
                return 200, {"acknowledged": True, "index": name}
            if method == "DELETE":
                self.indices.pop(name, None)
                return 200, {"acknowledged": True}
        if index is None:
            return 404, {"error": {"type": "index_not_found_exception"}, "status": 404}
        body = json.loads(raw) if raw.strip() and action != "_bulk" else {}
        includes = params.get("_source_includes")
        if action == "_bulk":
            return 200, self._bulk(index, raw)
        if action == "_search":
            fields = includes[0].split(",") if includes else None
            return 200, index.search(body, fields)
        if action == "_count":
            return 200, {"count": len(index.docs)}
        if action == "_refresh":
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if action == "_delete_by_query":
            query = body.get("query", {"match_all": {}})
            gone = [
                i for i, s in index.docs.items() if index.match(i, s, query) is not None
            ]
            for doc_id in gone:
                del index.docs[doc_id]
            return 200, {"deleted": len(gone), "failures": []}
        return 400, {"error": {"type": "stand_in_unsupported", "reason": action}}

    def _bulk(self, index: Index, raw: bytes) -> dict[str, Any]:
        lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        items = []
        position = 0
        while position < len(lines):
            action, meta = next(iter(lines[position].items()))
            doc_id = meta["_id"]
            position += 1
            if action == "delete":
                found = index.docs.pop(doc_id, None)
                status = 200 if found is not None else 404
                result = "deleted" if found is not None else "not_found"
                items.append(
                    {"delete": {"_id": doc_id, "status": status, "result": result}}
                )
                continue
            source = lines[position]
            position += 1
            if action == "index":
                created = doc_id not in index.docs
                index.docs[doc_id] = source
                status = 201 if created else 200
            elif action == "update":
                created = doc_id not in index.docs
                if created and not source.get("doc_as_upsert"):
                    items.append({"update": {"_id": doc_id, "status": 404}})
                    continue
                index.docs.setdefault(doc_id, {}).update(source["doc"])
                status = 201 if created else 200
            else:
                raise ValueError(f"stand-in does not know bulk action {action!r}")
            items.append({action: {"_id": doc_id, "status": status}})
        return {"took": 1, "errors": False, "items": items}
