"""The bench's own machinery at tiny sizes: synthetic KBs through the real index builder, the ANN comparison."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from eval.bench_ann import AnnRow, run_ann
from eval.bench_measure import Latency, pct
from eval.bench_synth import community_names, measure_ingest, synthetic_chunks, synthetic_kb
from eval.bench_texts import distinct_texts
from ingest.chunk import Chunk, kb_chunks
from ingest.corpus import lexicon_of
from ingest.index import KBIndex
from ingest.settings import IngestSettings
from tests.fakes import FakeEmbedder


@pytest.fixture(scope="module")
def real_chunks(real_kb) -> list[Chunk]:  # type: ignore[no-untyped-def]
    return kb_chunks(real_kb, 400)


def test_synthetic_chunks_are_unique_single_view_community_variants(real_chunks: list[Chunk]) -> None:
    base = real_chunks[:150]
    synth = synthetic_chunks(base, 300)

    assert len(synth) == 300
    assert len({c.chunk_id for c in synth}) == 300
    assert len({c.entry_id for c in synth}) == 300
    assert all(len(c.views) == 1 for c in synth)
    assert len({c.views[0] for c in synth}) == 300  # identical views would be embedded once and flatter ingest
    assert not {c.chunk_id for c in synth} & {c.chunk_id for c in real_chunks}
    names = community_names()
    assert len(set(names)) == 960
    assert all(any(n in c.title for n in names[:2]) for c in synth)  # 300 < 2 × 150: two communities used
    assert all("~" not in c.chunk_id for c in synth)  # "~" marks split clauses in citations


def test_synthetic_kb_keeps_every_real_chunk(real_chunks: list[Chunk]) -> None:
    kb = synthetic_kb(real_chunks, len(real_chunks) + 50)

    assert kb[: len(real_chunks)] == real_chunks
    assert sum(c.kind == "faq" for c in kb[: len(real_chunks)]) == sum(c.kind == "faq" for c in real_chunks)
    assert synthetic_kb(real_chunks, 10) == real_chunks


def test_synthetic_kb_builds_one_vector_per_chunk_with_the_real_builder(real_kb, real_chunks: list[Chunk],  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    chunks = synthetic_chunks(real_chunks, 300)
    embedder = FakeEmbedder()
    settings = IngestSettings(index_dir=tmp_path / "unused", progress=False)

    result = measure_ingest("tiny", chunks, tmp_path / "kb", settings, embedder, lexicon_of(real_kb),
                            embedder.embed_passages, raw_sample=100)

    assert (result.chunks, result.vectors) == (300, 300)
    assert result.raw_sampled and result.raw_texts == 100
    assert result.ingest_seconds > 0 and result.raw_vectors_per_s > 0 and result.ratio_to_raw > 0
    index = KBIndex.load(tmp_path / "kb", model_id="fake-embedder")
    assert index.faiss_index.ntotal == len(index.chunks) == 300


def test_distinct_texts_never_repeat_across_blocks() -> None:
    base = ["物业费多少钱", "装修押金怎么退", "物业费多少钱"]

    blocks = [distinct_texts(base, 30, block=b) for b in range(3)]
    texts = [t for block in blocks for t in block]

    assert len(set(texts)) == 90
    assert blocks[0][:2] == ["物业费多少钱", "装修押金怎么退"]
    assert all("物业费多少钱" in t or "装修押金怎么退" in t for t in texts)


def test_latency_summary() -> None:
    ms = [float(i) for i in range(1, 101)]

    assert pct(ms, 95) == 95.0
    assert Latency.of(ms) == Latency(50.5, 95.0, 99.0, 100)
    assert Latency.of([]).n == 0
    assert Latency.of([10.0]).ratio_to(Latency.of([5.0])) == 2.0


def test_ann_comparison_at_a_tiny_size() -> None:
    rng = np.random.default_rng(3)
    dim = 64
    centres = rng.standard_normal((40, dim)).astype(np.float32)
    seeds = centres[rng.integers(0, 40, 400)] + 0.4 * rng.standard_normal((400, dim)).astype(np.float32)
    seeds /= np.linalg.norm(seeds, axis=1, keepdims=True)
    queries = seeds[:40] + 0.3 * rng.standard_normal((40, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    report = run_ann(seeds, None, queries, 5000, pq_m=8, log=lambda _: None)

    names = [r.index for r in report.chosen]
    assert names[0] == "Flat" and len(names) == 7
    assert [n.split("-", 1)[-1] for n in names[3:]] == ["Flat", "SQ8", "PQ8", "PQ8+RefineFlat"]
    assert report.chosen[0].recall_at_10 == 1.0
    assert report.chosen[1].recall_at_10 >= 0.95  # HNSW reaches the target at 5k
    assert report.n == 5000 and report.dim == dim and report.queries == 40
    for row in report.rows:
        assert all(getattr(row, f.name) is not None for f in fields(AnnRow))
        assert 0.0 <= row.recall_at_10 <= 1.0 and row.index_bytes > 0 and row.p95_ms >= row.p50_ms > 0
    assert abs(report.realism["synthetic_nn_cos_median"] - report.realism["real_passage_nn_cos_median"]) < 0.05


def test_backends_table_puts_int8_next_to_torch() -> None:
    from eval.bench_backends import BackendRow
    from eval.bench_report import BenchResult, render

    rows = (BackendRow("torch", "m", Latency.of([20.0, 24.0]), Latency.of([30.0]), 10.0, 69.8, 207.0, 698, 2070, 0.0),
            BackendRow("onnx-int8", "m+onnx-int8", Latency.of([5.0, 6.0]), Latency.of([15.0]), 5.0, 139.6, 414.0,
                       698, 2070, 0.0))
    machine = {"cores": 2, "torch_threads": 2, "faiss_threads": 2, "python": "3.11"}

    md = render(BenchResult({"skip": "none"}, machine, backends=rows))

    assert "## Embedding backends: torch fp32 and int8 ONNX" in md
    assert "| torch | 22.0 | 24.0 | 1.0 | 30.0 | 30.0 | 1.0 | 69.8 | 207.0 | 1.0 |" in md
    assert "| onnx-int8 | 5.5 | 6.0 | 0.25 | 15.0 | 15.0 | 0.5 | 139.6 | 414.0 | 2.0 |" in md
