"""Turn per-repeat measurements into the markdown tables of the report.

A server's figure is the median over repeats. A ratio is Grove's speed
relative to the other server (rates: Grove ÷ other, times: other ÷ Grove, so
above 1 means Grove is faster), taken per repeat and then the median of those,
as issue 3 prescribes: both servers of one repeat ran minutes apart at most,
so machine noise mostly cancels in the ratio.
"""

from __future__ import annotations

import statistics

from bench.workloads import Metric

# results[server key][metric key] is one value per repeat (None when it failed).
Results = dict[str, dict[str, list[float | None]]]


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f}"
    if unit == "ms":
        return f"{value:.1f}" if value < 100 else f"{value:.0f}"
    if unit == "MiB" or unit == "cores":
        return f"{value:.1f}"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def ratio(
    metric: Metric, grove: list[float | None], other: list[float | None]
) -> float | None:
    """Median of per-repeat speed ratios (above 1: Grove faster)."""
    if metric.better is None:
        return None
    ratios = []
    for mine, theirs in zip(grove, other, strict=False):
        if mine is None or theirs is None or mine <= 0 or theirs <= 0:
            continue
        ratios.append(mine / theirs if metric.better == "higher" else theirs / mine)
    return statistics.median(ratios) if ratios else None


def table(metrics: list[Metric], results: Results, names: dict[str, str]) -> str:
    """The summary table: medians per server and Grove's ratios to the others."""
    servers = [key for key in names if key in results]
    others = [key for key in servers if key != "grove"] if "grove" in servers else []
    header = ["workload", "unit"] + [names[key] for key in servers]
    header += [f"Grove/{names[key]}" for key in others]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for metric in metrics:
        if not metric.shown:
            continue
        cells = [metric.label, metric.unit]
        cells += [
            _format(median(results[key][metric.key]), metric.unit) for key in servers
        ]
        for key in others:
            value = ratio(
                metric, results["grove"][metric.key], results[key][metric.key]
            )
            cells.append("—" if value is None else f"{value:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def raw_table(metrics: list[Metric], results: Results, names: dict[str, str]) -> str:
    """Every measured value, one row per metric and server."""
    lines = ["| workload | server | per repeat |", "| --- | --- | --- |"]
    for metric in metrics:
        for key in names:
            if key not in results:
                continue
            values = ", ".join(
                _format(v, metric.unit) for v in results[key][metric.key]
            )
            lines.append(
                f"| {metric.label} ({metric.unit}) | {names[key]} | {values} |"
            )
    return "\n".join(lines)
