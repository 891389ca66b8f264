"""Server memory during a transfer, read from ``/proc/<pid>/status``.

Before a transfer the peak (VmHWM) of every server process is reset through
``/proc/<pid>/clear_refs`` and the resident size (VmRSS) is noted; afterwards
the growth is the larger of the summed peaks and the largest sampled sum,
minus that baseline. Sampling covers kernels or processes where the reset is
refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

SAMPLE_SECONDS = 0.02


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


def _reset_peak(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (nginx: master and workers)."""
    found = [pid]
    index = 0
    while index < len(found):
        current = found[index]
        index += 1
        try:
            with open(f"/proc/{current}/task/{current}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


class PeakRss:
    """Context manager: ``growth_mib`` is the server's peak RSS growth inside it."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self._pids = pids
        self._stop = threading.Event()
        self._sampled_kib = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.baseline_kib = 0
        self.growth_mib = 0.0

    def _rss_kib(self) -> int:
        return sum(_status_kib(pid, "VmRSS") for pid in self._pids())

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sampled_kib = max(self._sampled_kib, self._rss_kib())

    def __enter__(self) -> PeakRss:
        for pid in self._pids():
            _reset_peak(pid)
        self.baseline_kib = self._rss_kib()
        self._sampled_kib = self.baseline_kib
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        peak = sum(_status_kib(pid, "VmHWM") for pid in self._pids())
        peak = max(peak, self._sampled_kib, self._rss_kib())
        self.growth_mib = (peak - self.baseline_kib) / 1024
