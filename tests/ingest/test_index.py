import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.chunk import kb_chunks
from ingest.errors import IndexMismatchError, IndexMissingError, IngestError
from ingest.index import IndexBuilder, KBIndex, choose_index_type, index_status
from ingest.settings import FaissSettings, IndexType, IngestSettings
from ingest.tokens import Lexicon, Segmenter
from kb.load import load_kb
from tests.fakes import FakeEmbedder

REPO = Path(__file__).resolve().parents[2]


def _settings(kb_root: Path, index_dir: Path, **kw) -> IngestSettings:
    return IngestSettings(kb_root=kb_root, index_dir=index_dir, progress=False, **kw)


def _build(kb_root: Path, index_dir: Path, embedder: FakeEmbedder, *, full: bool = False, **kw):
    chunks = kb_chunks(load_kb(kb_root), 400)
    return IndexBuilder(_settings(kb_root, index_dir, **kw), embedder, Segmenter(Lexicon())).run(chunks, full=full)


def test_build_then_load_roundtrip(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    report = _build(mini_kb_root, index_dir, FakeEmbedder())
    assert report.n_chunks == 7  # 4 clauses (one expired article) + 3 FAQ
    assert report.n_vectors == 4 + 3 * 5
    assert report.added == ("FAQ-FEE-001", "FAQ-FEE-002", "FAQ-PET-001", "POL-FEE-001", "POL-FEE-OLD-001")
    index = KBIndex.load(index_dir, model_id="fake-embedder", dimension=64)
    assert index.manifest.index_type is IndexType.FLAT
    assert [c.chunk_id for c in index.chunks][:2] == ["POL-FEE-001#1", "POL-FEE-001#2.1"]
    assert index_status(index_dir)["n_vectors"] == report.n_vectors


def test_incremental_reembeds_only_changed_and_drops_deleted(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    _build(mini_kb_root, index_dir, FakeEmbedder())
    faq = mini_kb_root / "content" / "faq" / "fees.yaml"
    text = faq.read_text(encoding="utf-8")
    text = text.replace("溜狗要栓绳不", "遛狗不拴绳行不行")  # change one paraphrase
    text = text[: text.index("  - id: FAQ-FEE-002")] + text[text.index("  - id: FAQ-PET-001"):]  # delete one
    faq.write_text(text, encoding="utf-8")

    embedder = FakeEmbedder()
    report = _build(mini_kb_root, index_dir, embedder)
    assert embedder.embedded == ["遛狗不拴绳行不行"]
    assert report.changed == ("FAQ-PET-001",)
    assert report.removed == ("FAQ-FEE-002",)
    assert report.vectors_embedded == 1
    index = KBIndex.load(index_dir, model_id="fake-embedder")
    assert "FAQ-FEE-002" not in index.by_id

    full = FakeEmbedder()
    _build(mini_kb_root, index_dir, full, full=True)
    assert len(full.embedded) == report.n_vectors


def test_failed_build_leaves_previous_index_serving(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = _build(mini_kb_root, index_dir, FakeEmbedder())
    with pytest.raises(RuntimeError, match="failed midway"):
        _build(mini_kb_root, index_dir, FakeEmbedder(fail_after=3), full=True)
    index = KBIndex.load(index_dir, model_id="fake-embedder")
    assert index.version == first.version
    assert not list((index_dir / "versions").glob(".building-*"))
    again = _build(mini_kb_root, index_dir, FakeEmbedder())
    assert again.version != first.version


def test_killed_build_leaves_previous_index_serving(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = _build(mini_kb_root, index_dir, FakeEmbedder())
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from tests.ingest.test_index import _build
        from tests.fakes import FakeEmbedder
        _build(Path({str(mini_kb_root)!r}), Path({str(index_dir)!r}), FakeEmbedder(delay=0.5), full=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not list((index_dir / "versions").glob(".building-*")) and proc.poll() is None:
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    index = KBIndex.load(index_dir, model_id="fake-embedder")
    assert index.version == first.version
    assert index.chunks[0].chunk_id == "POL-FEE-001#1"
    second = _build(mini_kb_root, index_dir, FakeEmbedder())
    assert KBIndex.load(index_dir, model_id="fake-embedder").version == second.version
    assert not list((index_dir / "versions").glob(".building-*"))


def test_loading_with_another_model_is_refused(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    _build(mini_kb_root, index_dir, FakeEmbedder())
    with pytest.raises(IndexMismatchError, match="embedding model='fake-embedder'.*'bge-small-zh-v1.5'"):
        KBIndex.load(index_dir, model_id="bge-small-zh-v1.5")
    with pytest.raises(IndexMismatchError, match="dimension"):
        KBIndex.load(index_dir, model_id="fake-embedder", dimension=384)


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="wuye ingest"):
        KBIndex.load(tmp_path / "nothing", model_id="x")


def test_corrupted_index_file_is_named(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    _build(mini_kb_root, index_dir, FakeEmbedder())
    (index_dir / "current" / "faiss.index").write_bytes(b"garbage")
    with pytest.raises(IngestError, match="corrupted.*wuye ingest --full"):
        KBIndex.load(index_dir, model_id="fake-embedder")


def test_a_second_concurrent_build_is_refused(mini_kb_root: Path, tmp_path: Path) -> None:
    import fcntl

    index_dir = tmp_path / "index"
    index_dir.mkdir()
    with open(index_dir / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IngestError, match="another ingest is already running"):
            _build(mini_kb_root, index_dir, FakeEmbedder())


@pytest.mark.parametrize("index_type", [IndexType.FLAT, IndexType.HNSW, IndexType.IVF])
def test_every_index_type_finds_the_nearest_chunk(mini_kb_root: Path, tmp_path: Path, index_type: IndexType) -> None:
    index_dir = tmp_path / "index"
    embedder = FakeEmbedder()
    _build(mini_kb_root, index_dir, embedder, index_type=index_type)
    index = KBIndex.load(index_dir, model_id="fake-embedder")
    assert index.manifest.index_type is index_type
    best = index.dense(embedder.embed_queries(["滞纳金怎么算"])[0], 10)
    top = max(best, key=best.__getitem__)
    assert index.chunks[top].chunk_id == "FAQ-FEE-002"


def test_auto_index_type_follows_size() -> None:
    assert choose_index_type(IndexType.AUTO, 1_000, 200_000) is IndexType.FLAT
    assert choose_index_type(IndexType.AUTO, 500_000, 200_000) is IndexType.HNSW
    assert choose_index_type(IndexType.IVF, 10, 200_000) is IndexType.IVF


def test_an_unchanged_kb_is_up_to_date_and_any_change_is_not(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    settings = _settings(mini_kb_root, index_dir)
    chunks = kb_chunks(load_kb(mini_kb_root), 400)
    builder = IndexBuilder(settings, FakeEmbedder(), Segmenter(Lexicon()))
    assert builder.up_to_date(chunks) is None  # nothing built yet
    report = builder.run(chunks)
    assert builder.up_to_date(chunks) == report.version
    assert KBIndex.load(index_dir, model_id="fake-embedder").manifest.content_hash
    changed = [replace(chunks[0], text=chunks[0].text + "（修订）"), *chunks[1:]]
    assert builder.up_to_date(changed) is None
    assert builder.up_to_date(chunks[1:]) is None  # an entry removed
    other_model = IndexBuilder(settings, FakeEmbedder(model_id="another-model"), Segmenter(Lexicon()))
    assert other_model.up_to_date(chunks) is None
    new_words = IndexBuilder(settings, FakeEmbedder(), Segmenter(Lexicon(terms=("滞纳金",))))
    assert new_words.up_to_date(chunks) is None  # BM25 would tokenise differently
    hnsw = IndexBuilder(_settings(mini_kb_root, index_dir, index_type=IndexType.HNSW), FakeEmbedder(),
                        Segmenter(Lexicon()))
    assert hnsw.up_to_date(chunks) is None


def test_an_index_built_before_the_content_hash_is_rebuilt_once(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    report = _build(mini_kb_root, index_dir, FakeEmbedder())
    manifest = index_dir / "versions" / report.version / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    del data["content_hash"], data["faiss"]  # as written before both were recorded
    manifest.write_text(json.dumps(data), encoding="utf-8")
    chunks = kb_chunks(load_kb(mini_kb_root), 400)
    builder = IndexBuilder(_settings(mini_kb_root, index_dir), FakeEmbedder(), Segmenter(Lexicon()))
    assert KBIndex.load(index_dir, model_id="fake-embedder").manifest.faiss == FaissSettings()
    assert builder.up_to_date(chunks) is None


def test_hnsw_search_parameters_come_from_the_settings_and_the_manifest(mini_kb_root: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    faiss_settings = FaissSettings(hnsw_m=8, hnsw_ef_search=40)
    _build(mini_kb_root, index_dir, FakeEmbedder(), index_type=IndexType.HNSW, faiss=faiss_settings)
    index = KBIndex.load(index_dir, model_id="fake-embedder")
    assert index.manifest.faiss == faiss_settings
    assert index.faiss_index.hnsw.efSearch == 40
