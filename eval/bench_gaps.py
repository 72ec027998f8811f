"""Gap report figures: clustering quality on the KB's own paraphrase groups, clustering time for N questions, and a
gap report from replaying the eval's out-of-KB and failed questions through the assistant.

    wuye bench-gaps [--n 10000] [--repeats 5] [--out var/bench] [--skip calibrate,timing,replay]

- calibrate: every FAQ's question and paraphrases are one true group (326 groups, 1,370 wordings); pairwise
  precision / recall / F1 of both methods at several cosine thresholds (how GapSettings.threshold was chosen).
- timing: N real-shaped question texts (the eval's questions, out-of-KB questions, real-shaped messages and turns,
  the FAQ wordings, framed with greetings and thanks until there are N distinct ones), embedded once, then each
  method clustered ``repeats`` times: the median seconds (embedding reported apart).
- replay: every out-of-KB question (written and real-shaped) and every in-KB question the assistant fails on
  (hands off, or answers from the wrong entry) goes through ``AssistantService.handle`` as a new conversation;
  what the product would record as a gap (not found → not_found; a wrong answer → the 踩 a resident would give)
  is clustered by the product's GapReporter. Writes ``gaps.json`` and ``gaps.md``.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.clustering import ClusterMethod, cluster, pair_scores
from assistant.gaps import GapItem, GapKind, GapReporter, report_json
from assistant.service import AssistantService
from assistant.settings import GapSettings
from eval.bench_texts import distinct_texts
from eval.datasets import OutOfKB, Question, RealQuestion, RealTriage, RealTurn, load, load_real


def calibrate(service: AssistantService, reporter: GapReporter) -> list[dict[str, Any]]:
    """Pairwise scores of both methods on the FAQ paraphrase groups."""
    texts: list[str] = []
    truth: list[int] = []
    for i, e in enumerate(service.kb.faqs):
        for t in (e.question, *e.paraphrases):
            texts.append(t)
            truth.append(i)
    vectors = reporter.embed(texts)
    rows = []
    for method in ClusterMethod:
        for threshold in (0.88, 0.90, 0.91, 0.92, 0.93, 0.94):
            c = cluster(vectors, threshold=threshold, method=method)
            p, r = pair_scores(c.labels, np.asarray(truth))
            rows.append({"method": method.value, "threshold": threshold, "clusters": c.count, "groups": len(set(truth)),
                         "precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r or 1), 3)})
            print(f"calibrate {method.value:8} {threshold:.2f}: {c.count:4} clusters  P {p:.3f}  R {r:.3f}")
    return rows


def workload(n: int, service: AssistantService) -> list[str]:
    """N distinct, real-shaped question texts."""
    base = [q.text for q in load("questions.jsonl", Question)] + [q.text for q in load("out_of_kb.jsonl", OutOfKB)]
    base += [q.text for q in load_real("questions.jsonl", RealQuestion)]
    base += [t.text for t in load_real(("triage_questions.jsonl", "triage_reports.jsonl"), RealTriage)]
    base += [t.text for t in load_real("turns.jsonl", RealTurn)]
    base += [t for e in service.kb.faqs for t in (e.question, *e.paraphrases)]
    return distinct_texts(base, n)


def timing(reporter: GapReporter, n: int, repeats: int, service: AssistantService) -> dict[str, Any]:
    """Embedding once and clustering ``repeats`` times per method, at N questions."""
    texts = workload(n, service)
    started = time.perf_counter()
    vectors = reporter.embed(texts)
    embed_s = time.perf_counter() - started
    out: dict[str, Any] = {"n": len(texts), "embed_seconds": round(embed_s, 1),
                           "threshold": reporter.settings.threshold}
    print(f"timing: embedded {len(texts)} questions in {embed_s:.1f}s")
    for method in ClusterMethod:
        runs, count = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            count = cluster(vectors, threshold=reporter.settings.threshold, method=method).count
            runs.append(time.perf_counter() - t0)
        out[method.value] = {"median_seconds": round(statistics.median(runs), 2), "runs": [round(r, 2) for r in runs],
                             "clusters": count}
        print(f"timing: {method.value:8} median {statistics.median(runs):.2f}s over {repeats} runs, {count} clusters")
    return out


def replay(service: AssistantService, reporter: GapReporter) -> tuple[dict[str, Any], dict[str, int]]:
    """The eval's out-of-KB and failed questions through the assistant; the gap report of what it would record."""
    now = datetime.now(UTC)
    faqs = {f.id: f for f in service.kb.faqs}
    asked: list[tuple[str, bool, set[str]]] = [(q.text, False, set()) for q in load("out_of_kb.jsonl", OutOfKB)]
    asked += [(q.text, True, set(q.expected)) for q in load("questions.jsonl", Question)]
    asked += [(q.text, q.in_kb, set(q.expected)) for q in load_real("questions.jsonl", RealQuestion)]
    items: list[GapItem] = []
    counts = {"asked": len(asked), "out_of_kb": 0, "not_found": 0, "wrong_answer": 0, "off_topic_declined": 0}
    for text, in_kb, expected in asked:
        reply = service.handle(text)
        counts["out_of_kb"] += not in_kb
        relevant = expected | {b for e in expected if e in faqs for b in faqs[e].basis}
        cited = {c.ref for c in reply.citations} | {c.entry_id for c in reply.citations}
        if reply.kind.value == "chitchat":
            counts["off_topic_declined"] += 1  # declined politely: not a gap of the KB
            continue
        if reply.answer is not None and reply.answer.handoff and reply.retrieval is not None:
            counts["not_found"] += 1
            items.append(GapItem(len(items) + 1, GapKind.NOT_FOUND, text, now, None, reply.retrieval.reason))
        elif reply.answered and (not in_kb or not cited & relevant):
            counts["wrong_answer"] += 1  # a resident would vote it down
            items.append(GapItem(len(items) + 1, GapKind.DOWNVOTE, text, now, None, ""))
    vectors = reporter.embed([i.question for i in items])
    report = reporter.run(items, vectors, now=now, top=15)
    return report_json(report), counts


