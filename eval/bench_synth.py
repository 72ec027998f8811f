"""Synthetic KBs of any size made from the real one, and the ingest-throughput measurement on the real code path.

A synthetic chunk is a real chunk as another managed community (小区) would word it: the community's
name in front, its own sample amounts (fees, deposits, percentages varied), and for articles some
sentences recombined from a sibling clause of the same article. Each synthetic chunk is its own entry
with exactly one view, so it adds exactly one vector; the real KB's chunks (FAQ included) stay in
unchanged, so chat answers still work at every size.
"""

from __future__ import annotations

import random
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from eval.bench_measure import Stopwatch
from ingest.chunk import Chunk, split_sentences
from ingest.embed import Embedder
from ingest.index import IndexBuilder
from ingest.settings import IngestSettings
from ingest.tokens import Lexicon, Segmenter

_STEMS = ("锦绣", "翠湖", "阳光", "金桂", "碧水", "紫荆", "海棠", "枫林", "春江", "云栖", "滨江", "香樟",
          "银杏", "丽景", "东方", "世纪", "书香", "学府", "万象", "龙湖", "玉兰", "松涛", "明珠", "和园")
_SUFFIXES = ("花园", "苑", "华庭", "家园", "名邸", "公馆", "新城", "雅居", "府", "小区")
_PHASES = ("", "一期", "二期", "三期")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?(?=\s*(?:元|%|％|平方米|㎡))")
_FACTORS = (0.8, 0.9, 1.1, 1.2, 1.25, 1.5)


def community_names() -> tuple[str, ...]:
    """Plausible names of managed communities (960 of them: stem × suffix × phase)."""
    return tuple(f"{s}{x}{p}" for p in _PHASES for s in _STEMS for x in _SUFFIXES)


def _vary_amounts(text: str, rng: random.Random) -> str:
    def repl(m: re.Match[str]) -> str:
        value = float(m.group()) * rng.choice(_FACTORS)
        decimals = len(m.group().split(".")[1]) if "." in m.group() else 0
        return f"{value:.{decimals}f}"

    return _AMOUNT.sub(repl, text)


