"""`make bench` (`wuye bench`): ingest, query path, load, memory and vector search, in one run so ratios compare
like with like.

Sections (skip any with ``BENCH_SKIP=ingest,query,load,memory,ann,backends``):

- ingest: chunks/s of the real KB ("1k") and synthetic KBs (``BENCH_SIZES``, default 10k and 100k chunks)
  through the real ``IndexBuilder``, next to raw ``SentenceTransformer.encode`` on the same texts;
- query: ``/api/chat`` (no LLM), ``/api/triage``, ``/api/kb/search`` over HTTP against ``wuye serve``, one
  client, ``BENCH_QUESTIONS`` dev questions, plus the same calls in process, next to plain LangChain;
- load: ``/api/chat`` at 1, 4, 16, 64 clients (``BENCH_LOAD_REQUESTS`` per level) at the KB nearest 10k
  chunks, server with 1 and 2 workers;
- memory: the server's RSS/PSS at each KB size after warm-up and after the query run;
- ann: FAISS index types on ``BENCH_VECTORS`` synthetic vectors (default 1M), search only;
- backends: torch fp32 against int8 ONNX in this process, side by side: one query's forward pass and one whole
  ``service.handle`` turn (``BENCH_QUESTIONS`` texts each, the backends taking turns), ingest chunks/s of the real KB.

Also ``BENCH_ANN_QUERIES`` (300 real questions as ANN queries), ``BENCH_RAW_SAMPLE`` (3000: above this many
texts the raw-encode ceiling is measured on a sample), ``BENCH_WARMUP`` (50 test-split questions sent,
unmeasured, before every measurement), ``BENCH_DATABASE_URL`` (the servers' database; default a fresh
SQLite file per server) and ``BENCH_ANN_THREADS`` (1: faiss threads while timing single-query searches).

Progress goes to stderr; the Markdown report to stdout, ``bench.md`` and ``bench.json`` under the output folder.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import AssistantSettings
from eval.baselines import PlainLangChain
from eval.bench_ann import AnnReport, run_ann
from eval.bench_backends import BackendRow, run_backends
from eval.bench_load import LoadResult, run_load
from eval.bench_measure import SectionTime, Stopwatch, progress
from eval.bench_query import TierQuery, langchain_from_index, run_tier
from eval.bench_report import BenchResult, render
from eval.bench_server import BenchServer, Memory
from eval.bench_synth import IngestResult, build_index, measure_ingest, synthetic_kb
from eval.bench_texts import distinct_texts
from eval.datasets import Question, load
from ingest.chunk import Chunk
from ingest.corpus import collect
from ingest.embed import Embedder, build_embedder
from ingest.index import index_status
from ingest.settings import Backend, IngestSettings

SECTIONS = ("ingest", "query", "load", "memory", "ann", "backends")
LOAD_CLIENTS = (1, 4, 16, 64)
LOAD_WORKERS = (1, 2)


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """Sizes and switches, from the environment (``BENCH_*``)."""

    sizes: tuple[int, ...]
    vectors: int
    questions: int
    load_requests: int
    skip: frozenset[str]
    ann_queries: int
    raw_sample: int
    warmup: int
    database_url: str | None
    ann_threads: int

    @classmethod
    def from_env(cls) -> BenchConfig:
        """Read the ``BENCH_*`` variables (see the module docstring)."""
        env = os.environ.get
        skip = frozenset(s.strip() for s in env("BENCH_SKIP", "").split(",") if s.strip())
        unknown = skip - set(SECTIONS)
        if unknown:
            raise SystemExit(f"BENCH_SKIP: unknown section(s) {sorted(unknown)}; known: {', '.join(SECTIONS)}")
        return cls(tuple(int(s) for s in env("BENCH_SIZES", "10000,100000").split(",") if s.strip()),
                   int(env("BENCH_VECTORS", "1000000")), int(env("BENCH_QUESTIONS", "200")),
                   int(env("BENCH_LOAD_REQUESTS", "400")), skip, int(env("BENCH_ANN_QUERIES", "300")),
                   int(env("BENCH_RAW_SAMPLE", "3000")), int(env("BENCH_WARMUP", "50")),
                   env("BENCH_DATABASE_URL") or None, int(env("BENCH_ANN_THREADS", "1")))


@dataclass(frozen=True, slots=True)
class Tier:
    """One KB size: its label, chunks and index folder."""

    label: str
    chunks: list[Chunk]
    index_dir: Path


def _label(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _machine() -> dict[str, Any]:
    import faiss
    import torch

    return {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "faiss_threads": faiss.omp_get_max_threads(), "python": platform.python_version()}


def _raw_encoder(s: IngestSettings, embedder: Embedder) -> Callable[[list[str]], object]:
    """The ceiling: the bare model's ``encode`` with the prompt and batch size ingest uses (for the onnx-int8
    backend, the bare embedder's ``embed_passages``: it has no other encode)."""
    from sentence_transformers import SentenceTransformer

    if s.backend is not Backend.TORCH:
        return lambda texts: embedder.embed_passages(texts)
    model = SentenceTransformer(s.embedding_model, device="cpu", local_files_only=True)
    return lambda texts: model.encode(texts, prompt=s.passage_prompt, batch_size=s.batch_size,
                                      normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


def _is_built(tier: Tier, model_id: str) -> bool:
    status = index_status(tier.index_dir)
    return bool(status.get("built")) and status.get("n_chunks") == len(tier.chunks) and status.get(
        "model_id") == model_id  # an index of the other backend would be refused by the servers


def _ingest(tiers: list[Tier], settings: IngestSettings, embedder: Embedder, cfg: BenchConfig,
            lexicon: Any) -> list[IngestResult]:
    """Measure every tier's ingest (or, with ingest skipped, build only the missing indexes, unmeasured)."""
    out: list[IngestResult] = []
    raw = _raw_encoder(settings, embedder) if "ingest" not in cfg.skip else None
    for tier in tiers:
        if raw is None:
            if not _is_built(tier, embedder.model_id):
                progress(f"ingest {tier.label}: building {tier.index_dir} (unmeasured: ingest is skipped)")
                build_index(tier.chunks, tier.index_dir, settings, embedder, lexicon, progress=True)
            continue
        progress(f"ingest {tier.label}: {len(tier.chunks):,} chunks, raw encode then full build")
        result = measure_ingest(tier.label, tier.chunks, tier.index_dir, settings, embedder, lexicon, raw,
                                raw_sample=cfg.raw_sample, progress=len(tier.chunks) > 5000)
        progress(f"ingest {tier.label}: {result.ingest_vectors_per_s} vectors/s vs raw {result.raw_vectors_per_s} "
                 f"({result.ratio_to_raw:.2f}) in {result.ingest_seconds}s")
        out.append(result)
    return out


def _query(tiers: list[Tier], ingest: IngestSettings, assistant: AssistantSettings, model_id: str,
           questions: list[str], warmup: list[str],
           cfg: BenchConfig, work_dir: Path) -> list[TierQuery]:
    out: list[TierQuery] = []
    shared: dict[str, Any] = {}

    def store_for(tier: Tier) -> Callable[[], tuple[Any, str]]:
        def build() -> tuple[Any, str]:
            if tier.label == "1k":
                plain = PlainLangChain(Path(ingest.embedding_model), tier.chunks)
                shared["embeddings"] = plain.store.embedding_function
                return plain.store, "from_documents"
            if "embeddings" not in shared:
                from langchain_huggingface import HuggingFaceEmbeddings

                shared["embeddings"] = HuggingFaceEmbeddings(
                    model_name=ingest.embedding_model, model_kwargs={"device": "cpu"},
                    encode_kwargs={"normalize_embeddings": True})
            return langchain_from_index(tier.index_dir, model_id, shared["embeddings"]), "from_embeddings"
        return build

    for tier in tiers:
        t0 = time.perf_counter()
        out.append(run_tier(tier.label, tier.chunks, tier.index_dir, ingest=ingest,
                            assistant=assistant, questions=questions, n=cfg.questions, warmup=warmup,
                            work_dir=work_dir,
                            database_url=cfg.database_url,
                            langchain_store=store_for(tier) if "query" not in cfg.skip else None,
                            http="query" not in cfg.skip, memory="memory" not in cfg.skip))
        progress(f"query {tier.label}: done in {time.perf_counter() - t0:.0f}s")
    shared.clear()
    return out


def _load(tier: Tier, settings: IngestSettings, questions: list[str], warmup: list[str], cfg: BenchConfig,
          work_dir: Path) -> tuple[list[LoadResult], dict[str, Memory]]:
    results: list[LoadResult] = []
    memory: dict[str, Memory] = {}
    for workers in LOAD_WORKERS:
        label = f"{workers} worker{'s' if workers > 1 else ''}"
        progress(f"load: starting the server with {label} on {tier.index_dir}")
        with BenchServer(tier.index_dir, work_dir=work_dir, model=settings.embedding_model,
                         kb_root=settings.kb_root, workers=workers, database_url=cfg.database_url) as srv:
            headers = srv.login()
            # concurrent warm-up so every worker process gets its share of first-use costs
            run_load(srv.base_url, headers, warmup, clients=2 * workers, total=len(warmup) * workers,
                     workers=workers)
            for level, clients in enumerate(LOAD_CLIENTS):
                texts = distinct_texts(questions, cfg.load_requests, block=level)  # never a cached text
                r = run_load(srv.base_url, headers, texts, clients=clients, total=cfg.load_requests,
                             workers=workers, server_pid=srv.pid)
                progress(f"load: {label}, {clients} clients: {r.rps} req/s, p95 {r.latency.p95_ms} ms, "
                         f"{r.errors} errors")
                results.append(r)
            memory[label] = srv.memory()
    return results, memory


def _ann(real: Tier, queries: Any, cfg: BenchConfig) -> AnnReport:
    path = (real.index_dir / "current").resolve()
    return run_ann(np.load(path / "vectors.npy"), np.load(path / "rows.npy"), queries, cfg.vectors,
                   search_threads=cfg.ann_threads)


def main(ingest_settings: IngestSettings, assistant_settings: AssistantSettings,
         out_dir: Path = Path("var/bench")) -> BenchResult:
    """Run every section not skipped, print the Markdown report, write ``bench.json`` and ``bench.md``."""
    cfg = BenchConfig.from_env()
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir = out_dir / "servers"
    shutil.rmtree(work_dir, ignore_errors=True)
    times: dict[str, SectionTime] = {}
    whole = Stopwatch()
    progress(f"config {cfg}")

    corpus = collect(ingest_settings)
    real = list(corpus.chunks)
    questions = [q.text for q in load("questions.jsonl", Question, split="dev")]
    warmup = [q.text for q in load("questions.jsonl", Question, split="test")][: cfg.warmup]
    tiers = [Tier("1k", real, out_dir / "kb-real")]
    tiers += [Tier(_label(n), synthetic_kb(real, n), out_dir / f"kb-{n}") for n in cfg.sizes]
    load_tier = min(tiers, key=lambda t: abs(math.log(len(t.chunks) / 10_000)))
    load_label = f"{load_tier.label} ({len(load_tier.chunks):,} chunks)"
    embedder = build_embedder(ingest_settings)  # the configured backend: the servers load these indexes
    embedder.warm_up()

    needed = tiers if {"ingest", "query", "memory"} - cfg.skip else [load_tier] if "load" not in cfg.skip else []
    if "ann" not in cfg.skip and all(t is not tiers[0] for t in needed):
        needed = [tiers[0], *needed]
    clock = Stopwatch()
    ingest = _ingest(needed, ingest_settings, embedder, cfg, corpus.lexicon)
    times["ingest" if "ingest" not in cfg.skip else "index builds"] = clock.stop()

    query: list[TierQuery] = []
    if {"query", "memory"} - cfg.skip:
        clock = Stopwatch()
        query = _query(tiers, ingest_settings, assistant_settings, embedder.model_id, questions, warmup, cfg,
                       work_dir)
        times["query+memory"] = clock.stop()
    load_results: list[LoadResult] = []
    load_memory: dict[str, Memory] = {}
    if "load" not in cfg.skip:
        clock = Stopwatch()
        load_results, load_memory = _load(load_tier, ingest_settings, questions, warmup, cfg, work_dir)
        times["load"] = clock.stop()
    backends: tuple[BackendRow, ...] = ()
    if "backends" not in cfg.skip:
        clock = Stopwatch()
        backends = run_backends(real, ingest_settings, assistant_settings, questions, warmup, n=cfg.questions,
                                work_dir=out_dir / "backends", lexicon=corpus.lexicon)
        times["backends"] = clock.stop()
    ann = None
    if "ann" not in cfg.skip:
        clock = Stopwatch()
        texts = [q.text for q in load("questions.jsonl", Question)][: cfg.ann_queries]
        queries = embedder.embed_queries(texts)
        del embedder  # the 1M vectors and one index at a time need the memory more than the model
        for tier in tiers[1:]:
            tier.chunks.clear()
        gc.collect()
        ann = _ann(tiers[0], queries, cfg)
        times["ann"] = clock.stop()
    times["total"] = whole.stop()

    config = {"sizes": ",".join(map(str, cfg.sizes)), "vectors": cfg.vectors, "questions": cfg.questions,
              "load_requests": cfg.load_requests, "skip": ",".join(sorted(cfg.skip)) or "none",
              "ann_queries": cfg.ann_queries, "ann_threads": cfg.ann_threads, "raw_sample": cfg.raw_sample,
              "warmup": cfg.warmup,
              "database": "PostgreSQL/other (BENCH_DATABASE_URL)" if cfg.database_url else "SQLite per server"}
    result = BenchResult(config, _machine(), tuple(ingest), tuple(query), tuple(load_results), load_memory,
                         load_label, ann, times, backends)
    report = render(result)
    (out_dir / "bench.json").write_text(json.dumps(asdict(result), indent=2, ensure_ascii=False, default=str),
                                        encoding="utf-8")
    (out_dir / "bench.md").write_text(report, encoding="utf-8")
    print(report)
    return result
