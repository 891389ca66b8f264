"""Full-text search at scale: ``python -m bench.search [--documents N] [--quick]``.

Writes N text files (default 100,000) for 100 users into a temporary data
folder, indexes them with ``grove index rebuild`` (SQLite FTS5, the default
backend) and times searches of one user who may read 1 % of the documents:
half in their own space, half in a folder another user shared with them.
Who may read what is part of the FTS5 query (app.search.fts), so the index
looks at that user's documents only. Each query runs through
``app.search.service.search`` (permissions, backend, each hit checked against
the node table) and, once per query, as a WebDAV REPORT over loopback HTTP.

Prints a Markdown table: median and 95th percentile per query, hits found.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cheroot import wsgi

from app import roles, shares, spaces, users
from app.auth.principal import Principal
from app.config import Settings, load_settings
from app.factory import create_app
from app.perms import Perm
from app.search import service

USERS = 100
PASSWORD = "bench-password-1"
GROVE = Path(sys.executable).parent / "grove"
VOCABULARY = 20_000
WORDS_PER_DOCUMENT = 60
DAY = 86400.0

REPORT = (
    '<?xml version="1.0"?><oc:search-files xmlns:d="DAV:" '
    'xmlns:oc="http://owncloud.org/ns"><oc:search><oc:pattern>{}</oc:pattern>'
    "<oc:limit>100</oc:limit></oc:search></oc:search-files>"
)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _words(rng: random.Random) -> list[str]:
    """A vocabulary of made-up words, most frequent first."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    seen: set[str] = set()
    while len(seen) < VOCABULARY:
        seen.add("".join(rng.choices(letters, k=rng.randint(4, 9))))
    return sorted(seen)


