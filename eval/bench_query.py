"""The query path at one KB size, one client: the real server over HTTP, the same calls in process, plain LangChain."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from assistant.service import AssistantService
from assistant.settings import AssistantSettings
from eval.bench_measure import Latency, Stopwatch, progress, timed
from eval.bench_server import BenchServer, Memory
from eval.bench_texts import distinct_texts
from ingest.chunk import Chunk
from ingest.index import KBIndex, index_status
from ingest.settings import IngestSettings

ENDPOINTS = ("/api/chat", "/api/triage", "/api/kb/search")
CALLS = ("service.handle", "triager.assess", "retriever.run")  # in process, in the order of ENDPOINTS


@dataclass(frozen=True, slots=True)
class HttpRun:
    """One client over real HTTP: per-endpoint latency (status 200 only), errors, and how many chat answers cited."""

    latency: dict[str, Latency]
    errors: dict[str, int]
    chat_answered: float


@dataclass(frozen=True, slots=True)
class TierQuery:
    """The query path at one KB size.

    ``http`` is measured against the real server (one client, sequential requests, a fresh conversation
    per chat message); ``in_process`` is ``AssistantService.handle``, ``Triager.assess`` and
    ``HybridRetriever.run`` called directly; ``langchain`` is HuggingFaceEmbeddings + LangChain FAISS
    ``similarity_search(k=5)`` over the same vectors, measured in the same run on all the texts used.
    Each endpoint (and each in-process call) gets its own block of distinct texts, so the server's
    query-embedding cache never answers a measured request.
    Memory is the server's process tree after warm-up and after the HTTP run. ``other_cpu_share``: the
    share of the machine processes outside the bench used meanwhile (see ``SectionTime``).
    """

    tier: str
    chunks: int
    vectors: int
    http: HttpRun | None
    in_process: dict[str, Latency]
    langchain: Latency | None
    langchain_build: str
    memory_warm: Memory | None
    memory_after: Memory | None
    other_cpu_share: float


def _call(client: httpx.Client, endpoint: str, text: str) -> httpx.Response:
    if endpoint == "/api/chat":
        # No conversation id: every message starts a fresh conversation, like many residents writing once,
        # so no question's flow (follow-ups, ticket filling) depends on the question sent before it.
        return client.post(endpoint, json={"message": text})
    if endpoint == "/api/triage":
        return client.post(endpoint, json={"text": text})
    return client.get(endpoint, params={"q": text})


def http_one_client(base_url: str, headers: dict[str, str], texts: Mapping[str, Sequence[str]]) -> HttpRun:
    """Send each endpoint its texts, one request at a time; time each round trip."""
    latency: dict[str, Latency] = {}
    errors: dict[str, int] = {}
    answered = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for endpoint, questions in texts.items():
            ms: list[float] = []
            errors[endpoint] = 0
            for text in questions:
                t0 = time.perf_counter()
                try:
                    r = _call(client, endpoint, text)
                except httpx.HTTPError:
                    errors[endpoint] += 1
                    continue
                elapsed = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    errors[endpoint] += 1
                    continue
                ms.append(elapsed)
                if endpoint == "/api/chat":
                    body = r.json()
                    answered += int(not body["handoff"] and bool(body["citations"]))
            latency[endpoint] = Latency.of(ms)
    chats = len(texts.get("/api/chat", ()))
    return HttpRun(latency, errors, round(answered / max(1, chats), 3))


def warm_server(base_url: str, headers: dict[str, str], warmup: Sequence[str]) -> None:
    """Every warm-up text to ``/api/chat``, the first ten to the other endpoints, none of it measured.

    torch builds CPU kernels per input length on first use (a fresh process spends up to ~1 s on a query
    of a new length), so warm-up texts should be many and of varied length, and not the measured ones.
    """
    http_one_client(base_url, headers, {"/api/chat": warmup, **{ep: warmup[:10] for ep in ENDPOINTS[1:]}})


def in_process(ingest: IngestSettings, assistant: AssistantSettings, texts: Mapping[str, Sequence[str]],
               warmup: Sequence[str]) -> dict[str, Latency]:
    """The same calls without HTTP: the service the server runs, built from the same settings, warmed the same way.

    Args:
        ingest: Ingest settings (model, index).
        assistant: Assistant settings.
        texts: Texts per call name of :data:`CALLS`.
        warmup: Texts handled first, unmeasured.
    """
    service = AssistantService.from_settings(ingest, assistant)
    service.warm_up()
    for q in warmup:
        service.handle(q)
    calls: dict[str, Callable[[str], object]] = {
        "service.handle": lambda t: service.handle(t),
        "triager.assess": lambda t: service.triager.assess(t),
        "retriever.run": lambda t: service.retriever.run(t),
    }
    return {name: Latency.of(timed(calls[name], texts[name])) for name in CALLS}


def langchain_from_index(index_dir: Path, model_id: str, embeddings: Any) -> Any:
    """A LangChain FAISS store over the vectors an index already holds (``FAISS.from_embeddings``, no re-embedding).

    Every view vector becomes one LangChain document carrying its chunk's title and text, so the store
    searches exactly as many vectors as ours.
    """
    from langchain_community.vectorstores import FAISS

    index = KBIndex.load(index_dir, model_id=model_id)
    vectors = np.load(index.path / "vectors.npy")
    texts = [f"{index.chunks[int(r)].title}\n{index.chunks[int(r)].text}" for r in index.rows]
    metadatas = [{"id": index.chunks[int(r)].chunk_id.split("~")[0], "text": index.chunks[int(r)].text}
                 for r in index.rows]
    # rows stay numpy views (LangChain stacks them with np.array); .tolist() would cost ~1 GB of floats at 100k
    pairs = list(zip(texts, vectors, strict=True))
    return FAISS.from_embeddings(pairs, embeddings, metadatas=metadatas)


def langchain_latency(store: Any, questions: Sequence[str], warmup: Sequence[str]) -> Latency:
    """``similarity_search(k=5)`` per question (query embedding included), after the warm-up texts."""
    for q in warmup:
        store.similarity_search(q, k=5)
    return Latency.of(timed(lambda t: store.similarity_search(t, k=5), questions))


def run_tier(tier: str, chunks: Sequence[Chunk], index_dir: Path, *, ingest: IngestSettings,
             assistant: AssistantSettings, questions: Sequence[str], n: int, warmup: Sequence[str],
             work_dir: Path,
             database_url: str | None,
             langchain_store: Callable[[], tuple[Any, str]] | None, http: bool, memory: bool) -> TierQuery:
    """Measure one KB size: server (HTTP + memory), then in process, then LangChain, one after the other.

    Args:
        tier: Label in the report.
        chunks: The KB's chunks (for the counts).
        index_dir: The KB's index root.
        ingest: Ingest settings (model); ``index_dir`` is replaced.
        assistant: Assistant settings.
        questions: Dev-split questions; each endpoint gets ``n`` distinct wordings of them.
        n: Measured requests per endpoint.
        warmup: Other questions sent first, unmeasured (see :func:`warm_server`).
        work_dir: Server logs and databases go here.
        database_url: The server's database (default: a fresh SQLite file in ``work_dir``).
        langchain_store: Builds the LangChain store and names how; None skips LangChain and in-process.
        http: Measure the endpoints over HTTP.
        memory: Measure the server's memory (runs the chat questions through it when ``http`` is off).
    """
    local = ingest.model_copy(update={"index_dir": index_dir})
    blocks = [distinct_texts(questions, n, block=b) for b in range(len(ENDPOINTS))]
    by_endpoint = dict(zip(ENDPOINTS if http else ENDPOINTS[:1], blocks, strict=False))
    clock = Stopwatch()
    run: HttpRun | None = None
    warm = after = None
    if http or memory:
        progress(f"query {tier}: starting the server on {index_dir}")
        with BenchServer(index_dir, work_dir=work_dir, model=ingest.embedding_model, kb_root=ingest.kb_root,
                         database_url=database_url) as srv:
            headers = srv.login()
            warm_server(srv.base_url, headers, warmup)
            warm = srv.memory()
            progress(f"query {tier}: server ready ({warm.rss_mb:.0f} MiB RSS); {n} texts × "
                     f"{len(by_endpoint)} endpoint(s) over HTTP")
            run = http_one_client(srv.base_url, headers, by_endpoint)
            after = srv.memory()
        if not http:
            run = None
    in_proc: dict[str, Latency] = {}
    lc: Latency | None = None
    how = ""
    if langchain_store is not None:
        progress(f"query {tier}: in process")
        in_proc = in_process(local, assistant, dict(zip(CALLS, blocks, strict=True)), warmup)
        progress(f"query {tier}: plain LangChain")
        store, how = langchain_store()
        lc = langchain_latency(store, [t for block in blocks for t in block], warmup)
        del store
    n_vectors = int(index_status(index_dir)["n_vectors"])
    return TierQuery(tier, len(chunks), n_vectors, run, in_proc, lc, how, warm if memory else None,
                     after if memory else None, clock.stop().other_share)
