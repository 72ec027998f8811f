"""Content gaps: the questions the KB failed on, and the report that groups them into FAQ entries to write.

A gap is recorded (``assistant/desk.py``, ``assistant/store/feedback.py``) when a question was not found in the KB
and went to a person, when a resident asked for a person right after an answer, when a resident voted an answer
down (踩), and when an agent corrected an answer. The report clusters their wordings by meaning with the embedding
model (``assistant/clustering.py``), ranks the clusters by volume weighted for recency, and for each gives example
wordings, the KB entries nearest to it now and why they do not answer, and a draft FAQ entry in the KB's schema
(question, paraphrases, an empty answer for a person to write, suggested basis, tags and department).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
import yaml

from assistant.clustering import ClusterMethod, Vectors, cluster
from assistant.conversation import Reply
from assistant.retrieve import HybridRetriever
from assistant.settings import GapSettings
from assistant.turn import TurnKind
from assistant.types import Filters, Retrieval
from kb.load import KnowledgeBase


class GapKind(StrEnum):
    """Why a question counts as a gap."""

    NOT_FOUND = "not_found"      # the KB did not cover it; a person answers
    HANDOFF = "handoff"          # the resident asked for a person right after the answer
    DOWNVOTE = "downvote"        # the resident voted the answer down (踩)
    CORRECTION = "correction"    # an agent corrected the answer


@dataclass(frozen=True, slots=True)
class NearEntry:
    """A KB entry retrieval ranked near a question, with its scores."""

    ref: str
    entry_id: str
    title: str
    kind: str
    dense: float
    bm25: float
    score: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (stored with the gap)."""
        return {"ref": self.ref, "entry_id": self.entry_id, "title": self.title, "kind": self.kind,
                "dense": self.dense, "bm25": self.bm25, "score": self.score}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What retrieval saw for a question when it was recorded: the nearest entries and why they did not answer."""

    reason: str
    best_dense: float
    found: bool
    nearest: tuple[NearEntry, ...]

    @classmethod
    def of(cls, retrieval: Retrieval, *, top: int = 3) -> Snapshot:
        """The snapshot of one retrieval."""
        return cls(retrieval.reason, retrieval.best_dense, retrieval.found, tuple(
            NearEntry(h.citation, h.chunk.entry_id, h.chunk.title, h.chunk.kind, h.dense, h.sparse, h.score)
            for h in retrieval.hits[:top]))

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (the gap row's ``detail``)."""
        return {"reason": self.reason, "best_dense": self.best_dense, "found": self.found,
                "nearest": [n.to_json() for n in self.nearest]}


def gap_of(reply: Reply) -> GapKind | None:
    """The gap a resident's turn shows by itself: a question the KB did not cover (None otherwise).

    Off-topic chit-chat declined politely, reports, emergencies and small talk are not gaps.
    """
    if reply.kind is not TurnKind.QUESTION or reply.retrieval is None or reply.answer is None:
        return None
    return GapKind.NOT_FOUND if reply.answer.handoff else None


@dataclass(frozen=True, slots=True)
class GapItem:
    """One recorded gap, as the report reads it."""

    id: int
    kind: GapKind
    question: str
    created_at: datetime
    note: str | None = None
    reason: str = ""
    community: str | None = None


@dataclass(frozen=True, slots=True)
class DraftFaq:
    """A FAQ entry to write, in the KB's schema (kb/schema.py FaqEntry); the answer is left for a person."""

    id: str
    question: str
    paraphrases: tuple[str, ...]
    basis: tuple[str, ...]
    department: str
    tags: tuple[str, ...]

    def yaml(self) -> str:
        """The entry as YAML to paste into a file of kb/content/faq/ (after writing the answer)."""
        entry = {"id": self.id, "question": self.question, "paraphrases": list(self.paraphrases), "answer": "",
                 "basis": list(self.basis), "department": self.department, "tags": list(self.tags)}
        return yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=200)


@dataclass(frozen=True, slots=True)
class GapCluster:
    """Questions that ask the same thing, with what the KB has near them and a draft entry."""

    rank: int
    size: int
    weight: float
    first_seen: datetime
    last_seen: datetime
    kinds: dict[str, int]
    examples: tuple[str, ...]
    notes: tuple[str, ...]
    nearest: tuple[NearEntry, ...]
    why: str
    draft: DraftFaq
    gap_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class GapReport:
    """The content-gap report."""

    generated_at: datetime
    questions: int
    clusters: tuple[GapCluster, ...]
    cluster_count: int
    threshold: float
    method: str
    seconds: dict[str, float]


def _normal(text: str) -> str:
    return "".join(text.split()).rstrip("？?。!！.")