class Corpus:
    """Zipf-distributed words, so a few are everywhere and most are rare."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.words = _words(self.rng)
        # Cumulated once: choices() would add up 20,000 weights at every call.
        weights = [1.0 / rank for rank in range(1, VOCABULARY + 1)]
        self.cumulated = list(itertools.accumulate(weights))

    def text(self, count: int) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cumulated, k=count)
        return " ".join(words)

    def word(self, rank: int) -> str:
        return self.words[rank]


def _write_files(folder: Path, count: int, corpus: Corpus, now: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        name = f"{corpus.text(2).replace(' ', '-')}-{number}"
        name += ".md" if number % 4 == 0 else ".txt"
        path = folder / name
        path.write_text(corpus.text(WORDS_PER_DOCUMENT) + "\n")
        moment = now - corpus.rng.uniform(0, 730) * DAY
        os.utime(path, (moment, moment))


def populate(settings: Settings, documents: int, corpus: Corpus) -> None:
    """USERS users, documents/USERS files each in folders of 100; the searcher
    u000 holds half of a share and u001 shares it the other half."""
    per_user = documents // USERS
    half = per_user // 2
    now = time.time()
    for number in range(USERS):
        name = f"u{number:03d}"
        users.add(settings.storage_dir, name, PASSWORD)
        home = settings.storage_dir / "users" / name
        count = per_user + (half if number == USERS - 1 else 0)
        if number == 0:
            count = per_user - half
        if number == 1:
            _write_files(home / "shared", half, corpus, now)
            count -= half
        for start in range(0, count, 100):
            left = min(100, count - start)
            _write_files(home / f"folder-{start // 100:03d}", left, corpus, now)


def share_with_searcher(settings: Settings, grove: object) -> None:
    owner = users.get("u001")
    tree = grove.tree(spaces.personal_space(owner))  # type: ignore[attr-defined]
    shares.share(
        Principal(user_id=str(owner.id), name="u001"),
        tree.item(["shared"]),
        Perm.owner(),
        grantee_type="user",
        grantee_id="u000",
        role=roles.VIEWER.id,
    )


def rebuild(settings: Settings) -> float:
    """``grove index rebuild`` as an admin runs it; the seconds it took."""
    started = time.monotonic()
    subprocess.run(
        [str(GROVE), "index", "rebuild", "--data", str(settings.data)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GROVE_ADMIN_PASSWORD": PASSWORD},
    )
    return time.monotonic() - started


def queries(corpus: Corpus) -> list[tuple[str, str]]:
    common, middle, rare = corpus.word(0), corpus.word(50), corpus.word(3000)
    return [
        ("a frequent word", common),
        ("a middling word", middle),
        ("a rare word", rare),
        ("a phrase", f'"{corpus.word(1)} {corpus.word(2)}"'),
        ("two words, one excluded", f"{corpus.word(3)} {corpus.word(4)} -{middle}"),
        ("name prefix", f"name:{corpus.word(5)[:3]}*"),
        ("type and time range", 'mediatype:document AND mtime>"last year"'),
        ("size range and word", f"size>300 AND {corpus.word(6)}"),
    ]


def _time(run: object, repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _report_over_http(port: int, pattern: str) -> int:
    import base64

    auth = base64.b64encode(f"u000:{PASSWORD}".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(
        "REPORT",
        "/remote.php/dav/files/u000/",
        body=REPORT.format(pattern.replace("&", "&amp;").replace("<", "&lt;")),
        headers={"Authorization": f"Basic {auth}"},
    )
    answer = connection.getresponse()
    answer.read()
    connection.close()
    if answer.status != 207:
        raise RuntimeError(f"REPORT answered {answer.status}")
    return answer.status


def measure(settings: Settings, corpus: Corpus, repeats: int, port: int) -> list[str]:
    user = users.get("u000")
    principal = Principal(user_id=str(user.id), name="u000")
    readable = set()
    rows = [
        "| query | KQL | hits for u000 | median ms | p95 ms | REPORT median ms "
        "| REPORT p95 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    everything: list[float] = []
    every_report: list[float] = []
    for label, pattern in queries(corpus):

        def once(pattern: str = pattern) -> service.Page:
            return service.search(settings, principal, pattern, limit=100)

        page = once()
        readable |= {found.space.id for found in page.found}
        once()  # warm
        _report_over_http(port, pattern)  # and the first sign-in (argon2) done
        timings = _time(once, repeats)
        over_http = _time(lambda p=pattern: _report_over_http(port, p), repeats)
        everything += timings
        every_report += over_http
        rows.append(_row(label, f"`{pattern}`", str(page.total), timings, over_http))
    rows.append(_row("**all queries**", "", "", everything, every_report))
    own = spaces.personal_space(user).id
    shared_from = spaces.personal_space(users.get("u001")).id
    if not readable <= {own, shared_from}:
        raise RuntimeError(f"hits outside what u000 may read: {readable}")
    return rows


def _row(
    label: str, pattern: str, hits: str, timings: list[float], report: list[float]
) -> str:
    return (
        f"| {label} | {pattern} | {hits} | {statistics.median(timings):.1f} | "
        f"{_p95(timings):.1f} | {statistics.median(report):.1f} | "
        f"{_p95(report):.1f} |"
    )


def prepare(settings: Settings, documents: int, corpus: Corpus) -> float:
    """Users, files and the index; the seconds ``grove index rebuild`` took."""
    app = create_app(settings)
    _log(f"writing {documents} files for {USERS} users")
    populate(settings, documents, corpus)
    share_with_searcher(settings, app.grove)
    _log("grove index rebuild")
    seconds = rebuild(settings)
    (settings.data / "bench-rebuild-seconds").write_text(f"{seconds}\n")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="10,000 documents")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the data here; a second run reuses it (no files written again)",
    )
    args = parser.parse_args(argv)
    documents = 10_000 if args.quick else args.documents
    corpus = Corpus()

    with tempfile.TemporaryDirectory(prefix="grove-bench-search-") as folder:
        data = args.data or Path(folder) / "data"
        settings = load_settings(
            environ={}, overrides={"data": data, "admin_password": PASSWORD}
        )
        marker = data / "bench-rebuild-seconds"
        if marker.exists():
            seconds = float(marker.read_text())
        else:
            seconds = prepare(settings, documents, corpus)
        app = create_app(settings)
        service.reset()
        count = service.backend(settings).count()
        _log(f"{count} documents in the index")

        server = wsgi.Server(("127.0.0.1", 0), app, numthreads=4)
        server.prepare()
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        try:
            rows = measure(settings, corpus, args.repeats, server.bind_addr[1])
        finally:
            server.stop()
            service.reset()
            app.grove.database.close()

    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout.strip()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Grove {revision}, load average at the end {load}.\n")
    print(
        f"{count} documents indexed (FTS5, files and folders) in {seconds:.0f} s "
        f"by `grove index rebuild` ({count / seconds:.0f} documents/s); user u000 "
        f"may read {documents // USERS} of the files ({100 / USERS:.0f} %); "
        f"{args.repeats} repeats per query, limit 100.\n"
    )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