def _markdown(result: dict[str, Any]) -> str:
    lines = ["# Gap report figures", ""]
    if "timing" in result:
        t = result["timing"]
        lines += [f"Clustering {t['n']:,} questions (cosine ≥ {t['threshold']}; embedding them once took "
                  f"{t['embed_seconds']} s):", "", "| method | median s | clusters |", "|---|---|---|"]
        lines += [f"| {m} | {t[m]['median_seconds']} | {t[m]['clusters']} |" for m in ("average", "sphere")]
        lines.append("")
    if "calibrate" in result:
        lines += ["Pairwise scores on the FAQ paraphrase groups:", "", "| method | threshold | clusters | P | R | F1 |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r['method']} | {r['threshold']} | {r['clusters']} | {r['precision']} | {r['recall']} | "
                  f"{r['f1']} |" for r in result["calibrate"]]
        lines.append("")
    if "replay" in result:
        r, c = result["replay"], result["replay_counts"]
        lines += [f"Replay: {c['asked']} questions asked ({c['out_of_kb']} out of the KB); {c['not_found']} not found, "
                  f"{c['wrong_answer']} answered wrongly, {c['off_topic_declined']} off-topic declined → "
                  f"{r['questions']} gaps in {r['cluster_count']} clusters.", "",
                  "| # | size | examples | nearest | why | draft question |", "|---|---|---|---|---|---|"]
        for cl in r["clusters"]:
            near = cl["nearest"][0]["ref"] if cl["nearest"] else "—"
            lines.append(f"| {cl['rank']} | {cl['size']} | {' / '.join(cl['examples'][:3])} | {near} | "
                         f"{cl['why'][:90]} | {cl['draft']['question']} |")
    return "\n".join(lines) + "\n"


SECTIONS = ("calibrate", "timing", "replay")


def run(service: AssistantService, *, n: int = 10_000, repeats: int = 5, out: Path = Path("var/bench"),
        skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Run the sections not skipped with a warmed service; write ``gaps.json`` and ``gaps.md`` under ``out``.

    Raises:
        ValueError: ``skip`` names a section that does not exist.
    """
    unknown = skip - set(SECTIONS)
    if unknown:
        raise ValueError(f"--skip: unknown section(s) {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    reporter = GapReporter(service.kb, service.retriever, GapSettings())
    result: dict[str, Any] = {}
    if "calibrate" not in skip:
        result["calibrate"] = calibrate(service, reporter)
    if "timing" not in skip:
        result["timing"] = timing(reporter, n, repeats, service)
    if "replay" not in skip:
        result["replay"], result["replay_counts"] = replay(service, reporter)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gaps.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "gaps.md").write_text(_markdown(result), encoding="utf-8")
    print(_markdown(result))
    return result
