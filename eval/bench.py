"""`make bench`: first benchmarks, in one process so the ratios compare like with like.

Measured now: ingest throughput against the raw ``SentenceTransformer.encode`` ceiling on the same texts,
and the query path (assistant reply without LLM, triage, hybrid search) against a plain LangChain build
(HuggingFaceEmbeddings + LangChain FAISS ``similarity_search``) on the same questions. Still to come
(issue 7): synthetic 10k/100k-chunk KBs, load at 1–64 clients against the server, memory, 1M-vector
index comparison.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from api.settings import get_settings
from assistant.service import AssistantService
from eval.baselines import PlainLangChain
from eval.datasets import Question, load
from ingest.corpus import collect
from ingest.index import IndexBuilder
from ingest.tokens import Segmenter


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(ms), 2), "p95_ms": round(_pct(ms, 95), 2),
            "p99_ms": round(_pct(ms, 99), 2), "n": len(ms)}


def _timed(fn: Any, items: list[str]) -> list[float]:
    out = []
    for text in items:
        t0 = time.perf_counter()
        fn(text)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main(out_dir: Path = Path("var/bench")) -> dict[str, Any]:
    """Run the benchmarks, print a Markdown table, write JSON and Markdown under ``out_dir``."""
    settings = get_settings()
    service = AssistantService.from_settings(settings.ingest, settings.assistant)
    service.warm_up()
    embedder = service.retriever._embedder
    corpus = collect(settings.ingest)
    texts = [v for c in corpus.chunks for v in c.views]

    t0 = time.perf_counter()
    embedder.embed_passages(texts)
    raw = len(texts) / (time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        ingest_settings = settings.ingest.model_copy(update={"index_dir": Path(tmp), "progress": False})
        report = IndexBuilder(ingest_settings, embedder, Segmenter(corpus.lexicon)).run(corpus.chunks, full=True)
    ours = report.n_vectors / report.seconds

    questions = [q.text for q in load("questions.jsonl", Question, split="dev")][:200]
    plain = PlainLangChain(Path(settings.ingest.embedding_model), service.retriever.index.chunks)
    for q in questions[:5]:  # warm both paths
        service.handle(q)
        plain.store.similarity_search(q, k=5)
    results: dict[str, Any] = {
        "kb": {"chunks": report.n_chunks, "vectors": report.n_vectors},
        "ingest": {"raw_encode_vectors_per_s": round(raw, 1), "ingest_vectors_per_s": round(ours, 1),
                   "ingest_chunks_per_s": round(report.n_chunks / report.seconds, 1),
                   "ratio_to_raw": round(ours / raw, 3)},
        "query": {
            "assistant_reply": _summary(_timed(lambda t: service.handle(t), questions)),
            "triage_only": _summary(_timed(lambda t: service.triager.assess(t), questions)),
            "hybrid_search": _summary(_timed(lambda t: service.retriever.run(t), questions)),
            "plain_langchain_similarity_search": _summary(_timed(lambda t: plain.store.similarity_search(t, k=5),
                                                                 questions)),
        },
    }
    q = results["query"]
    base = q["plain_langchain_similarity_search"]["median_ms"]
    for key in ("assistant_reply", "triage_only", "hybrid_search"):
        q[key]["ratio_to_plain_langchain"] = round(q[key]["median_ms"] / base, 2) if base else None
    lines = [f"KB: {report.n_chunks} chunks, {report.n_vectors} vectors", "",
             "| ingest | vectors/s | ratio to raw encode |", "|---|---|---|",
             f"| raw SentenceTransformer.encode | {raw:.1f} | 1.00 |",
             f"| wuye ingest (full) | {ours:.1f} | {ours / raw:.2f} |", "",
             "| query path (one client, in process) | median ms | p95 ms | p99 ms | × plain LangChain |",
             "|---|---|---|---|---|"]
    for key, row in q.items():
        ratio = row.get("ratio_to_plain_langchain", 1.0)
        lines.append(f"| {key} | {row['median_ms']} | {row['p95_ms']} | {row['p99_ms']} | {ratio} |")
    table = "\n".join(lines)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out_dir / "bench.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return results


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("var/bench"))
