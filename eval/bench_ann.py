"""Search-only comparison of FAISS index types on up to millions of synthetic vectors with real structure.

The vectors come from ``eval.bench_vectors`` (real passage embeddings + shaped noise); queries are real
question embeddings. Flat (exact) is the reference for recall@10; each other index sweeps its search
knob until recall@10 reaches the target.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from eval.bench_measure import Latency, progress
from eval.bench_server import self_rss_mb
from eval.bench_vectors import generate, nn_cosines, noise_basis, truth_and_realism, tune_sigma

F32 = npt.NDArray[np.float32]
Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class AnnRow:
    """One index at one search setting: build cost, size, single-query latency, recall@10 against Flat.

    ``index_bytes`` is the size of ``faiss.write_index`` output (what ``serialize_index`` would hold);
    ``rss_delta_mb`` is the process's resident-set growth over the build (allocator-noisy, for reference).
    """

    index: str
    params: str
    build_s: float
    index_bytes: int
    rss_delta_mb: float
    p50_ms: float
    p95_ms: float
    recall_at_10: float


@dataclass(frozen=True, slots=True)
class AnnReport:
    """The whole comparison: data, realism check, every sweep row and each index's chosen row."""

    n: int
    dim: int
    queries: int
    omp_threads: int
    search_threads: int
    sigma: float
    realism: dict[str, float]
    rows: tuple[AnnRow, ...]
    chosen: tuple[AnnRow, ...]
    recall_target: float


def index_bytes(index: faiss.Index) -> int:
    """Bytes ``faiss.write_index`` writes for ``index``, counted without holding a copy."""
    total = 0

    def count(chunk: bytes) -> int:
        nonlocal total
        total += len(chunk)
        return len(chunk)

    writer = faiss.PyCallbackIOWriter(count)  # type: ignore[attr-defined]  # missing from faiss's stubs
    faiss.write_index(index, writer)
    del writer
    return total


