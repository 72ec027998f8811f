"""Values passed between the assistant's steps (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from ingest.chunk import Chunk

if TYPE_CHECKING:
    from assistant.grounding import Grounding


class RetrievalMode(StrEnum):
    """Which signals rank the chunks: both fused (the product), or one alone (the eval's baselines)."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


@dataclass(frozen=True, slots=True)
class Filters:
    """Metadata filters; an empty tuple means no restriction on that field."""

    kinds: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    as_of: date | None = None
    community: str | None = None  # with ``scoped``: the resident's community (None: a resident of none)
    scoped: bool = False          # leave out the documents of every community but ``community``

    def accepts(self, chunk: Chunk, today: date) -> bool:
        """True when the chunk passes every filter and is in force on the day."""
        if not chunk.is_effective(self.as_of or today):
            return False
        if self.kinds and chunk.kind not in self.kinds:
            return False
        if self.departments and chunk.department not in self.departments:
            return False
        if self.scoped and chunk.community is not None and chunk.community != self.community:
            return False
        return not self.tags or any(t in chunk.tags for t in self.tags)


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk with its fused score and the two scores behind it."""

    chunk: Chunk
    score: float
    dense: float
    sparse: float
    rank: int

    @property
    def citation(self) -> str:
        """``ENTRY-ID#clause`` for articles, the FAQ id for FAQ entries."""
        return self.chunk.chunk_id.split("~")[0]


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The ranked hits of one query and whether the KB covers it at all."""

    query: str
    hits: tuple[Hit, ...]
    found: bool
    best_dense: float
    timings_ms: dict[str, float] = field(default_factory=dict)
    grounding: Grounding | None = None  # whether the best entry speaks about the question (None: not checked)
    reason: str = ""  # why the KB does (not) cover the question: the threshold or grounding that decided it


@dataclass(frozen=True, slots=True)
class ResidentProfile:
    """What the desk knows about the resident writing (from their account or an earlier turn)."""

    name: str | None = None
    phone: str | None = None
    address: str | None = None
    vulnerable: bool = False
    community: str | None = None  # the id of the resident's community (kb/content/communities), if known