def _recombine(src: Chunk, sibling: Chunk, max_chars: int) -> str:
    """The first half of ``src``'s sentences followed by up to two of ``sibling``'s, within ``max_chars``."""
    own = split_sentences(src.text, 1)
    other = split_sentences(sibling.text, 1)
    out = ""
    for sentence in own[: max(1, (len(own) + 1) // 2)] + other[:2]:
        if out and len(out) + len(sentence) > max_chars:
            break
        out += sentence
    return out


def synthetic_chunks(base: Sequence[Chunk], n: int, *, seed: int = 7, max_chars: int = 400) -> list[Chunk]:
    """``n`` community variants of the ``base`` chunks, each its own entry with one view.

    Source chunk ``i % len(base)`` gets community ``i // len(base)``, so (source, community) pairs and
    therefore view texts are unique up to ``len(base) × 960`` chunks.

    Args:
        base: Real chunks to vary (articles and FAQ).
        n: How many synthetic chunks to make.
        seed: Seed of the variations (amounts, recombination).
        max_chars: Size limit of a recombined text.

    Returns:
        Chunks with ids ``SYN000001-<source id>`` and entry ids ``SYN000001``.
    """
    if not base:
        raise ValueError("synthetic_chunks needs at least one base chunk")
    rng = random.Random(seed)
    names = community_names()
    siblings: dict[str, list[Chunk]] = {}
    for c in base:
        if c.kind != "faq":
            siblings.setdefault(c.entry_id, []).append(c)
    out: list[Chunk] = []
    for i in range(n):
        src = base[i % len(base)]
        community = names[(i // len(base)) % len(names)]
        cycle = i // (len(base) * len(names))
        if cycle:  # beyond the unique (source, community) pairs: a numbered plot keeps the views unique
            community += f"{cycle + 1}号地块"
        mates = [s for s in siblings.get(src.entry_id, ()) if s.chunk_id != src.chunk_id]
        if src.kind != "faq" and mates and rng.random() < 0.4:
            text = _recombine(src, rng.choice(mates), max_chars)
        else:
            text = src.text
        text = _vary_amounts(text, rng)
        entry_id = f"SYN{i + 1:06d}"
        if src.kind == "faq":
            view = f"{community} {src.title} {text}"
            heading: tuple[str, ...] = (f"{src.title}（{community}）",)
        else:
            heading = (f"{src.title}（{community}）", *src.heading_path[1:])
            view = f"{' › '.join(heading)}：{text}"
        out.append(replace(
            src,
            chunk_id=f"{entry_id}-{src.chunk_id.replace('~', '-')}",
            entry_id=entry_id,
            title=f"{src.title}（{community}）",
            heading_path=heading,
            text=f"{community}：{text}" if src.kind == "faq" else text,
            views=(view,),
            search_text=f"{community} {view} {' '.join(src.tags)}",
            source=f"synthetic/{community}/{src.source}",
        ))
    return out


def synthetic_kb(real: Sequence[Chunk], total: int, *, seed: int = 7) -> list[Chunk]:
    """The real chunks plus synthetic ones up to ``total`` chunks (just the real ones if they reach it)."""
    return [*real, *synthetic_chunks(real, max(0, total - len(real)), seed=seed)]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Ingest throughput of one KB next to the raw encode ceiling measured in the same run.

    ``raw_*`` is ``SentenceTransformer.encode`` (same model, prompt, batch size) on ``raw_texts`` of the
    KB's view texts — all of them, or a random sample when ``raw_sampled`` — timed just before and just
    after the build; the ceiling is their mean. ``ingest_*`` is the real ``IndexBuilder`` full
    build (embed, FAISS, BM25 over jieba tokens, files, atomic swap). ``other_cpu_share`` is the share of
    the machine other processes used meanwhile (see ``SectionTime``).
    """

    tier: str
    chunks: int
    vectors: int
    index_type: str
    ingest_seconds: float
    ingest_chunks_per_s: float
    ingest_vectors_per_s: float
    raw_texts: int
    raw_sampled: bool
    raw_vectors_per_s: float
    raw_before_after: tuple[float, float]
    ratio_to_raw: float
    other_cpu_share: float


def build_index(chunks: Sequence[Chunk], index_dir: Path, settings: IngestSettings, embedder: Embedder,
                lexicon: Lexicon, *, progress: bool = False) -> tuple[float, int, str]:
    """Full build of ``chunks`` into a fresh ``index_dir`` with the real builder.

    Returns:
        Build seconds (the builder's own clock), vectors and the chosen index type.
    """
    shutil.rmtree(index_dir, ignore_errors=True)
    local = settings.model_copy(update={"index_dir": index_dir, "progress": progress, "keep_versions": 1})
    report = IndexBuilder(local, embedder, Segmenter(lexicon)).run(chunks, full=True)
    return report.seconds, report.n_vectors, report.index_type.value


def measure_ingest(tier: str, chunks: Sequence[Chunk], index_dir: Path, settings: IngestSettings,
                   embedder: Embedder, lexicon: Lexicon, raw_encode: Callable[[list[str]], object], *,
                   raw_sample: int = 3000, seed: int = 11, progress: bool = False) -> IngestResult:
    """Raw encode on (a sample of) the KB's view texts, the full ingest, raw encode again.

    Args:
        tier: Label of the KB in the report ("1k", "10k", …).
        chunks: Every chunk of the KB.
        index_dir: Where the index is built (emptied first).
        settings: Ingest settings (model prompts, chunk sizes, index type).
        embedder: The embedder the product ingests with.
        lexicon: BM25 tokenizer lexicon.
        raw_encode: The ceiling: encodes a list of passage texts with the bare model.
        raw_sample: Above this many texts the ceiling is measured on a random sample of this size.
        seed: Seed of the sample.
        progress: Show the embedding progress bar of the build.
    """
    texts = [v for c in chunks for v in c.views]
    sampled = len(texts) > raw_sample
    sample = random.Random(seed).sample(texts, raw_sample) if sampled else texts

    def ceiling() -> float:
        t0 = time.perf_counter()
        raw_encode(sample)
        return len(sample) / (time.perf_counter() - t0)

    clock = Stopwatch()
    before = ceiling()
    seconds, n_vectors, index_type = build_index(chunks, index_dir, settings, embedder, lexicon, progress=progress)
    after = ceiling()
    raw = (before + after) / 2  # the machine's state drifts over a long build: average the two
    vps = n_vectors / seconds
    return IngestResult(tier, len(chunks), n_vectors, index_type, round(seconds, 2), round(len(chunks) / seconds, 1),
                        round(vps, 1), len(sample), sampled, round(raw, 1), (round(before, 1), round(after, 1)),
                        round(vps / raw, 3), clock.stop().other_share)
