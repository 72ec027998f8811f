"""The bench's result as one value, and its Markdown report: one table per section, each target stated and judged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eval.bench_ann import AnnReport, AnnRow
from eval.bench_backends import BackendRow
from eval.bench_load import LoadResult
from eval.bench_measure import SectionTime
from eval.bench_query import ENDPOINTS, TierQuery
from eval.bench_server import Memory
from eval.bench_synth import IngestResult

CHAT_MEDIAN_MS, CHAT_P95_MS = 20.0, 40.0
LOAD_CLIENTS, LOAD_RPS, LOAD_P95_MS = 16, 100.0, 250.0
INGEST_RATIO = 0.90
ANN_P95_MS, ANN_RECALL, ANN_BYTES, ANN_N = 20.0, 0.95, 2 * 2**30, 1_000_000


@dataclass(frozen=True, slots=True)
class BenchResult:
    """Everything one `make bench` run measured, with the configuration and how long each section took."""

    config: dict[str, Any]
    machine: dict[str, Any]
    ingest: tuple[IngestResult, ...] = ()
    query: tuple[TierQuery, ...] = ()
    load: tuple[LoadResult, ...] = ()
    load_memory: dict[str, Memory] = field(default_factory=dict)
    load_tier: str = ""
    ann: AnnReport | None = None
    section_times: dict[str, SectionTime] = field(default_factory=dict)
    backends: tuple[BackendRow, ...] = ()


_OTHER = ("Other CPU = the share of the machine used meanwhile by processes outside the bench (and its "
          "servers); more than a few percent makes the row pessimistic.")


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def _ingest(r: BenchResult) -> list[str]:
    if not r.ingest:
        return []
    lines = ["## Ingest", "",
             f"Target: ingest ≥ {INGEST_RATIO:.0%} of the raw `SentenceTransformer.encode` ceiling (vectors/s, same "
             "model, prompt and batch size, same run, timed before and after the build, their mean counts). "
             "Big KBs: the ceiling is measured on a random sample of the same view texts. Ingest is the real "
             f"`IndexBuilder` full build (embedding, FAISS, BM25 over jieba tokens, files, atomic swap). {_OTHER}",
             "", "| KB | chunks | vectors | index | ingest s | chunks/s | vectors/s | raw encode vectors/s: before / "
             "after (texts) | ingest ÷ raw | other CPU | target |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for i in r.ingest:
        texts = f"{i.raw_texts} sampled" if i.raw_sampled else f"all {i.raw_texts}"
        before, after = i.raw_before_after
        lines.append(f"| {i.tier} | {i.chunks:,} | {i.vectors:,} | {i.index_type} | {i.ingest_seconds} | "
                     f"{i.ingest_chunks_per_s} | {i.ingest_vectors_per_s} | {before} / {after} ({texts}) | "
                     f"{i.ratio_to_raw:.2f} | {i.other_cpu_share:.0%} | {_met(i.ratio_to_raw >= INGEST_RATIO)} |")
    return lines


def _query(r: BenchResult) -> list[str]:
    if not any(t.http or t.in_process for t in r.query):
        return []
    ten_k = next((t for t in r.query if t.tier == "10k" and t.http), None)
    if ten_k is not None and ten_k.http is not None:
        chat = ten_k.http.latency["/api/chat"]
        verdict = (f"{_met(chat.median_ms <= CHAT_MEDIAN_MS and chat.p95_ms <= CHAT_P95_MS)} "
                   f"(median {chat.median_ms} ms, p95 {chat.p95_ms} ms)")
    else:
        verdict = "not judged (no 10k-chunk KB in this run)"
    lines = ["## Query path, one client", "",
             f"Target: `/api/chat` at 10k chunks median ≤ {CHAT_MEDIAN_MS:.0f} ms and p95 ≤ {CHAT_P95_MS:.0f} ms "
             f"over HTTP, one client: {verdict}.", "",
             "Real server (`wuye serve`, 1 worker) over HTTP, sequential requests, a fresh conversation per chat "
             "message, no LLM. × LangChain = median ÷ the median of a plain LangChain build "
             "(HuggingFaceEmbeddings + LangChain FAISS `similarity_search(k=5)`, same model, same questions, "
             "same run, over all the texts below). Each endpoint and each in-process call gets its own block of "
             "distinct wordings of the dev questions (greetings and thanks added; eval/bench_texts.py), so the "
             "query-embedding cache never answers a measured request: these are first-time questions. Every "
             f"path is warmed first with test-split questions. {_OTHER}", "",
             "| KB | chunks | vectors | other CPU | path | median ms | p95 ms | p99 ms | × LangChain | errors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for t in r.query:
        head = f"| {t.tier} | {t.chunks:,} | {t.vectors:,} | {t.other_cpu_share:.0%}"
        if t.http is not None:
            for ep in ENDPOINTS:
                lat = t.http.latency[ep]
                ratio = lat.ratio_to(t.langchain) if t.langchain else None
                lines.append(f"{head} | HTTP {ep} | {lat.median_ms} | {lat.p95_ms} | {lat.p99_ms} | {ratio} | "
                             f"{t.http.errors[ep]} |")
        for name, lat in t.in_process.items():
            ratio = lat.ratio_to(t.langchain) if t.langchain else None
            lines.append(f"{head} | in process {name} | {lat.median_ms} | {lat.p95_ms} | {lat.p99_ms} | {ratio} | – |")
        if t.langchain is not None:
            lc = t.langchain
            lines.append(f"{head} | plain LangChain ({t.langchain_build}) | {lc.median_ms} | {lc.p95_ms} | "
                         f"{lc.p99_ms} | 1.00 | – |")
    answered = [f"{t.tier}: {t.http.chat_answered:.0%}" for t in r.query if t.http is not None]
    if answered:
        lines += ["", "Chat messages answered with a citation (not handed off): " + ", ".join(answered) + "."]
    return lines


def _load(r: BenchResult) -> list[str]:
    if not r.load:
        return []
    lines = ["## Load on `/api/chat`", "",
             f"Target: ≥ {LOAD_RPS:.0f} req/s at {LOAD_CLIENTS} clients with p95 ≤ {LOAD_P95_MS:.0f} ms and zero "
             f"errors. KB: {r.load_tier}. asyncio + httpx clients on the same machine (their CPU is shown); each "
             "sends its share back to back (no new request after 180 s); every message is a distinct wording of "
             "a dev question never sent to that server before (so the query-embedding cache never hits), in a "
             f"fresh conversation. {_OTHER}", "",
             "| server workers | clients | requests | ok | errors | req/s | median ms | p95 ms | p99 ms "
             "| server CPU ms/request | client CPU s | other CPU | target |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in r.load:
        target = "–"
        if x.clients == LOAD_CLIENTS:
            target = _met(x.rps >= LOAD_RPS and x.latency.p95_ms <= LOAD_P95_MS and x.errors == 0)
        kinds = f" ({', '.join(f'{k}: {v}' for k, v in x.error_kinds.items())})" if x.errors else ""
        lines.append(f"| {x.workers} | {x.clients} | {x.requests} | {x.ok} | {x.errors}{kinds} | {x.rps} | "
                     f"{x.latency.median_ms} | {x.latency.p95_ms} | {x.latency.p99_ms} | "
                     f"{x.server_cpu_ms_per_request} | {x.client_cpu_s} | {x.other_cpu_share:.0%} | {target} |")
    return lines


def _memory(r: BenchResult) -> list[str]:
    if not r.load_memory and not any(t.memory_warm for t in r.query):
        return []
    lines = ["## Server memory", "",
             "The `wuye serve` process tree: RSS summed over the processes (shared pages counted in each) and "
             "PSS summed (shared pages split between them), in MiB.", "",
             "| KB | server | when | RSS MiB | PSS MiB | processes |", "|---|---|---|---|---|---|"]
    for t in r.query:
        for when, m in (("after warm-up", t.memory_warm), ("after the query run", t.memory_after)):
            if m is not None:
                lines.append(f"| {t.tier} | 1 worker | {when} | {m.rss_mb} | {m.pss_mb} | {m.processes} |")
    for name, m in r.load_memory.items():
        lines.append(f"| {r.load_tier} | {name} | after the load run | {m.rss_mb} | {m.pss_mb} | {m.processes} |")
    return lines


def _ann_row(x: AnnRow, n: int) -> str:
    ok = x.recall_at_10 >= ANN_RECALL and x.p95_ms <= ANN_P95_MS and x.index_bytes <= ANN_BYTES
    note = "" if n == ANN_N else f" (at {n:,})"
    return (f"| {x.index} | {x.params} | {x.build_s} | {x.index_bytes / 2**20:,.0f} | {x.rss_delta_mb:,.0f} | "
            f"{x.p50_ms} | {x.p95_ms} | {x.recall_at_10:.3f} | {_met(ok)}{note} |")


def _ann(r: BenchResult) -> list[str]:
    a = r.ann
    if a is None:
        return []
    real = a.realism
    head = ("| index | search setting | build s | index MiB | RSS Δ MiB | p50 ms | p95 ms | recall@10 | target |",
            "|---|---|---|---|---|---|---|---|---|")
    lines = ["## Vector search at scale (search only)", "",
             f"Target: {ANN_N:,} vectors, p95 ≤ {ANN_P95_MS:.0f} ms at recall@10 ≥ {ANN_RECALL} in ≤ 2 GiB. "
             f"This run: {a.n:,} synthetic vectors of dimension {a.dim}, {a.queries} real questions as queries, "
             f"k=10, one query at a time with {a.search_threads} faiss thread(s) (`BENCH_ANN_THREADS`; builds use "
             f"all: faiss.omp_get_max_threads() = {a.omp_threads}). Recall@10 is against "
             "Flat (exact). Index MiB = bytes `faiss.write_index` writes (= `serialize_index` size); RSS Δ = the "
             "bench process's resident-set growth over the build. Each index's search knob is swept upward "
             "until recall@10 ≥ the target (or stops improving); the first setting that meets it is shown.", "",
             f"Data: real KB passage vectors + gaussian noise with the real vectors' covariance (scale "
             f"{a.sigma}), renormalised. Nearest-neighbour cosine (median) real {real['real_passage_nn_cos_median']}"
             f" / synthetic {real['synthetic_nn_cos_median']}; query top-1 cosine real "
             f"{real['real_query_top1_cos_median']} / synthetic {real['synthetic_query_top1_cos_median']}; query "
             f"top-10 cosine real {real['real_query_top10_cos_median']} / synthetic "
             f"{real['synthetic_query_top10_cos_median']}.", "", *head]
    lines += [_ann_row(x, a.n) for x in a.chosen]
    lines += ["", "Every setting tried:", "", *head]
    lines += [_ann_row(x, a.n) for x in a.rows]
    return lines


def _backends(r: BenchResult) -> list[str]:
    if not r.backends:
        return []
    base = r.backends[0]
    lines = ["## Embedding backends: torch fp32 and int8 ONNX", "",
             f"One process, the backends taking turns text by text on the same {base.forward.n} distinct wordings "
             "of dev questions (never cached). Forward pass = `embed_queries([text])` (tokenise, transformer, "
             "pooling, normalise); turn = `AssistantService.handle` (triage, retrieval, answer) on each backend's "
             "own index; ingest = the real `IndexBuilder` full build of the real KB. × torch = median ÷ torch's "
             f"median (for ingest: chunks/s ÷ torch's). Other CPU while the section ran: {base.other_cpu_share:.0%}. "
             "Whether int8 may be the default is the eval gate's call (`python -m eval.backends`), not this table's.",
             "", "| backend | forward median ms | forward p95 ms | × torch | turn median ms | turn p95 ms | × torch "
             "| ingest chunks/s | vectors/s | × torch |", "|---|---|---|---|---|---|---|---|---|---|"]
    for b in r.backends:
        lines.append(f"| {b.backend} | {b.forward.median_ms} | {b.forward.p95_ms} | {b.forward.ratio_to(base.forward)} "
                     f"| {b.turn.median_ms} | {b.turn.p95_ms} | {b.turn.ratio_to(base.turn)} | "
                     f"{b.ingest_chunks_per_s} | {b.ingest_vectors_per_s} | "
                     f"{round(b.ingest_chunks_per_s / base.ingest_chunks_per_s, 2)} |")
    return lines


def render(r: BenchResult) -> str:
    """The whole report as Markdown."""
    m = r.machine
    lines = ["# wuye bench", "",
             f"{m['cores']} cores, torch threads {m['torch_threads']}, faiss threads {m['faiss_threads']}, "
             f"Python {m['python']}. Config: {', '.join(f'{k}={v}' for k, v in r.config.items())}.", ""]
    for section in (_ingest(r), _query(r), _load(r), _memory(r), _ann(r), _backends(r)):
        if section:
            lines += [*section, ""]
    lines += ["## Time per section", "",
              "CPU used by processes outside the bench while the section ran (share of all cores): anything but "
              "a few percent means the section's numbers are pessimistic.", "",
              "| section | seconds | other processes' CPU s | share |", "|---|---|---|---|"]
    lines += [f"| {k} | {v.seconds} | {v.other_cpu_s} | {v.other_share:.0%} |" for k, v in r.section_times.items()]
    return "\n".join(lines) + "\n"
