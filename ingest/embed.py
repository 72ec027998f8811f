"""Embedders: text → L2-normalised vectors. The protocol, its two backends (torch, int8 ONNX) and the one factory."""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ingest.errors import ModelError
from ingest.settings import Backend, IngestSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors; queries and passages may be embedded differently.

    Contract: ``warm_up()`` loads the model (``__init__`` is cheap); ``embed_*`` return a float32
    array of shape ``(len(texts), dimension)`` whose rows have unit L2 norm; ``model_id``
    names the model so an index built with another model is refused.
    """

    @property
    def model_id(self) -> str:
        """Stable name of the model, recorded in the index manifest."""
        ...

    @property
    def dimension(self) -> int:
        """Vector size."""
        ...

    def warm_up(self) -> None:
        """Load the model."""

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed search queries."""
        ...

    def embed_passages(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Embed passages for the index."""
        ...


class _QueryCache:
    """LRU cache of single-query vectors, shared by concurrent callers (the arrays are made read-only)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_embed(self, key: str, embed: Callable[[], Vectors]) -> Vectors:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        vectors = embed()
        vectors.setflags(write=False)  # shared between callers: nobody may change it in place
        with self._lock:
            self._items[key] = vectors
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return vectors


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, e5-style prompts applied; offline only."""

    def __init__(
        self,
        model: str,
        *,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        batch_size: int = 32,
        query_cache: int = 2048,
    ) -> None:
        self._name = model
        self._cache = _QueryCache(query_cache)
        self._plain: tuple[Any, ...] | None = None
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._batch_size = batch_size
        self._model: SentenceTransformer | None = None

    @property
    def model_id(self) -> str:
        """The folder name or hub id of the model."""
        return Path(self._name).name if Path(self._name).exists() else self._name

    @property
    def dimension(self) -> int:
        """Vector size, read from the loaded model."""
        dim = self._loaded.get_embedding_dimension()
        if dim is None:
            raise ModelError(f"model {self._name} does not report its embedding dimension")
        return int(dim)

    def warm_up(self) -> None:
        """Load the model from disk (never from the network)."""
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        path = Path(self._name)
        if not path.exists() and ("/" not in self._name or self._name.startswith(("var/", "./", "/"))):
            raise ModelError(
                f"embedding model folder {path} not found: run `wuye model prepare` (or `make run`)", path=path
            )
        try:
            self._model = SentenceTransformer(self._name, device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"cannot load embedding model {self._name}: {exc}; run `wuye model prepare --force`", path=path
            ) from exc

    @property
    def _loaded(self) -> SentenceTransformer:
        if self._model is None:
            self.warm_up()
        assert self._model is not None
        return self._model

    def _encode(self, texts: Sequence[str], prompt: str, progress: bool) -> Vectors:
        vectors = self._loaded.encode(
            list(texts),
            prompt=prompt,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def fast_path(self) -> bool:
        """True when single queries skip ``encode`` (transformer → mean pooling → normalise models)."""
        return self._plain_transformer() is not None

    def _plain_transformer(self) -> Any:
        """The transformer module when the pipeline is transformer → mean pooling → normalise, else None.

        Decided once per model (not on every query).
        """
        if self._plain is None:
            modules = list(self._loaded)
            pooling = modules[1] if len(modules) == 3 else None
            mean = pooling is not None and (getattr(pooling, "pooling_mode", None) == "mean"
                                            or getattr(pooling, "pooling_mode_mean_tokens", False))
            plain = (mean and type(pooling).__name__ == "Pooling" and getattr(pooling, "include_prompt", True)
                     and type(modules[2]).__name__ == "Normalize" and hasattr(modules[0], "auto_model"))
            self._plain = (modules[0],) if plain else ()
        return self._plain[0] if self._plain else None

    def _encode_one(self, text: str) -> Vectors:
        """One query straight through tokenizer → transformer → mean pooling → L2 norm.

        The same arithmetic as ``SentenceTransformer.encode`` (a test holds them equal) without its
        per-call batching and bookkeeping, which cost as much as the model for a single short query
        (median 12.5 ms against 20 ms here). Models with another pipeline take the ``encode`` path.
        """
        transformer = self._plain_transformer()
        if transformer is None:
            return self._encode([text], "", False)
        import torch

        with torch.inference_mode():
            features = self._loaded.tokenizer([text], return_tensors="pt", truncation=True,
                                       max_length=transformer.max_seq_length)
            hidden = transformer.auto_model(**features).last_hidden_state
            mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vector = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return np.ascontiguousarray(vector.numpy(), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed queries with the query prompt.

        Single queries go through an LRU cache: one chat turn embeds the same message for retrieval and
        for the level-1 recall net, and residents repeat the common questions.
        """
        if len(texts) != 1 or self._cache.size == 0:
            return self._encode(texts, self._query_prompt, False)
        key = texts[0]
        return self._cache.get_or_embed(key, lambda: self._encode_one(self._query_prompt + key))

    def embed_passages(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Embed passages with the passage prompt, in batches."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, self._passage_prompt, progress)


class OnnxEmbedder:
    """The prepared model's int8 ONNX copy on onnxruntime, without torch.

    The same tokenizer (the folder's ``tokenizer.json``, truncated at its ``max_seq_length``), the same prompts,
    mean pooling over the attention mask and L2 normalisation as :class:`SentenceTransformerEmbedder`; only the
    transformer runs int8 (``ingest/onnx_model.py``). Every text runs on its own, a batch of one: onnxruntime
    quantises activations per tensor, so inside a padded batch a text's vector would depend on its batchmates
    (cosine ≈ 0.997 to itself alone); alone, a text always gets the same vector, whether it is a query, a cached
    query or a passage re-embedded by an incremental ingest, and int8 batches are not faster on this CPU.
    """

    BACKEND = Backend.ONNX_INT8

    def __init__(
        self,
        model: str,
        *,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        query_cache: int = 2048,
        threads: int | None = None,
    ) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1 (or None for one per core). Currently, threads is {threads}")
        self._folder = Path(model)
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._cache = _QueryCache(query_cache)
        self._threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._dimension = 0

    @property
    def model_id(self) -> str:
        """The folder name and the backend: an index built by torch is refused (its vectors differ slightly)."""
        return f"{self._folder.name}+{self.BACKEND.value}"

    @property
    def dimension(self) -> int:
        """Vector size, read from the ONNX graph's output."""
        if self._session is None:
            self.warm_up()
        return self._dimension

    def warm_up(self) -> None:
        """Check the folder and its int8 file, load the tokenizer and start the onnxruntime session.

        Raises:
            ModelError: The folder or the int8 file is missing, stale, truncated or unreadable, or the folder's
                pipeline is not transformer → mean pooling → normalise; names the file and the command to run.
        """
        if self._session is not None:
            return
        from ingest.onnx_model import check_exported

        if not self._folder.is_dir():
            raise ModelError(f"embedding model folder {self._folder} not found: run `wuye model prepare` "
                             "(the onnx-int8 backend needs a local folder)", path=self._folder)
        path = check_exported(self._folder)
        max_length = self._check_pipeline()
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self._folder / "tokenizer.json"))  # the folder's own, as torch loads it
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads or 0  # 0: one per core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle intra-op threads would spin waiting for work, taking the CPU other requests and workers need
        # (single query with other work running: median 13.5 ms without spinning, 16.7 ms with it).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except (ort_errors.InvalidProtobuf, ort_errors.InvalidGraph, ort_errors.Fail, ort_errors.NoSuchFile,
                ort_errors.RuntimeException, ort_errors.InvalidArgument) as exc:
            raise ModelError(f"cannot load int8 ONNX model {path} ({type(exc).__name__}: {exc}); "
                             "run `wuye model prepare --force`", path=path) from exc
        names = {i.name for i in session.get_inputs()}
        shape = session.get_outputs()[0].shape
        if names != {"input_ids", "attention_mask"} or not isinstance(shape[-1], int):
            raise ModelError(f"int8 ONNX model {path} has inputs {sorted(names)} and output shape {shape}, not an "
                             "exported encoder; run `wuye model prepare --force`", path=path)
        self._tokenizer, self._dimension, self._session = tokenizer, int(shape[-1]), session

    def _check_pipeline(self) -> int:
        """The folder's max_seq_length, after checking its modules are transformer → mean pooling → normalise."""
        try:
            modules = json.loads((self._folder / "modules.json").read_text(encoding="utf-8"))
            kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
            pooling = json.loads((self._folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
            bert = json.loads((self._folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{self._folder}: incomplete sentence-transformers folder ({exc}); run "
                             "`wuye model prepare --force`", path=self._folder) from exc
        mean = pooling.get("pooling_mode_mean_tokens") or pooling.get("pooling_mode") == "mean"
        if kinds != ["Transformer", "Pooling", "Normalize"] or not mean or not pooling.get("include_prompt", True):
            raise ModelError(f"{self._folder}: the onnx-int8 backend runs transformer → mean pooling → normalise "
                             f"models only, this one is {kinds} with pooling {pooling}; use the torch backend",
                             path=self._folder)
        return int(bert.get("max_seq_length") or 512)

    def _embed_one(self, text: str) -> Vectors:
        if self._session is None:
            self.warm_up()
        encoding = self._tokenizer.encode(text)
        ids = np.asarray([encoding.ids], dtype=np.int64)
        mask = np.asarray([encoding.attention_mask], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return np.ascontiguousarray(pooled, dtype=np.float32)

    def _embed(self, texts: Sequence[str], prompt: str, progress: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        items: Sequence[str] = texts
        if progress:
            from tqdm import tqdm

            items = tqdm(texts, desc="Embedding", unit="text")
        return np.concatenate([self._embed_one(prompt + t) for t in items])

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed queries with the query prompt; a single query goes through the LRU cache (see the torch embedder)."""
        if len(texts) != 1 or self._cache.size == 0:
            return self._embed(texts, self._query_prompt, False)
        key = texts[0]
        return self._cache.get_or_embed(key, lambda: self._embed_one(self._query_prompt + key))

    def embed_passages(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Embed passages with the passage prompt, one at a time."""
        return self._embed(texts, self._passage_prompt, progress)


def build_embedder(settings: IngestSettings) -> Embedder:
    """The embedder the settings ask for: the one place the product, the CLI, eval and bench build it.

    Args:
        settings: The ingest settings (model folder, backend, prompts, batch size, threads).

    Returns:
        A cold embedder (``warm_up()`` loads it).
    """
    if settings.backend is Backend.ONNX_INT8:
        return OnnxEmbedder(settings.embedding_model, query_prompt=settings.query_prompt,
                            passage_prompt=settings.passage_prompt, threads=settings.onnx_threads)
    return SentenceTransformerEmbedder(settings.embedding_model, query_prompt=settings.query_prompt,
                                       passage_prompt=settings.passage_prompt, batch_size=settings.batch_size)
