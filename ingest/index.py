"""The search index on disk: FAISS vectors + BM25 + chunks + manifest, built atomically and incrementally.

Layout under the index root::

    current -> versions/20261127T120000-ab12cd    symlink swapped atomically when a build completes
    versions/<id>/manifest.json                    model, dimension, chunker and FAISS settings, content hashes
    versions/<id>/chunks.jsonl                     one Chunk per line
    versions/<id>/vectors.npy, rows.npy            every view's vector and the chunk row it points at
    versions/<id>/view_hashes.json                 hash per vector row, reused by incremental builds
    versions/<id>/faiss.index, bm25/               the two search structures
    .lock                                          held while a build runs

A build writes a new version folder and only then repoints ``current``; a build that fails or is
killed leaves the previous version serving. Readers resolve ``current`` once when they load.
``IndexBuilder.up_to_date`` compares the manifest's ``content_hash`` (every chunk, the lexicon and the index
settings) and model with what a build would write, so an unchanged KB publishes no new version.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError

from ingest.chunk import Chunk
from ingest.embed import Embedder, Vectors
from ingest.errors import IndexMismatchError, IndexMissingError, IngestError
from ingest.settings import FaissSettings, IndexType, IngestSettings
from ingest.tokens import Lexicon, Segmenter, TextNormalizer

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class Manifest(BaseModel):
    """What an index was built from; checked on every load."""

    format_version: int
    model_id: str
    dimension: int
    query_prompt: str
    passage_prompt: str
    max_chunk_chars: int
    index_type: IndexType
    n_chunks: int
    n_vectors: int
    entries: dict[str, str]  # entry id → hash of its chunks
    built_at: datetime
    build_seconds: float
    vectors_embedded: int
    vectors_reused: int
    faiss: FaissSettings = FaissSettings()  # indexes built before it was recorded used these defaults
    content_hash: str | None = None  # ``content_hash()`` of the build; None for indexes built before it existed


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What an ingest did."""

    version: str
    n_chunks: int
    n_vectors: int
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    vectors_embedded: int
    vectors_reused: int
    seconds: float
    index_type: IndexType


def _view_hash(prompt: str, text: str) -> str:
    return hashlib.sha256(f"{prompt}\0{text}".encode()).hexdigest()[:20]


def _entry_hashes(chunks: Sequence[Chunk]) -> dict[str, str]:
    per_entry: dict[str, hashlib._Hash] = {}
    for c in chunks:
        per_entry.setdefault(c.entry_id, hashlib.sha256()).update(c.content_hash.encode())
    return {k: h.hexdigest()[:16] for k, h in sorted(per_entry.items())}


def _chunk_to_json(chunk: Chunk) -> str:
    data = asdict(chunk)
    for key in ("effective_from", "effective_to"):
        data[key] = data[key].isoformat() if data[key] else None
    return json.dumps(data, ensure_ascii=False)


def _chunk_from_json(line: str) -> Chunk:
    d = json.loads(line)
    for key in ("effective_from", "effective_to"):
        d[key] = date.fromisoformat(d[key]) if d[key] else None
    for key in ("heading_path", "tags", "views", "basis"):
        d[key] = tuple(d[key])
    return Chunk(**d)


def content_hash(chunks: Sequence[Chunk], lexicon: Lexicon, settings: IngestSettings) -> str:
    """One hash of everything a build writes besides the vectors' model: every chunk as stored, the lexicon
    BM25 tokenises with, the prompts and the index settings. Equal hashes and models mean an identical index.
    """
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(_chunk_to_json(chunk).encode())
        h.update(b"\n")
    h.update(json.dumps([lexicon.terms, lexicon.stopwords, sorted(lexicon.synonyms.items()), lexicon.generic],
                        ensure_ascii=False).encode())
    h.update(settings.model_dump_json(include={"query_prompt", "passage_prompt", "max_chunk_chars", "index_type",
                                               "auto_threshold", "faiss"}).encode())
    return h.hexdigest()


def choose_index_type(setting: IndexType, n_vectors: int, auto_threshold: int) -> IndexType:
    """Resolve ``auto`` by size: exact flat search while it is cheap, HNSW beyond."""
    if setting is not IndexType.AUTO:
        return setting
    return IndexType.FLAT if n_vectors <= auto_threshold else IndexType.HNSW


