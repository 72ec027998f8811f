"""`python -m eval.profile`: where the time of in-process ``AssistantService.handle`` calls goes (pyinstrument).

Runs ``--n`` distinct wordings of the dev questions through the service built from the configured
settings (index, model), after a warm-up with test-split questions, under pyinstrument; writes
``profile.html`` and ``summary.txt`` to ``--out`` and prints the 15 hottest functions by self time
and by cumulative time.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame

from api.settings import get_settings
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


def main(argv: Sequence[str] | None = None) -> str:
    """Profile ``--n`` handle calls; return (and print) the text summary."""
    parser = argparse.ArgumentParser(prog="python -m eval.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="handle calls to profile (dev questions, cycled)")
    parser.add_argument("--out", type=Path, default=Path("var/bench/profile"), help="folder for the HTML profile")
    parser.add_argument("--interval", type=float, default=0.001, help="sampling interval in seconds")
    args = parser.parse_args(argv)

    settings = get_settings()
    service = AssistantService.from_settings(settings.ingest, settings.assistant)
    service.warm_up()
    for text in [q.text for q in load("questions.jsonl", Question, split="test")][:50]:
        service.handle(text)  # warm-up: torch builds kernels per input length on first use
    # distinct texts: the query-embedding cache must not answer a profiled call
    batch = distinct_texts([q.text for q in load("questions.jsonl", Question, split="dev")], args.n)

    profiler = Profiler(interval=args.interval)
    t0 = time.perf_counter()
    profiler.start()
    for text in batch:
        service.handle(text)
    profiler.stop()
    wall = time.perf_counter() - t0

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile.html").write_text(profiler.output_html(), encoding="utf-8")
    root = profiler.last_session.root_frame() if profiler.last_session else None
    if root is None:
        raise SystemExit("pyinstrument recorded no samples")
    by_self, by_total = hottest(root)
    lines = [f"{args.n} AssistantService.handle calls in {wall:.2f}s ({wall / args.n * 1000:.1f} ms each), "
             f"index {settings.ingest.index_dir}", ""]
    lines += _table(f"Top {TOP} by self time", by_self, root.time) + [""]
    lines += _table(f"Top {TOP} by cumulative time", by_total, root.time)
    lines += ["", f"HTML profile: {args.out / 'profile.html'}"]
    summary = "\n".join(lines)
    (args.out / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    print(summary)
    return summary


if __name__ == "__main__":
    main()
