"""Run the benchmark: ``python -m bench.run [--repeats N] [--quick]``.

Starts every server on its own loopback port with data in a temporary folder,
prepares the same fixtures in each, then runs the workloads in interleaved
repeats (each repeat runs every workload on every server, in an order that
rotates between repeats), prints the table and writes it to
bench/results/<timestamp>.md.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import platform
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report, servers
from bench.servers import BenchError, Server
from bench.workloads import (
    QUICK,
    WORKLOADS,
    Context,
    Metric,
    Sizes,
    Workload,
    make_context,
    metrics,
    prepare,
)

RESULTS = Path(__file__).resolve().parent / "results"
NAMES = {"grove": "Grove", "wsgidav": "WsgiDAV", "nginx": "nginx"}
FAILURES = (BenchError, OSError, http.client.HTTPException, subprocess.TimeoutExpired)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--repeats", type=int, help="interleaved repeats (default 5; quick 2)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--threads",
        type=int,
        default=16,
        help="cheroot threads of Grove and WsgiDAV (default 16)",
    )
    parser.add_argument(
        "--wsgi-server",
        choices=("cheroot", "gunicorn"),
        default="cheroot",
        help="what serves Grove and plain WsgiDAV: cheroot with --threads, or "
        "gunicorn with config/gunicorn.conf.py (gthread, 2 workers)",
    )
    parser.add_argument(
        "--servers",
        default="grove,wsgidav,nginx",
        help="comma-separated subset of grove,wsgidav,nginx",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated subset of {','.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--grove-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Grove setting for this run, e.g. durability=none",
    )
    parser.add_argument(
        "--workdir", type=Path, help="parent of the temporary data folder"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="folder for the report"
    )
    args = parser.parse_args(argv)
    unknown = set(args.servers.split(",")) - set(NAMES)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    unknown = set(args.workloads.split(",")) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def _settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--grove-setting wants NAME=VALUE, got {pair!r}")
        settings[name.strip()] = value.strip()
    return settings


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "missing"
    return (done.stdout + done.stderr).strip().splitlines()[0]


def _environment() -> list[str]:
    import cheroot
    import wsgidav

    revision = _version(
        ["git", "-C", str(servers.REPO), "describe", "--always", "--dirty"]
    )
    return [
        f"- machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, WsgiDAV {wsgidav.__version__}, "
        f"cheroot {cheroot.__version__}, {_version(['nginx', '-v'])}, "
        f"{_version(['curl', '--version'])[:12]}",
        f"- Grove revision {revision}",
    ]


def _run_one(
    server: Server, workload: Workload, context: Context, failures: list[str]
) -> dict[str, float]:
    if server.process.poll() is not None:
        failures.append(f"{server.name} had exited before repeat {context.repeat + 1}")
        return {}
    try:
        return workload(server, context)
    except FAILURES as error:
        kind = type(error).__name__
        message = f"repeat {context.repeat + 1}, {server.name}: {kind}: {error}"
        failures.append(message)
        _log("FAILED " + message)
        return {}


def _rows(sizes: Sizes, workloads: list[str]) -> list[Metric]:
    return [metric for metric in metrics(sizes) if metric.workload in workloads]


def measure(
    started: dict[str, Server],
    context: Context,
    repeats: int,
    workloads: list[str],
    failures: list[str],
) -> report.Results:
    keys = list(started)
    results: report.Results = {
        key: {metric.key: [None] * repeats for metric in metrics(context.sizes)}
        for key in keys
    }
    for repeat in range(repeats):
        context.repeat = repeat
        # Rotate the order so no server always runs first (or on a warmer cache).
        order = keys[repeat % len(keys) :] + keys[: repeat % len(keys)]
        previous: Server | None = None
        for label in workloads:
            for key in order:
                # Background work left by the last run must not slow this one.
                for server in (previous, started[key]):
                    if server is not None:
                        servers.settle(server, timeout=60)
                previous = started[key]
                values = _run_one(started[key], WORKLOADS[label], context, failures)
                for name, value in values.items():
                    results[key][name][repeat] = value
                shown = ", ".join(
                    f"{name} {value:.4g}" for name, value in values.items()
                )
                _log(f"repeat {repeat + 1}/{repeats} {label}, {NAMES[key]}: {shown}")
    return results


def _document(
    args: argparse.Namespace,
    sizes: Sizes,
    repeats: int,
    results: report.Results,
    failures: list[str],
    facts: list[str],
    stamp: str,
) -> str:
    rows = _rows(sizes, args.workloads.split(","))
    names = {key: NAMES[key] for key in results}
    grove_settings = _settings(args.grove_setting) or "defaults"
    command = shlex.join(["python", "-m", "bench.run", *(sys.argv[1:])])
    served = (
        "gunicorn (config/gunicorn.conf.py: gthread, 2 workers, 8 threads each)"
        if args.wsgi_server == "gunicorn"
        else f"cheroot with {args.threads} threads"
    )
    lines = [
        f"# Benchmark run {stamp}",
        "",
        f"Command: `{command}`",
        "",
        *facts,
        f"- {repeats} interleaved repeats; Grove and WsgiDAV under {served}; "
        f"Grove settings: {grove_settings}",
        "",
        f"Medians over {repeats} repeats. Ratios: median of per-repeat ratios of "
        "Grove's speed to the other server's (rates: Grove ÷ other; times: other ÷ "
        "Grove); above 1 means Grove is faster. MB = 10^6 bytes.",
        "",
        report.table(rows, results, names),
        "",
        "## Every repeat",
        "",
        report.raw_table(rows, results, names),
    ]
    if failures:
        lines += ["", "## Failures", "", *[f"- {failure}" for failure in failures]]
    return "\n".join(lines) + "\n"


def _loadavg() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sizes = QUICK if args.quick else Sizes()
    repeats = args.repeats or (2 if args.quick else 5)
    keys = args.servers.split(",")
    settings = _settings(args.grove_setting)
    password = secrets.token_urlsafe(16)
    work = Path(tempfile.mkdtemp(prefix="grove-bench-", dir=args.workdir))
    started: dict[str, Server] = {}
    failures: list[str] = []
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    # Taken before the servers start: what they run is the tree as it is now.
    facts = _environment()
    try:
        _log(f"data in {work}; writing the {sizes.big // 2**20} MiB source file")
        context = make_context(sizes, work)
        for key in keys:
            started[key] = servers.start(
                key, work, args.threads, password, settings, args.wsgi_server
            )
            server = started[key]
            _log(f"{server.name} on port {server.port}, pid {server.process.pid}")
        for key in keys:
            prepare(started[key], context)
        for key in keys:
            waited = servers.settle(started[key])
            _log(f"{started[key].name} idle after {waited:.0f} s")
        _log("fixtures ready")
        load_start = _loadavg()
        results = measure(
            started, context, repeats, args.workloads.split(","), failures
        )
        facts.append(
            f"- load average (1, 5, 15 min) at start {load_start}, at end {_loadavg()}"
        )
    finally:
        for server in started.values():
            server.stop()
        if args.keep:
            _log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    document = _document(args, sizes, repeats, results, failures, facts, stamp)
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"{stamp}{'-quick' if args.quick else ''}.md"
    path.write_text(document)
    rows = _rows(sizes, args.workloads.split(","))
    print(report.table(rows, results, {key: NAMES[key] for key in results}))
    _log(f"report written to {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
