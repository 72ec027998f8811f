"""Embedders: text → L2-normalised vectors. The protocol, and the sentence-transformers implementation."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ingest.errors import ModelError
from ingest.settings import IngestSettings

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
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = query_cache
        self._cache_lock = threading.Lock()
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
        if len(texts) != 1 or self._cache_size == 0:
            return self._encode(texts, self._query_prompt, False)
        key = texts[0]
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        vectors = self._encode_one(self._query_prompt + key)
        vectors.setflags(write=False)  # shared between callers: nobody may change it in place
        with self._cache_lock:
            self._cache[key] = vectors
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vectors

    def embed_passages(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Embed passages with the passage prompt, in batches."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, self._passage_prompt, progress)


def build_embedder(settings: IngestSettings) -> Embedder:
    """The embedder the settings name: the one place every command, the server and the eval build it.

    Cheap (the model loads in ``warm_up``).
    """
    return SentenceTransformerEmbedder(settings.embedding_model, query_prompt=settings.query_prompt,
                                       passage_prompt=settings.passage_prompt, batch_size=settings.batch_size)
