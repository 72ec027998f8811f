"""Torch fp32 against int8 ONNX in one process: one query's embedding, one whole turn, and ingest throughput.

Both backends are built from the same settings but ``backend``; each ingests the real KB into its own index
(the real ``IndexBuilder`` full build, timed), then the two are measured alternately text by text (torch, int8,
torch, int8, …) on the same distinct wordings of the dev questions, so a change in the machine's load hits
both alike and their medians compare. The forward pass is ``embed_queries([text])`` on a text the cache has
never seen (tokenise, the transformer, pooling, normalising); the turn is ``AssistantService.handle`` on the
service the server builds for that backend (triage, retrieval, answer).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.service import AssistantService
from assistant.settings import AssistantSettings
from eval.bench_measure import Latency, Stopwatch, progress
from eval.bench_synth import build_index
from eval.bench_texts import distinct_texts
from ingest.chunk import Chunk
from ingest.embed import Embedder, build_embedder
from ingest.settings import Backend, IngestSettings
from ingest.tokens import Lexicon


@dataclass(frozen=True, slots=True)
class BackendRow:
    """One backend's figures; ``other_cpu_share`` is the share of the machine other processes used meanwhile."""

    backend: str
    model_id: str
    forward: Latency
    turn: Latency
    ingest_seconds: float
    ingest_chunks_per_s: float
    ingest_vectors_per_s: float
    chunks: int
    vectors: int
    other_cpu_share: float


def _alternate(calls: dict[str, Callable[[str], object]], texts: Sequence[str]) -> dict[str, list[float]]:
    """Every text through every call, the calls taking turns; milliseconds per call."""
    out: dict[str, list[float]] = {name: [] for name in calls}
    for text in texts:
        for name, call in calls.items():
            t0 = time.perf_counter()
            call(text)
            out[name].append((time.perf_counter() - t0) * 1000)
    return out


def run_backends(chunks: Sequence[Chunk], settings: IngestSettings, assistant: AssistantSettings,
                 questions: Sequence[str], warmup: Sequence[str], *, n: int, work_dir: Path,
                 lexicon: Lexicon) -> tuple[BackendRow, ...]:
    """Ingest, then forward pass and whole turn, for torch and onnx-int8.

    Args:
        chunks: The KB to ingest (the real one).
        settings: Ingest settings; ``backend`` and ``index_dir`` are replaced per backend.
        assistant: Assistant settings of the services.
        questions: Base wordings; ``n`` distinct texts are made from them for each measurement.
        warmup: Texts sent to each service first, unmeasured.
        n: Texts per measurement.
        work_dir: Where the two indexes are built.
        lexicon: BM25 tokenizer lexicon.
    """
    clock = Stopwatch()
    embedders: dict[str, Embedder] = {}
    services: dict[str, AssistantService] = {}
    ingest: dict[str, tuple[float, int]] = {}
    for backend in (Backend.TORCH, Backend.ONNX_INT8):
        local = settings.model_copy(update={"backend": backend, "index_dir": work_dir / f"kb-{backend.value}"})
        embedder = build_embedder(local)
        embedder.warm_up()
        embedder.embed_passages(list(warmup))  # first-use kernel builds are not ingest time
        progress(f"backends: {backend.value} ingest of {len(chunks):,} chunks")
        seconds, vectors, _ = build_index(chunks, local.index_dir, local, embedder, lexicon)
        ingest[backend.value] = (seconds, vectors)
        progress(f"backends: {backend.value} {len(chunks) / seconds:.1f} chunks/s")
        embedders[backend.value] = embedder
        services[backend.value] = service = AssistantService.from_settings(local, assistant)
        service.warm_up()
        for q in warmup:
            service.handle(q)
    def embed(e: Embedder) -> Callable[[str], object]:
        return lambda t: e.embed_queries([t])

    def handle(s: AssistantService) -> Callable[[str], object]:
        return lambda t: s.handle(t)

    forward = _alternate({name: embed(e) for name, e in embedders.items()}, distinct_texts(questions, n, block=11))
    progress("backends: forward pass measured")
    turn = _alternate({name: handle(s) for name, s in services.items()}, distinct_texts(questions, n, block=12))
    progress("backends: whole turn measured")
    share = clock.stop().other_share
    rows = []
    for name, (seconds, vectors) in ingest.items():
        rows.append(BackendRow(name, embedders[name].model_id, Latency.of(forward[name]), Latency.of(turn[name]),
                               round(seconds, 2), round(len(chunks) / seconds, 1), round(vectors / seconds, 1),
                               len(chunks), vectors, share))
    return tuple(rows)