class GapReporter:
    """Builds the gap report from recorded gaps. Holds the retriever (model + index) and the KB it reports on."""

    def __init__(self, kb: KnowledgeBase, retriever: HybridRetriever, settings: GapSettings) -> None:
        self.kb = kb
        self.retriever = retriever
        self.settings = settings

    def embed(self, questions: Sequence[str]) -> Vectors:
        """Embed questions the way retrieval does (normalised, query prompt), in batches."""
        normal = [self.retriever.normalize(q) for q in questions]
        if not normal:
            return np.zeros((0, 1), dtype=np.float32)
        return self.retriever.embedder.embed_queries(normal)

    def run(self, items: Sequence[GapItem], vectors: Vectors, *, now: datetime, top: int | None = None) -> GapReport:
        """Cluster the gaps and describe the ``top`` clusters.

        Args:
            items: The recorded gaps (any order).
            vectors: One unit vector per item, same order.
            now: The time recency is measured from.
            top: How many clusters to describe (default from settings).
        """
        s = self.settings
        started = time.perf_counter()
        clusters = cluster(vectors, threshold=s.threshold, method=ClusterMethod(s.method))
        clustered = time.perf_counter()
        described = []
        for label in range(clusters.count):
            members = [items[int(i)] for i in clusters.members(label)]
            weight = sum(0.5 ** (max((now - m.created_at).total_seconds(), 0) / 86400 / s.half_life_days)
                         for m in members)
            described.append((weight, label, members))
        described.sort(key=lambda d: (-d[0], -len(d[2]), -max(m.created_at for m in d[2]).timestamp()))
        out = [self._describe(rank, weight, members)
               for rank, (weight, _, members) in enumerate(described[: top or s.top], start=1)]
        return GapReport(now, len(items), tuple(out), clusters.count, s.threshold, s.method,
                         {"cluster": round(clustered - started, 3),
                          "describe": round(time.perf_counter() - clustered, 3)})

    def _describe(self, rank: int, weight: float, members: list[GapItem]) -> GapCluster:
        wordings = list(dict.fromkeys(m.question.strip() for m in members))
        distinct: list[str] = []
        seen: set[str] = set()
        for w in wordings:  # the centre first (members() puts it first), then the others as they came
            if _normal(w) not in seen:
                seen.add(_normal(w))
                distinct.append(w)
        centre = distinct[0]
        # searched as the residents who asked searched: their community's documents, no other community's
        community = Counter(m.community for m in members).most_common(1)[0][0]
        retrieval = self.retriever.run(centre, top_k=3, filters=Filters(community=community, scoped=True))
        nearest = Snapshot.of(retrieval).nearest
        notes = tuple(dict.fromkeys(m.note for m in members if m.note))[: self.settings.examples]
        draft = self._draft(rank, distinct, retrieval)
        return GapCluster(rank=rank, size=len(members), weight=round(weight, 3),
                          first_seen=min(m.created_at for m in members), last_seen=max(m.created_at for m in members),
                          kinds=dict(Counter(m.kind.value for m in members)),
                          examples=tuple(distinct[: self.settings.examples]), notes=notes, nearest=nearest,
                          why=retrieval.reason if not retrieval.found or not retrieval.hits else
                          f"answered from {retrieval.hits[0].citation}, which did not help ("
                          f"{', '.join(f'{k} {n}' for k, n in Counter(m.kind.value for m in members).items())}): "
                          f"{retrieval.reason}",
                          draft=draft, gap_ids=tuple(m.id for m in members))

    def _draft(self, rank: int, wordings: list[str], retrieval: Retrieval) -> DraftFaq:
        question = wordings[0].rstrip("。.!！ ")
        if not question.endswith(("？", "?")):
            question += "？"
        basis: list[str] = []
        departments: Counter[str] = Counter()
        tags: Counter[str] = Counter()
        faqs = {e.id: e for e in self.kb.faqs}
        for hit in retrieval.hits[:3]:
            chunk = hit.chunk
            if chunk.department:
                departments[chunk.department] += 1
            tags.update(chunk.tags)
            basis.extend(faqs[chunk.entry_id].basis if chunk.entry_id in faqs else
                         [hit.citation] if chunk.kind not in ("document", "curated") else [])
        segmenter = self.retriever.index.segmenter
        words = Counter(w for text in wordings for w in dict.fromkeys(segmenter.content_words(text)))
        specific = [w for w, n in words.most_common() if segmenter.specificity(w) >= 8 and n >= 1][:2]
        suggested = list(dict.fromkeys([t for t, _ in tags.most_common(2)] + specific))[:4]
        department = departments.most_common(1)[0][0] if departments else "客服部"
        return DraftFaq(id=f"FAQ-NEW-{rank:03d}", question=question, paraphrases=tuple(wordings[1:6]),
                        basis=tuple(dict.fromkeys(basis))[:2], department=department, tags=tuple(suggested))


def report_json(report: GapReport) -> dict[str, Any]:
    """The report as JSON (the CLI's ``--json``; the HTTP route maps the same fields)."""
    return {
        "generated_at": report.generated_at.isoformat(), "questions": report.questions,
        "cluster_count": report.cluster_count, "threshold": report.threshold, "method": report.method,
        "seconds": report.seconds,
        "clusters": [{
            "rank": c.rank, "size": c.size, "weight": c.weight, "first_seen": c.first_seen.isoformat(),
            "last_seen": c.last_seen.isoformat(), "kinds": c.kinds, "examples": list(c.examples),
            "notes": list(c.notes), "nearest": [n.to_json() for n in c.nearest], "why": c.why,
            "draft": {"id": c.draft.id, "question": c.draft.question, "paraphrases": list(c.draft.paraphrases),
                      "answer": "", "basis": list(c.draft.basis), "department": c.draft.department,
                      "tags": list(c.draft.tags), "yaml": c.draft.yaml()},
        } for c in report.clusters],
    }


def vector_bytes(vector: Vectors) -> bytes:
    """A unit vector as float32 bytes (how a gap row keeps it)."""
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def vector_of(blob: bytes, dimension: int) -> Vectors | None:
    """A stored vector back, or None when its size does not match the model's dimension."""
    v = np.frombuffer(blob, dtype=np.float32)
    return v if v.shape == (dimension,) and math.isfinite(float(v.sum())) else None
