"""The benchmark's verdicts: medians per server and per-repeat ratios."""

from __future__ import annotations

from bench import report
from bench.workloads import Metric

RATE = Metric("w", "rate", "a rate", "req/s", "higher")
TIME = Metric("w", "time", "a time", "s", "lower")
MEMORY = Metric("w", "memory", "memory growth", "MiB", None)


def test_ratio_is_the_median_of_per_repeat_speed_ratios():
    grove = [10.0, 30.0, 20.0]
    other = [5.0, 10.0, 40.0]  # per repeat: 2.0, 3.0, 0.5

    assert report.ratio(RATE, grove, other) == 2.0
    assert report.ratio(TIME, grove, other) == 0.5  # times: other ÷ Grove


def test_failed_repeats_leave_the_ratio_and_the_median():
    assert report.ratio(RATE, [10.0, None, 30.0], [5.0, 5.0, None]) == 2.0
    assert report.median([None, 3.0, 1.0]) == 2.0
    assert report.ratio(MEMORY, [1.0], [2.0]) is None


def test_table_shows_medians_and_ratios_against_each_other_server():
    results = {
        "grove": {"rate": [10.0, 12.0, 11.0], "time": [1.0, 2.0, 3.0]},
        "nginx": {"rate": [100.0, 120.0, 110.0], "time": [0.1, 0.2, 0.3]},
    }

    lines = report.table([RATE, TIME], results, {"grove": "Grove", "nginx": "nginx"})

    assert lines.splitlines()[0] == "| workload | unit | Grove | nginx | Grove/nginx |"
    assert "| a rate | req/s | 11.0 | 110 | 0.10 |" in lines
    assert "| a time | s | 2.000 | 0.200 | 0.10 |" in lines
