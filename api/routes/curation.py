"""The KB improvement loop over HTTP: 赞/踩 on answers, the gap report, agent corrections and their review."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as ApiPath

from api.deps import Admin, AssistantDep, PrincipalDep, Resident, SessionDep, Staff
from api.errors import ApiError
from api.schemas_curation import (
    ApprovedOut,
    ApproveIn,
    CommunityOut,
    CorrectionIn,
    CorrectionOut,
    EntryVotesOut,
    GapReportOut,
    HitTestOut,
    RejectIn,
    VoteIn,
    VoteOut,
)
from api.schemas_knowledge import SearchHitOut
from assistant import curation
from assistant.gaps import GapReporter
from assistant.hittest import hit_test
from assistant.store import feedback
from assistant.store import repository as repo
from assistant.store.feedback import CorrectionStatus

router = APIRouter(tags=["knowledge"])
# ids are 32-bit integers in every database: a larger one is a 422 naming the bound, never an overflow
Id = Annotated[int, ApiPath(ge=1, le=2**31 - 1)]


def _community(session: SessionDep, resident_id: int | None) -> str | None:
    resident = repo.get_resident(session, resident_id=resident_id) if resident_id is not None else None
    return resident.community if resident is not None else None


@router.post("/api/chat/turns/{turn_id}/vote", response_model=VoteOut)
def vote(turn_id: Id, body: VoteIn, session: SessionDep, assistant: AssistantDep, principal: Resident) -> VoteOut:
    """赞 or 踩 one of the caller's answers (voting again replaces the vote); a 踩 goes to the gap report."""
    row = curation.vote(session, assistant.retriever, turn_id=turn_id, resident_id=principal.resident_id,
                        up=body.vote == "up", reason=body.reason, community=_community(session, principal.resident_id),
                        now=datetime.now(UTC))
    return VoteOut(turn_id=row.turn_id, vote=row.vote, reason=row.reason, entries=list(row.entries))


@router.get("/api/kb/votes", response_model=list[EntryVotesOut])
def votes(session: SessionDep, assistant: AssistantDep, _: Admin) -> list[EntryVotesOut]:
    """赞 and 踩 per KB entry over the answers that cited it, most 踩 first, with the latest reasons."""
    titles = {e.id: e.question for e in assistant.kb.faqs} | {a.meta.id: a.meta.title for a in assistant.kb.articles}
    return [EntryVotesOut(entry_id=entry, title=titles.get(entry, entry), up=up, down=down, last_vote=last,
                          reasons=feedback.down_reasons(session, entry_id=entry) if down else [])
            for entry, up, down, last in feedback.vote_counts(session)]


@router.get("/api/kb/gaps", response_model=GapReportOut)
def gaps(request: Request, session: SessionDep, assistant: AssistantDep, _: Admin,
         top: Annotated[int | None, Query(ge=1, le=500)] = None) -> GapReportOut:
    """What residents asked that the KB does not answer: the recorded gaps clustered by meaning, ranked by volume
    weighted for recency, each with examples, the nearest entries and why they do not answer, and a draft entry."""
    reporter = GapReporter(assistant.kb, assistant.retriever, request.app.state.settings.assistant.gaps)
    return GapReportOut.of(curation.gap_report(session, reporter, now=datetime.now(UTC), top=top))


@router.post("/api/agent/corrections", response_model=CorrectionOut, status_code=201)
def correct(body: CorrectionIn, session: SessionDep, assistant: AssistantDep, principal: Staff) -> CorrectionOut:
    """Correct the assistant's answer of one turn; an admin reviews it before it becomes a curated entry."""
    row = curation.correct(session, assistant.retriever, turn_id=body.turn_id, answer=body.answer,
                           agent=principal.name, now=datetime.now(UTC))
    return CorrectionOut.of(row)


@router.get("/api/kb/corrections", response_model=list[CorrectionOut])
def corrections(session: SessionDep, _: Admin,
                status: CorrectionStatus | None = None,
                ) -> list[CorrectionOut]:
    """Agents' corrections, newest first (``status=pending`` for the ones to review)."""
    return [CorrectionOut.of(c) for c in feedback.corrections(session, status=status)]


