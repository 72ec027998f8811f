"""The KB improvement loop over HTTP: 赞/踩 on answers, the gap report, agent corrections and their review."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import Admin, AssistantDep, Resident, SessionDep, Staff
from api.schemas_curation import (
    CorrectionIn,
    CorrectionOut,
    EntryVotesOut,
    GapReportOut,
    VoteIn,
    VoteOut,
)
from assistant import curation
from assistant.gaps import GapReporter
from assistant.store import feedback
from assistant.store import repository as repo

router = APIRouter(tags=["knowledge"])


def _community(session: SessionDep, resident_id: int | None) -> str | None:
    resident = repo.get_resident(session, resident_id=resident_id) if resident_id is not None else None
    return resident.community if resident is not None else None


@router.post("/api/chat/turns/{turn_id}/vote", response_model=VoteOut)
def vote(turn_id: int, body: VoteIn, session: SessionDep, assistant: AssistantDep, principal: Resident) -> VoteOut:
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
                status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None,
                ) -> list[CorrectionOut]:
    """Agents' corrections, newest first (``status=pending`` for the ones to review)."""
    return [CorrectionOut.of(c) for c in feedback.corrections(session, status=status)]
