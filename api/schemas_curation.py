"""Request and response shapes of the KB improvement loop: votes, gaps, corrections, hit tests, communities."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import MAX_MESSAGE, _In
from api.schemas_knowledge import SearchHitOut
from assistant.gaps import GapReport, report_json


class VoteIn(_In):
    """A resident's 赞 (up) or 踩 (down) on an answer, with an optional reason."""

    vote: Literal["up", "down"]
    reason: str | None = Field(None, max_length=500, description="Why the answer did not help (optional)")


class VoteOut(BaseModel):
    """The stored vote."""

    turn_id: int
    vote: str
    reason: str | None
    entries: list[str]


class EntryVotesOut(BaseModel):
    """赞 and 踩 counts of one KB entry (over the answers that cited it), with the latest 踩 reasons."""

    entry_id: str
    title: str
    up: int
    down: int
    last_vote: datetime
    reasons: list[str]


class NearOut(BaseModel):
    """A KB entry near a question, with its scores."""

    ref: str
    entry_id: str
    title: str
    kind: str
    dense: float
    bm25: float
    score: float


class DraftOut(BaseModel):
    """A draft FAQ entry (kb/schema.py FaqEntry) with an empty answer, and the same as YAML."""

    id: str
    question: str
    paraphrases: list[str]
    answer: str = ""
    basis: list[str]
    department: str
    tags: list[str]
    yaml: str


class GapClusterOut(BaseModel):
    """Questions asking the same thing that the KB failed on."""

    rank: int
    size: int
    weight: float = Field(description="Volume weighted for recency (each question halves every half-life)")
    first_seen: datetime
    last_seen: datetime
    kinds: dict[str, int] = Field(description="not_found, handoff, downvote, correction")
    examples: list[str]
    notes: list[str] = Field(description="Residents' 踩 reasons and agents' corrections")
    nearest: list[NearOut]
    why: str = Field(description="Why the nearest entry does not answer (the score floor or grounding)")
    draft: DraftOut


class GapReportOut(BaseModel):
    """The content-gap report."""

    generated_at: datetime
    questions: int
    cluster_count: int
    threshold: float
    method: str
    seconds: dict[str, float]
    clusters: list[GapClusterOut]

    @classmethod
    def of(cls, r: GapReport) -> GapReportOut:
        """Map a report (``assistant.gaps.report_json``: the one mapping, shared with `wuye kb gaps --json`)."""
        return cls.model_validate(report_json(r))


class CorrectionIn(_In):
    """An agent's corrected answer to the resident's question of one turn."""

    turn_id: int = Field(ge=1, le=2**31 - 1)
    answer: str = Field(min_length=4, max_length=MAX_MESSAGE)


class CorrectionOut(BaseModel):
    """A correction and where its review stands."""

    id: int
    turn_id: int | None
    conversation_id: str | None
    question: str
    original: str
    answer: str
    agent: str
    status: str
    reviewer: str | None
    entry_id: str | None
    review_note: str | None
    created_at: datetime
    reviewed_at: datetime | None

    @classmethod
    def of(cls, c: Any) -> CorrectionOut:
        """Map a correction row."""
        return cls(id=c.id, turn_id=c.turn_id, conversation_id=c.conversation_id, question=c.question,
                   original=c.original, answer=c.answer, agent=c.agent, status=c.status, reviewer=c.reviewer,
                   entry_id=c.entry_id, review_note=c.review_note, created_at=c.created_at, reviewed_at=c.reviewed_at)


class ApproveIn(_In):
    """An admin's approval, optionally editing the entry before it is written."""

    question: str | None = Field(None, min_length=2, max_length=200)
    answer: str | None = Field(None, min_length=4, max_length=MAX_MESSAGE)
    paraphrases: list[str] = Field(default_factory=list, max_length=20)
    department: str | None = Field(None, min_length=1, max_length=32)
    tags: list[str] = Field(default_factory=list, max_length=10)


class RejectIn(_In):
    """An admin's rejection."""

    note: str | None = Field(None, max_length=500)


class ApprovedOut(BaseModel):
    """An approved correction: the curated entry written and the ingest that makes it live."""

    correction: CorrectionOut
    entry_id: str
    file: str
    ingest: str = Field(description="The background ingest's state (GET /api/kb/ingest for progress)")


class HitTestOut(BaseModel):
    """What retrieval returns for a question and what the assistant would do with it, and why."""

    query: str
    community: str | None
    found: bool
    reason: str = Field(description="The score floor or grounding that decided whether the KB covers it")
    best_dense: float
    thresholds: dict[str, float]
    grounding: dict[str, Any] | None
    hits: list[SearchHitOut]
    decision: str = Field(description="answer, curated_answer, not_found (a person answers), out_of_scope, "
                                      "emergency, report, or an everyday turn")
    why: str = Field(description="Why the assistant decided so")
    answered: bool
    reply: str
    triage: dict[str, Any]


class CommunityOut(BaseModel):
    """A community (小区) and the values it sets differently from the company's."""

    id: str
    name: str
    address: str
    values: dict[str, str]
