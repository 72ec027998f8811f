"""Shapes of knowledge, triage and answers, shared by the HTTP routes and the `wuye` commands."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import MAX_MESSAGE, CitationOut, _In
from assistant.reindex import IngestJob
from assistant.service import Reply
from assistant.sla import Deadline
from assistant.types import Hit, Retrieval
from ingest.chunk import Chunk
from kb.load import Article
from kb.schema import FaqEntry

SNIPPET_CHARS = 200  # of a hit's text, wherever a hit is shown (search, hit test)


def snippet(chunk: Chunk) -> str:
    """The start of a chunk's text as a hit shows it."""
    return chunk.text[:SNIPPET_CHARS]


class SearchHitOut(BaseModel):
    """One search hit: the entry and clause it cites, a snippet and the three scores (search, hit test, CLI)."""

    rank: int
    entry_id: str
    citation: str = Field(description="ENTRY-ID#clause for articles, the FAQ id for FAQ entries")
    title: str
    clause: str | None
    heading: str
    kind: str
    community: str | None = Field(description="The community (小区) whose own document this is, if any")
    snippet: str
    score: float = Field(description="Weighted reciprocal-rank fusion, 1.0 = first in both rankings")
    dense: float = Field(description="Best cosine among the entry's vectors")
    bm25: float = Field(description="BM25 over jieba tokens with the domain dictionary")

    @classmethod
    def of(cls, h: Hit) -> SearchHitOut:
        """Map a retrieval hit."""
        c = h.chunk
        return cls(rank=h.rank, entry_id=c.entry_id, citation=h.citation, title=c.title, clause=c.clause,
                   heading=" › ".join(c.heading_path), kind=c.kind, community=c.community, snippet=snippet(c),
                   score=h.score, dense=h.dense, bm25=h.sparse)


class SearchOut(BaseModel):
    """The hits of one query and whether the KB covers it (below the score floor: not found)."""

    query: str
    found: bool
    best_dense: float
    hits: list[SearchHitOut]

    @classmethod
    def of(cls, query: str, r: Retrieval) -> SearchOut:
        """Map a retrieval."""
        return cls(query=query, found=r.found, best_dense=r.best_dense, hits=[SearchHitOut.of(h) for h in r.hits])


class ClauseOut(BaseModel):
    """A numbered clause of an article."""

    ref: str
    number: str
    heading: str
    text: str


class ArticleOut(BaseModel):
    """A policy, SOP, emergency plan or regulation with its clauses."""

    id: str
    kind: str
    title: str
    department: str
    tags: list[str]
    effective_from: date | None
    effective_to: date | None
    scope: str
    note: str | None
    clauses: list[ClauseOut]

    @classmethod
    def of(cls, article: Article) -> ArticleOut:
        """Map a loaded article."""
        m = article.meta
        return cls(id=m.id, kind=m.type.value, title=m.title, department=m.department, tags=m.tags,
                   effective_from=m.effective_from, effective_to=m.effective_to, scope=m.scope, note=m.note,
                   clauses=[ClauseOut(ref=c.ref, number=c.number, heading=c.heading, text=c.text)
                            for c in article.clauses])


class FaqOut(BaseModel):
    """An FAQ entry, or a curated one (an agent's answer an admin approved)."""

    id: str
    kind: Literal["faq", "curated"]
    title: str
    question: str
    paraphrases: list[str]
    answer: str
    basis: list[str]
    department: str
    tags: list[str]

    @classmethod
    def of(cls, e: FaqEntry) -> FaqOut:
        """Map an FAQ entry of the loaded KB."""
        return cls(id=e.id, kind="curated" if e.curated else "faq", title=e.question, question=e.question,
                   paraphrases=e.paraphrases, answer=e.answer, basis=[str(b) for b in e.basis],
                   department=e.department, tags=e.tags)

    @classmethod
    def of_chunk(cls, c: Chunk) -> FaqOut:
        """Map a curated entry's chunk (approved after this worker loaded the KB, already in the live index)."""
        return cls(id=c.entry_id, kind="curated", title=c.title, question=c.title, paraphrases=list(c.views[1:-1]),
                   answer=c.text, basis=list(c.basis), department=c.department, tags=list(c.tags))


