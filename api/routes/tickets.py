"""Tickets: list/filter, detail with audit trail and live deadlines, create, transitions, assign, rating."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Query, Request

from api.deps import AssistantDep, PrincipalDep, Resident, SessionDep, Staff, UpdatesDep
from api.schemas_tickets import AssignIn, RatingIn, TicketCreateIn, TicketDetailOut, TicketOut, TransitionIn
from assistant import desk
from assistant.service import AssistantService
from assistant.store import repository as repo
from assistant.store.tables import Ticket
from assistant.tickets import TicketStatus
from kb.schema import Category, Urgency

router = APIRouter(prefix="/api/tickets", tags=["tickets"])


def _detail(assistant: AssistantService, ticket: Ticket) -> TicketDetailOut:
    return TicketDetailOut.of_ticket(ticket, assistant.rules.urgency.sla_warning_share)


@router.get("", response_model=list[TicketOut])
def list_tickets(session: SessionDep, assistant: AssistantDep, principal: PrincipalDep,
                 status: TicketStatus | None = None, category: Category | None = None,
                 urgency: int | None = Query(None, ge=1, le=4), department: str | None = Query(None, max_length=32),
                 overdue: bool = False) -> list[TicketOut]:
    """Tickets, nearest deadline first. Residents get only their own."""
    now = datetime.now(UTC)
    rows = repo.list_tickets(session, status=status.value if status else None,
                             category=category.value if category else None, urgency=urgency, department=department,
                             resident_id=None if principal.is_staff else (principal.resident_id or -1),
                             overdue_at=now if overdue else None)
    share = assistant.rules.urgency.sla_warning_share
    return [TicketOut.of(t, share, now) for t in rows]


@router.get("/{number}", response_model=TicketDetailOut)
def ticket(number: str, session: SessionDep, assistant: AssistantDep, principal: PrincipalDep) -> TicketDetailOut:
    """A ticket with its audit trail; another resident's ticket looks absent (404)."""
    return _detail(assistant, repo.get_ticket(session, number=number, resident_id=None if principal.is_staff
                                              else (principal.resident_id or -1)))


@router.post("", response_model=TicketDetailOut, status_code=201)
def create(body: TicketCreateIn, request: Request, session: SessionDep, assistant: AssistantDep,
           principal: Staff, background: BackgroundTasks) -> TicketDetailOut:
    """An agent files a ticket from the form; the mandatory-field null check applies (422 naming the fields)."""
    t = desk.file_ticket(session, assistant, draft=body.draft(), actor=principal.name, now=datetime.now(UTC))
    if t.urgency == Urgency.LEVEL_1:
        background.add_task(request.app.state.monitor.poke)  # after the commit: page the person on call now
    return _detail(assistant, repo.get_ticket(session, number=t.number or ""))


@router.post("/{number}/transition", response_model=TicketDetailOut)
def transition(number: str, body: TransitionIn, request: Request, session: SessionDep, assistant: AssistantDep,
               updates: UpdatesDep, principal: Staff, background: BackgroundTasks) -> TicketDetailOut:
    """Move a ticket (dispatch needs an assignee, resolve needs a photo and a note, …); 409 names the check."""
    told = desk.move_ticket(session, assistant, updates, number=number, target=TicketStatus(body.to),
                            actor=principal.name, now=datetime.now(UTC), note=body.note, assignee=body.assignee,
                            photos=body.photos)
    if told is not None and told.channel and told.turn_id:
        background.add_task(request.app.state.monitor.poke)  # after the commit: send it to their WeChat now
    return _detail(assistant, repo.get_ticket(session, number=number))


@router.post("/{number}/assign", response_model=TicketDetailOut)
def assign(number: str, body: AssignIn, session: SessionDep, assistant: AssistantDep, _: Staff) -> TicketDetailOut:
    """Assign (or reassign) without changing the status."""
    return _detail(assistant, repo.assign(session, number=number, assignee=body.assignee))


@router.post("/{number}/rating", response_model=TicketDetailOut)
def rate(number: str, body: RatingIn, session: SessionDep, assistant: AssistantDep,
         principal: Resident) -> TicketDetailOut:
    """The resident rates a ticket once the callback is done (seed 3.2 feedback loop); 409 before it."""
    return _detail(assistant, repo.rate(session, number=number, resident_id=principal.resident_id or -1,
                                        score=body.score))
