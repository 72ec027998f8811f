"""Measurement primitives shared by the benchmark sections: latency percentiles, timing loops, progress lines."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_STARTED = time.perf_counter()
_TICKS = os.sysconf("SC_CLK_TCK")


def pct(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` by nearest rank (no interpolation)."""
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


@dataclass(frozen=True, slots=True)
class Latency:
    """Median, p95 and p99 of a set of per-request times in milliseconds."""

    median_ms: float
    p95_ms: float
    p99_ms: float
    n: int

    @classmethod
    def of(cls, ms: Sequence[float]) -> Latency:
        """Summarise per-request times (an empty list gives zeros)."""
        if not ms:
            return cls(0.0, 0.0, 0.0, 0)
        return cls(round(statistics.median(ms), 2), round(pct(ms, 95), 2), round(pct(ms, 99), 2), len(ms))

    def ratio_to(self, base: Latency) -> float | None:
        """This median over ``base``'s median (None when ``base`` has none)."""
        return round(self.median_ms / base.median_ms, 2) if base.median_ms else None


def summary(ms: Sequence[float]) -> dict[str, float]:
    """The same summary as a plain dict (the shape of the first bench's JSON)."""
    lat = Latency.of(ms)
    return {"median_ms": lat.median_ms, "p95_ms": lat.p95_ms, "p99_ms": lat.p99_ms, "n": lat.n}


def timed(fn: Callable[[str], object], items: Sequence[str]) -> list[float]:
    """Call ``fn`` on every item, one at a time; the wall time of each call in milliseconds."""
    out = []
    for text in items:
        t0 = time.perf_counter()
        fn(text)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def progress(message: str) -> None:
    """One line on stderr with the time since the bench started and the 1-minute load average.

    On a 2-core machine a load average well above 1 while a section measures means something else
    competed for the CPU, and that section's numbers are pessimistic.
    """
    load = os.getloadavg()[0]
    print(f"[bench {time.perf_counter() - _STARTED:7.1f}s load {load:4.1f}] {message}", file=sys.stderr, flush=True)


def machine_busy_s() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat; steal counts as busy)."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / _TICKS


def _own_cpu_s() -> float:
    """CPU seconds of this process and of its children that have exited (the bench's servers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass(frozen=True, slots=True)
class SectionTime:
    """Wall time of a bench section, and the CPU that processes outside the bench used meanwhile.

    ``other_share`` is that CPU over all cores' time: near 0 on a quiet machine; a large share means the
    section's numbers are pessimistic (servers started by the bench count as the bench's own once stopped).
    """

    seconds: float
    other_cpu_s: float
    other_share: float


class Stopwatch:
    """Measures one section: start at construction, :meth:`stop` gives its :class:`SectionTime`."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._busy0 = machine_busy_s()
        self._own0 = _own_cpu_s()

    def stop(self) -> SectionTime:
        """The section's wall time and the other processes' CPU over it."""
        wall = time.perf_counter() - self._t0
        other = max(0.0, (machine_busy_s() - self._busy0) - (_own_cpu_s() - self._own0))
        return SectionTime(round(wall, 1), round(other, 1), round(other / (wall * (os.cpu_count() or 1)), 3))