@router.post("/api/kb/corrections/{correction_id}/approve", response_model=ApprovedOut)
def approve(correction_id: Id, body: ApproveIn, request: Request, session: SessionDep, assistant: AssistantDep,
            principal: Admin) -> ApprovedOut:
    """Approve a correction (edits optional): it is written as a curated FAQ entry of the KB (validated and linted;
    422 naming the problem otherwise) and made live by an incremental ingest; until the new index is swapped in,
    the previous one keeps serving."""
    settings = request.app.state.settings
    row, path = curation.approve(session, assistant.retriever, settings.ingest.kb_root, correction_id=correction_id,
                                 reviewer=principal.name, now=datetime.now(UTC),
                                 edits=curation.Edits(body.question, body.answer, tuple(body.paraphrases),
                                                      body.department, tuple(body.tags)))
    session.commit()  # the entry is in the KB file: record the approval before the ingest can serve it
    state = request.app.state.ingest_job.request(settings.ingest, assistant.retriever)
    return ApprovedOut(correction=CorrectionOut.of(row), entry_id=row.entry_id or "", file=str(path), ingest=state)


@router.post("/api/kb/corrections/{correction_id}/reject", response_model=CorrectionOut)
def reject(correction_id: Id, body: RejectIn, session: SessionDep, principal: Admin) -> CorrectionOut:
    """Reject a correction; it is kept with the note."""
    return CorrectionOut.of(curation.reject(session, correction_id=correction_id, reviewer=principal.name,
                                            now=datetime.now(UTC), note=body.note))


@router.get("/api/kb/hittest", response_model=HitTestOut)
def hittest(request: Request, assistant: AssistantDep, _: Admin, q: Annotated[str, Query(min_length=1, max_length=500)],
            community: Annotated[str | None, Query(max_length=32)] = None,
            top_k: Annotated[int, Query(ge=1, le=50)] = 10) -> HitTestOut:
    """Type a question, see what retrieval returns (dense, BM25 and fused scores per hit), what the assistant would
    do with it and why (the score floor, grounding, a curated answer, or triage). Nothing is stored."""
    if community is not None and assistant.kb.community(community) is None:
        raise ApiError(422, f"community: {community} is not a community of the KB", code="invalid_request")
    t = hit_test(assistant, q, community=community, top_k=top_k)
    s = request.app.state.settings.assistant.retrieval
    r = t.retrieval
    g = t.reply.retrieval.grounding if t.reply.retrieval is not None else None
    return HitTestOut(
        query=q, community=community, found=r.found, reason=r.reason, best_dense=r.best_dense,
        thresholds={"min_score": s.min_score, "min_score_with_terms": s.min_score_with_terms, "min_bm25": s.min_bm25,
                    "curated_min_score": s.curated_min_score, "min_coverage": s.min_coverage,
                    "max_uncovered": s.max_uncovered},
        grounding=None if g is None else {"entry_id": g.entry_id, "coverage": g.coverage, "covered": list(g.covered),
                                          "uncovered": list(g.uncovered), "grounded": g.grounded},
        hits=[SearchHitOut.of(h) for h in r.hits],
        decision=t.decision, why=t.why, answered=t.reply.answered, reply=t.reply.text,
        triage={"category": t.reply.triage.category.value, "urgency": int(t.reply.decision.urgency),
                "kind": t.reply.kind.value})


@router.get("/api/kb/communities", response_model=list[CommunityOut])
def communities(assistant: AssistantDep, _: PrincipalDep) -> list[CommunityOut]:
    """The communities (小区) of the KB and the values each sets differently from the company's."""
    return [CommunityOut(id=c.meta.id, name=c.meta.name, address=c.meta.address,
                         values={k: f"{c.values[k].value}{c.values[k].unit}" for k in sorted(c.overrides)})
            for c in assistant.kb.communities]