def _search_one_by_one(index: faiss.Index, queries: F32, k: int,
                       threads: int) -> tuple[list[float], npt.NDArray[np.int64]]:
    """Search one query at a time with ``threads`` OpenMP threads (restored afterwards)."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        return _timed_searches(index, queries, k)
    finally:
        faiss.omp_set_num_threads(before)


def _timed_searches(index: faiss.Index, queries: F32, k: int) -> tuple[list[float], npt.NDArray[np.int64]]:
    ms: list[float] = []
    ids = np.empty((len(queries), k), dtype=np.int64)
    for i in range(len(queries)):
        t0 = time.perf_counter()
        _, found = index.search(queries[i:i + 1], k)
        ms.append((time.perf_counter() - t0) * 1000)
        ids[i] = found[0]
    return ms, ids


def recall_at(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> float:
    """Mean share of the exact top-k found by the approximate top-k."""
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return round(hits / truth.size, 4)


def _add_in_parts(index: faiss.Index, xb: F32, name: str, log: Log, parts: int = 10) -> None:
    step = max(1, math.ceil(len(xb) / parts))
    for start in range(0, len(xb), step):
        index.add(xb[start:start + step])
        if len(xb) >= 100_000:
            log(f"ann: {name} added {min(len(xb), start + step):,}/{len(xb):,}")


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    build: Callable[[], faiss.Index]
    knob: str
    values: tuple[int, ...]
    set_knob: Callable[[faiss.Index, int], None]
    extra_s: float = 0.0  # build work done elsewhere and counted here (the shared IVF k-means, the PQ base)
    fixed: str = ""  # search settings held fixed during the sweep, for the report
    max_queries: int | None = None  # time only the first queries (Flat at 1M is slow and its recall is 1 anyway)


def _sweep(spec: _Spec, queries: F32, truth: npt.NDArray[np.int64], target: float, threads: int,
           log: Log) -> tuple[list[AnnRow], AnnRow]:
    """Build, measure size, then search one query at a time per knob value until the recall target is met.

    Stops early when recall has plateaued (two steps gaining < 0.002 each): more probes cannot help then.
    """
    gc.collect()
    rss0 = self_rss_mb()
    t0 = time.perf_counter()
    index = spec.build()
    build_s = round(time.perf_counter() - t0 + spec.extra_s, 2)
    size = index_bytes(index)
    rss = round(self_rss_mb() - rss0, 1)
    log(f"ann: {spec.name} built in {build_s:.1f}s, {size / 2**20:.0f} MiB")
    rows: list[AnnRow] = []
    used = queries[: spec.max_queries]
    for value in spec.values or (0,):
        if spec.values:
            spec.set_knob(index, value)
        ms, found = _search_one_by_one(index, used, truth.shape[1], threads)
        lat = Latency.of(ms)
        params = ",".join(p for p in (spec.fixed, f"{spec.knob}={value}" if spec.values else "exact") if p)
        rows.append(AnnRow(spec.name, params, build_s, size, rss, lat.median_ms, lat.p95_ms,
                           recall_at(found, truth[: len(used)])))
        log(f"ann: {spec.name} {params}: recall@10 {rows[-1].recall_at_10:.3f}, p50 {lat.median_ms} ms, "
            f"p95 {lat.p95_ms} ms")
        last = rows[-3:]
        gains = [b.recall_at_10 - a.recall_at_10 for a, b in zip(last, last[1:], strict=False)]
        if rows[-1].recall_at_10 >= target or (len(gains) == 2 and max(gains) < 0.002):
            break
    del index
    gc.collect()
    met = [r for r in rows if r.recall_at_10 >= target]
    return rows, (met[0] if met else max(rows, key=lambda r: r.recall_at_10))


def run_ann(seeds: F32, seed_groups: npt.NDArray[np.int32] | None, queries: F32, n: int, *,
            recall_target: float = 0.95, hnsw_m: int = 32, pq_m: int = 48, flat_queries: int = 100,
            search_threads: int = 1, seed: int = 1, log: Log = progress) -> AnnReport:
    """Generate ``n`` vectors from ``seeds`` and compare Flat, HNSW, HNSW+SQ8, IVF-Flat, IVF-SQ8, IVF-PQ (+refine).

    Args:
        seeds: Real passage vectors (unit rows).
        seed_groups: The chunk each seed belongs to (views of one chunk are not each other's neighbours).
        queries: Real query vectors (unit rows).
        n: Number of synthetic vectors.
        recall_target: recall@10 a sweep stops at.
        hnsw_m: HNSW neighbours per node.
        pq_m: PQ sub-quantizers (must divide the dimension).
        flat_queries: Flat's latency is timed on this many queries (its recall is 1 by definition).
        search_threads: OpenMP threads while searching (builds use all). One query per search cannot use
            two threads well: on a busy 2-core machine the second thread's barrier waits made a 50k Flat
            search 6× slower (24 ms instead of 4 ms).
        seed: RNG seed.
        log: Progress sink.
    """
    rng = np.random.default_rng(seed)
    dim = seeds.shape[1]
    probe = rng.choice(len(seeds), size=min(len(seeds), 512), replace=False)
    real_nn = float(np.median(nn_cosines(seeds, probe, seed_groups)))
    basis = noise_basis(seeds)
    t0 = time.perf_counter()
    sigma = tune_sigma(seeds, basis, n, real_nn, rng)
    xb = generate(seeds, n, sigma, basis, rng)
    log(f"ann: {n:,} vectors generated in {time.perf_counter() - t0:.1f}s (noise scale {sigma:.3f})")
    truth, realism = truth_and_realism(xb, seeds, queries, real_nn, rng)
    log(f"ann: realism {realism}")

    ip = faiss.METRIC_INNER_PRODUCT
    nlist = max(1, min(n // 39, int(4 * math.sqrt(n))))
    sample = xb[np.sort(rng.choice(n, size=min(n, 40 * nlist), replace=False))]
    log(f"ann: k-means {nlist} lists on {len(sample):,} vectors (shared by the IVF variants)")
    t0 = time.perf_counter()
    km = faiss.Kmeans(dim, nlist, niter=10, seed=seed, spherical=True, max_points_per_centroid=40, verbose=False)
    km.train(sample)
    centroids = np.ascontiguousarray(km.centroids, dtype=np.float32)
    kmeans_s = time.perf_counter() - t0
    del km

    def hnsw(sq8: bool) -> Callable[[], Any]:
        def build() -> Any:
            index: Any = (faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, hnsw_m, ip)  # type: ignore[arg-type]
                          if sq8 else faiss.IndexHNSWFlat(dim, hnsw_m, ip))
            index.hnsw.efConstruction = 80  # the product's setting (ingest/index.py)
            if sq8:
                index.train(sample)
            _add_in_parts(index, xb, "HNSW+SQ8" if sq8 else "HNSW", log)
            return index
        return build

    def ivf(make: Callable[[faiss.Index], faiss.Index], name: str) -> Callable[[], faiss.Index]:
        def build() -> faiss.Index:
            quantizer = faiss.IndexFlatIP(dim)
            quantizer.add(centroids)
            index = make(quantizer)
            index.train(sample)  # the coarse quantizer is already trained: only SQ/PQ codebooks learn here
            _add_in_parts(index, xb, name, log)
            return index
        return build

    pq_kept: list[faiss.Index] = []  # the PQ index outlives its sweep: the refine variant wraps it
    pq_seconds: list[float] = []

    def pq_built() -> faiss.Index:
        t = time.perf_counter()
        index = ivf(lambda q: faiss.IndexIVFPQ(q, dim, nlist, pq_m, 8, ip), f"IVF-PQ{pq_m}")()
        pq_seconds.append(time.perf_counter() - t)
        pq_kept.append(index)
        return index

    def set_ef(index: Any, v: int) -> None:
        index.hnsw.efSearch = v

    def set_nprobe(index: faiss.Index, v: int) -> None:
        faiss.extract_index_ivf(index).nprobe = min(v, nlist)

    ef = (16, 32, 64, 96, 128, 192, 256, 384, 512)
    probes = tuple(p for p in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512) if p <= nlist) or (1,)
    specs = [
        _Spec("Flat", lambda: _flat(xb), "", (), lambda i, v: None, max_queries=flat_queries),
        _Spec(f"HNSW{hnsw_m}", hnsw(False), "efSearch", ef, set_ef),
        _Spec(f"HNSW{hnsw_m}+SQ8", hnsw(True), "efSearch", ef, set_ef),
        _Spec(f"IVF{nlist}-Flat", ivf(lambda q: faiss.IndexIVFFlat(q, dim, nlist, ip), "IVF-Flat"), "nprobe",
              probes, set_nprobe, kmeans_s),
        _Spec(f"IVF{nlist}-SQ8", ivf(lambda q: faiss.IndexIVFScalarQuantizer(
            q, dim, nlist, faiss.ScalarQuantizer.QT_8bit, ip), "IVF-SQ8"), "nprobe", probes, set_nprobe, kmeans_s),
        _Spec(f"IVF{nlist}-PQ{pq_m}", pq_built, "nprobe", probes, set_nprobe, kmeans_s),
    ]
    rows: list[AnnRow] = []
    chosen: list[AnnRow] = []
    for spec in specs:
        log(f"ann: building {spec.name}")
        sweep, best = _sweep(spec, queries, truth, recall_target, search_threads, log)
        rows.extend(sweep)
        chosen.append(best)
    # The refine step reranks k_factor × 10 PQ candidates with exact distances; the coarse search uses the
    # nprobe at which IVF-Flat (exact within the probed lists) reached the target, so only k_factor is swept.
    ivf_flat = chosen[3]
    nprobe = int(ivf_flat.params.split("=")[-1])

    def refined() -> Any:
        index: Any = faiss.IndexRefineFlat(pq_kept[0], faiss.swig_ptr(xb))
        faiss.extract_index_ivf(index).nprobe = nprobe
        index.referenced_objects = [pq_kept[0]]  # keep the PQ index alive while the refine index uses it
        return index

    def set_k(index: Any, v: int) -> None:
        index.k_factor = float(v)

    spec = _Spec(f"IVF{nlist}-PQ{pq_m}+RefineFlat", refined, "k_factor", (2, 4, 8, 16, 32, 64), set_k,
                 kmeans_s + pq_seconds[0], fixed=f"nprobe={nprobe}")
    log(f"ann: building {spec.name}")
    sweep, best = _sweep(spec, queries, truth, recall_target, search_threads, log)
    pq_kept.clear()
    rows.extend(sweep)
    chosen.append(best)
    return AnnReport(n, dim, len(queries), faiss.omp_get_max_threads(), search_threads, round(sigma, 4), realism,
                     tuple(rows),
                     tuple(chosen), recall_target)


def _flat(xb: F32) -> faiss.Index:
    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    return index
