"""`wuye profile`: where the time of in-process ``AssistantService.handle`` calls goes (pyinstrument).

Runs ``n`` distinct wordings of the dev questions through a warmed service (the one `wuye` builds from the
configured settings), after a warm-up with test-split questions, under pyinstrument; writes ``profile.html``
and ``summary.txt`` to ``out`` and prints the 15 hottest functions by self time and by cumulative time.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame

from assistant.service import AssistantService
from eval.bench_texts import distinct_texts
from eval.datasets import Question, load

TOP = 15


def hottest(root: Frame) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Functions by self time and by cumulative time (a recursive function counted once per stack)."""
    own: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)

    def walk(frame: Frame, on_stack: frozenset[str]) -> None:
        key = f"{frame.function}  {frame.file_path_short}:{frame.line_no}"
        if not frame.is_synthetic:
            own[key] += frame.total_self_time
            if key not in on_stack:
                total[key] += frame.time
        for child in frame.children:
            walk(child, on_stack | {key})

    walk(root, frozenset())
    return (sorted(own.items(), key=lambda kv: -kv[1])[:TOP], sorted(total.items(), key=lambda kv: -kv[1])[:TOP])


def _table(title: str, rows: Sequence[tuple[str, float]], whole: float) -> list[str]:
    lines = [title, f"{'seconds':>9} {'share':>6}  function  file:line"]
    lines += [f"{s:9.3f} {s / whole:6.1%}  {name}" for name, s in rows]
    return lines


def profile(service: AssistantService, *, n: int = 200, out: Path = Path("var/bench/profile"),
            interval: float = 0.001) -> str:
    """Profile ``n`` handle calls of a warmed service; return (and print) the text summary."""
    for text in [q.text for q in load("questions.jsonl", Question, split="test")][:50]:
        service.handle(text)  # warm-up: torch builds kernels per input length on first use
    # distinct texts: the query-embedding cache must not answer a profiled call
    batch = distinct_texts([q.text for q in load("questions.jsonl", Question, split="dev")], n)

    profiler = Profiler(interval=interval)
    t0 = time.perf_counter()
    profiler.start()
    for text in batch:
        service.handle(text)
    profiler.stop()
    wall = time.perf_counter() - t0

    out.mkdir(parents=True, exist_ok=True)
    (out / "profile.html").write_text(profiler.output_html(), encoding="utf-8")
    root = profiler.last_session.root_frame() if profiler.last_session else None
    if root is None:
        raise RuntimeError("pyinstrument recorded no samples")
    by_self, by_total = hottest(root)
    lines = [f"{n} AssistantService.handle calls in {wall:.2f}s ({wall / n * 1000:.1f} ms each), "
             f"index {service.retriever.index_dir}", ""]
    lines += _table(f"Top {TOP} by self time", by_self, root.time) + [""]
    lines += _table(f"Top {TOP} by cumulative time", by_total, root.time)
    lines += ["", f"HTML profile: {out / 'profile.html'}"]
    summary = "\n".join(lines)
    (out / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    print(summary)
    return summary