class DocumentOut(BaseModel):
    """A company document stored for the next ingest."""

    name: str
    title: str
    sections: int
    bytes: int
    next: str = Field(description="What makes it searchable")


class IngestReportOut(BaseModel):
    """What the last background ingest did."""

    version: str
    chunks: int
    vectors: int
    embedded: int
    reused: int
    added: list[str]
    changed: list[str]
    removed: list[str]
    seconds: float


class IngestStatusOut(BaseModel):
    """The background ingest: idle, running, done or failed, with its report once done."""

    state: Literal["idle", "running", "done", "failed"]
    message: str
    report: IngestReportOut | None = None
    started: float | None = Field(None, description="Unix time")
    finished: float | None = Field(None, description="Unix time")

    @classmethod
    def of(cls, job: IngestJob) -> IngestStatusOut:
        """Map the job's state."""
        return cls.model_validate({"state": job.state, "message": job.message, "report": job.report or None,
                                   "started": job.started, "finished": job.finished})


class TriageIn(_In):
    """A message to triage, with an optional resident profile."""

    text: str = Field(min_length=1, max_length=MAX_MESSAGE)
    vulnerable: bool = False


class TriageDeadlineOut(BaseModel):
    """A time limit the case commits to."""

    key: str
    label: str
    minutes: int
    due: datetime


class IssueOut(BaseModel):
    """Another problem the same message reports."""

    text: str
    category: str
    urgency: int


class TriageOut(BaseModel):
    """Category, urgency, department, escalation, deadlines, missing fields and the reply for one message."""

    category: str
    urgency: int
    department: str
    route: str | None
    intent: str
    escalate: bool
    escalation_reasons: list[str] = Field(description="rule: detail, for each escalation trigger that fired")
    reasons: list[str] = Field(description="rule: detail, for each triage rule that decided")
    notify: list[str]
    deadlines: list[TriageDeadlineOut]
    missing_fields: list[str]
    other_issues: list[IssueOut]
    reply: str

    @classmethod
    def of(cls, reply: Reply, deadlines: tuple[Deadline, ...]) -> TriageOut:
        """Map a reply and the deadlines of its case (``assistant.desk.case_deadlines``)."""
        return cls(
            category=reply.triage.category.value, urgency=int(reply.decision.urgency),
            department=reply.triage.department, route=reply.triage.route, intent=reply.intent.value,
            escalate=reply.decision.escalate,
            escalation_reasons=[f"{r.rule}: {r.detail}" for r in reply.decision.reasons],
            reasons=[f"{r.rule}: {r.detail}" for r in reply.triage.reasons], notify=list(reply.decision.notify),
            deadlines=[TriageDeadlineOut(key=d.key, label=d.label, minutes=d.minutes, due=d.due) for d in deadlines],
            missing_fields=list(reply.missing),
            other_issues=[IssueOut(text=i.text, category=i.category.value, urgency=int(i.urgency))
                          for i in reply.triage.issues[1:]],
            reply=reply.text)


class AskOut(BaseModel):
    """An answer from the KB with its citations, or the hand-off (`wuye ask --json`)."""

    answer: str
    citations: list[CitationOut]
    handoff: bool
    answered: bool
    escalated: bool
    agent: str
    kind: str
    intent: str
    category: str
    urgency: int

    @classmethod
    def of(cls, reply: Reply) -> AskOut:
        """Map a reply."""
        return cls(answer=reply.text, citations=[CitationOut.of(c) for c in reply.citations], handoff=reply.handoff,
                   answered=reply.answered, escalated=reply.escalated, agent=reply.agent.value,
                   kind=reply.kind.value, intent=reply.intent.value, category=reply.triage.category.value,
                   urgency=int(reply.decision.urgency))