def build_faiss(vectors: Vectors, index_type: IndexType, params: FaissSettings | None = None) -> faiss.Index:
    """Build an inner-product FAISS index of the given type over unit vectors."""
    p = params or FaissSettings()
    n, dim = vectors.shape
    index: faiss.Index
    if index_type is IndexType.HNSW:
        index = faiss.IndexHNSWFlat(dim, p.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = p.hnsw_ef_construction
        index.hnsw.efSearch = p.hnsw_ef_search
    elif index_type is IndexType.IVF:
        nlist = max(1, min(p.ivf_max_lists, int(p.ivf_lists_per_sqrt * np.sqrt(max(n, 1)))))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        if n:
            index.train(vectors)
        index.nprobe = min(nlist, p.ivf_nprobe)
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(vectors)
    return index


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestError(f"another ingest is already running on {root}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class KBIndex:
    """A loaded, read-only index version: chunks, vectors, FAISS, BM25 and the manifest."""

    def __init__(
        self,
        *,
        path: Path,
        manifest: Manifest,
        chunks: list[Chunk],
        rows: npt.NDArray[np.int32],
        faiss_index: faiss.Index,
        bm25: bm25s.BM25,
        segmenter: Segmenter,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.chunks = chunks
        self.rows = rows
        self.faiss_index = faiss_index
        self.bm25 = bm25
        self.by_id = {c.chunk_id: i for i, c in enumerate(chunks)}
        self.segmenter = segmenter

    @cached_property
    def _entry_texts(self) -> dict[str, str]:
        texts: dict[str, list[str]] = {}
        for c in self.chunks:
            texts.setdefault(c.entry_id, []).append(c.search_text)
        normalize = TextNormalizer()
        return {k: normalize("\n".join(v)) for k, v in texts.items()}

    def entry_text(self, entry_id: str) -> str:
        """The normalised text of all chunks of one KB entry (what grounding checks a question against)."""
        return self._entry_texts.get(entry_id, "")

    @property
    def version(self) -> str:
        """The version folder name."""
        return self.path.name

    @classmethod
    def load(cls, root: Path, *, model_id: str, dimension: int | None = None) -> KBIndex:
        """Load the live version under ``root``.

        Args:
            root: Index root (holds ``current``).
            model_id: The configured embedding model; must equal the one the index was built with.
            dimension: The configured model's vector size, checked when given.

        Raises:
            IndexMissingError: Nothing has been built at ``root``.
            IndexMismatchError: The index was built with another model or dimension.
            IngestError: A file of the index is missing or corrupted.
        """
        current = root / "current"
        if not current.exists():
            raise IndexMissingError(root)
        path = current.resolve()
        manifest_path = path / "manifest.json"
        try:
            manifest = Manifest.model_validate_json(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise IngestError(
                f"index manifest {manifest_path} is missing or corrupted ({exc}); rebuild with `wuye ingest --full`"
            ) from exc
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMismatchError("format_version", manifest.format_version, FORMAT_VERSION)
        if manifest.model_id != model_id:
            raise IndexMismatchError("embedding model", manifest.model_id, model_id)
        if dimension is not None and manifest.dimension != dimension:
            raise IndexMismatchError("dimension", manifest.dimension, dimension)
        try:
            with open(path / "chunks.jsonl", encoding="utf-8") as fh:
                chunks = [_chunk_from_json(line) for line in fh if line.strip()]
            rows = np.load(path / "rows.npy")
            faiss_index = faiss.read_index(str(path / "faiss.index"))
            bm25 = bm25s.BM25.load(str(path / "bm25"), show_progress=False)
            lex = json.loads((path / "lexicon.json").read_text(encoding="utf-8"))
            lexicon = Lexicon(tuple(lex["terms"]), tuple(lex["stopwords"]),
                              {k: tuple(v) for k, v in lex["synonyms"].items()}, tuple(lex.get("generic", ())),
                              tuple((a[0], a[1], a[2]) for a in lex.get("asks", ())),
                              tuple(lex.get("ambient", ())))
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise IngestError(
                f"index files under {path} are missing or corrupted ({exc}); rebuild with `wuye ingest --full`"
            ) from exc
        if len(chunks) != manifest.n_chunks or faiss_index.ntotal != manifest.n_vectors:
            raise IngestError(
                f"index under {path} is inconsistent with its manifest; rebuild with `wuye ingest --full`")
        if isinstance(faiss_index, faiss.IndexHNSW):  # efSearch is not stored in the FAISS file
            faiss_index.hnsw.efSearch = manifest.faiss.hnsw_ef_search
        return cls(path=path, manifest=manifest, chunks=chunks, rows=rows, faiss_index=faiss_index, bm25=bm25,
                   segmenter=Segmenter(lexicon))

    def dense(self, query: Vectors, k: int) -> dict[int, float]:
        """Chunk row → best cosine among its views, for the ``k`` nearest vectors."""
        k = min(k, self.faiss_index.ntotal)
        if k <= 0:
            return {}
        scores, ids = self.faiss_index.search(query.reshape(1, -1), k)
        best: dict[int, float] = {}
        for score, vid in zip(scores[0], ids[0], strict=True):
            if vid < 0:
                continue
            row = int(self.rows[vid])
            if float(score) > best.get(row, -1.0):
                best[row] = float(score)
        return best

    def sparse(self, tokens: list[str]) -> npt.NDArray[np.float32]:
        """BM25 score of every chunk for the query tokens (zeros when no token is known)."""
        known = [t for t in tokens if t in self.bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)


class IndexBuilder:
    """Builds a new index version from chunks, reusing vectors of unchanged views."""

    def __init__(self, settings: IngestSettings, embedder: Embedder, segmenter: Segmenter) -> None:
        self._settings = settings
        self._embedder = embedder
        self._segmenter = segmenter

    def _previous(self, root: Path, full: bool) -> tuple[Manifest | None, dict[str, npt.NDArray[np.float32]]]:
        current = root / "current"
        if full or not current.exists():
            return None, {}
        path = current.resolve()
        try:
            manifest = Manifest.model_validate_json((path / "manifest.json").read_text(encoding="utf-8"))
            if (manifest.model_id != self._embedder.model_id
                    or manifest.passage_prompt != self._settings.passage_prompt):
                log.info("previous index used another model or prompt: embedding everything")
                return manifest, {}
            hashes: list[str] = json.loads((path / "view_hashes.json").read_text(encoding="utf-8"))
            vectors = np.load(path / "vectors.npy", mmap_mode="r")
        except (OSError, ValueError, ValidationError) as exc:
            log.warning("previous index unreadable (%s): embedding everything", exc)
            return None, {}
        return manifest, {h: vectors[i] for i, h in enumerate(hashes)}

    def up_to_date(self, chunks: Sequence[Chunk]) -> str | None:
        """The live version when it was built from exactly these chunks, lexicon, settings and model, else None.

        Reads only the manifest: no model is loaded, nothing is embedded.
        """
        current = self._settings.index_dir / "current"
        try:
            manifest = Manifest.model_validate_json((current.resolve() / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return None
        if (manifest.format_version != FORMAT_VERSION or manifest.model_id != self._embedder.model_id
                or manifest.content_hash != content_hash(chunks, self._segmenter.lexicon, self._settings)):
            return None
        return current.resolve().name

    def run(self, chunks: Sequence[Chunk], *, full: bool = False) -> BuildReport:
        """Embed what changed, build FAISS and BM25 into a new version, then swap it live.

        Args:
            chunks: Every chunk the new index must hold.
            full: Re-embed everything instead of reusing unchanged vectors.

        Returns:
            What changed and how long it took.

        Raises:
            IngestError: Another build holds the lock, or the chunks are unusable.
        """
        if not chunks:
            raise IngestError("nothing to index: the knowledge base produced no chunks")
        ids = [c.chunk_id for c in chunks]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise IngestError(f"duplicate chunk ids {dupes}")
        root = self._settings.index_dir
        started = time.perf_counter()
        with _build_lock(root):
            version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + os.urandom(3).hex()
            versions = root / "versions"
            versions.mkdir(parents=True, exist_ok=True)
            tmp = versions / f".building-{version}"
            tmp.mkdir()
            try:
                report = self._build(tmp, version, chunks, full, started)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            self._prune(versions, keep=self._settings.keep_versions, live=version)
        return report

    def _build(self, tmp: Path, version: str, chunks: Sequence[Chunk], full: bool, started: float) -> BuildReport:
        root = self._settings.index_dir
        self._embedder.warm_up()
        self._segmenter.warm_up()
        previous, reuse = self._previous(root, full)
        prompt = self._settings.passage_prompt
        view_texts: list[str] = []
        rows: list[int] = []
        for i, chunk in enumerate(chunks):
            for view in chunk.views:
                view_texts.append(view)
                rows.append(i)
        hashes = [_view_hash(prompt, t) for t in view_texts]
        missing = sorted({h: i for i, h in enumerate(hashes) if h not in reuse}.values())
        # BM25 tokenising (jieba, pure Python) runs on a second thread while the model embeds (torch
        # releases the GIL), so ingest stays close to the raw encode throughput
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bm25-tokens") as pool:
            tokens = pool.submit(self._bm25_tokens, chunks)
            fresh = self._embedder.embed_passages(
                [view_texts[i] for i in missing], progress=self._settings.progress and len(missing) > 200
            )
            corpus = tokens.result()
        dim = self._embedder.dimension
        vectors = np.zeros((len(view_texts), dim), dtype=np.float32)
        fresh_by_hash = {hashes[i]: fresh[j] for j, i in enumerate(missing)}
        for i, h in enumerate(hashes):
            vectors[i] = fresh_by_hash[h] if h in fresh_by_hash else reuse[h]
        index_type = choose_index_type(self._settings.index_type, len(vectors), self._settings.auto_threshold)

        self._write(tmp, chunks, vectors, np.asarray(rows, dtype=np.int32), hashes, index_type, corpus)
        entries = _entry_hashes(chunks)
        old = previous.entries if previous else {}
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model_id=self._embedder.model_id,
            dimension=dim,
            query_prompt=self._settings.query_prompt,
            passage_prompt=prompt,
            max_chunk_chars=self._settings.max_chunk_chars,
            index_type=index_type,
            n_chunks=len(chunks),
            n_vectors=len(vectors),
            entries=entries,
            built_at=datetime.now(UTC),
            build_seconds=round(time.perf_counter() - started, 3),
            vectors_embedded=len(missing),
            vectors_reused=len(view_texts) - len(missing),
            faiss=self._settings.faiss,
            content_hash=content_hash(chunks, self._segmenter.lexicon, self._settings),
        )
        (tmp / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        tmp.rename(tmp.parent / version)
        link = root / f".current-{version}"
        link.symlink_to(Path("versions") / version)
        os.replace(link, root / "current")  # the atomic swap
        return BuildReport(
        version=version,
        n_chunks=len(chunks),
        n_vectors=len(vectors),
        added=tuple(sorted(set(entries) - set(old))),
        changed=tuple(sorted(k for k in entries if k in old and old[k] != entries[k])),
        removed=tuple(sorted(set(old) - set(entries))),
        vectors_embedded=len(missing),
        vectors_reused=len(view_texts) - len(missing),
        seconds=round(time.perf_counter() - started, 3),
        index_type=index_type,
        )

    def _write(
        self,
        folder: Path,
        chunks: Sequence[Chunk],
        vectors: Vectors,
        rows: npt.NDArray[np.int32],
        hashes: list[str],
        index_type: IndexType,
        corpus: list[list[str]],
    ) -> None:
        with open(folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for chunk in chunks:
                fh.write(_chunk_to_json(chunk) + "\n")
        np.save(folder / "vectors.npy", vectors)
        np.save(folder / "rows.npy", rows)
        (folder / "view_hashes.json").write_text(json.dumps(hashes), encoding="utf-8")
        faiss.write_index(build_faiss(vectors, index_type, self._settings.faiss), str(folder / "faiss.index"))
        lex = self._segmenter.lexicon
        (folder / "lexicon.json").write_text(json.dumps(
            {"terms": lex.terms, "stopwords": lex.stopwords, "synonyms": lex.synonyms, "generic": lex.generic,
             "asks": lex.asks, "ambient": lex.ambient},
            ensure_ascii=False),
            encoding="utf-8")
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        bm25.save(str(folder / "bm25"), show_progress=False)

    def _bm25_tokens(self, chunks: Sequence[Chunk]) -> list[list[str]]:
        lex = self._segmenter.lexicon
        return [self._segmenter(lex.expand(c.search_text)) or ["<empty>"] for c in chunks]

    @staticmethod
    def _prune(versions: Path, *, keep: int, live: str) -> None:
        """Delete old versions and leftovers of killed builds, keeping the newest ``keep``."""
        done = sorted((p for p in versions.iterdir() if not p.name.startswith(".")), reverse=True)
        for old in done[keep:]:
            if old.name != live:
                shutil.rmtree(old, ignore_errors=True)
        for leftover in versions.glob(".building-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def index_status(root: Path) -> dict[str, Any]:
    """A small summary of the live index (for `wuye ingest --status` and readiness)."""
    current = root / "current"
    if not current.exists():
        return {"built": False, "root": str(root)}
    manifest = Manifest.model_validate_json((current.resolve() / "manifest.json").read_text(encoding="utf-8"))
    return {"built": True, "version": current.resolve().name,
            **manifest.model_dump(mode="json", exclude={"entries"})}
