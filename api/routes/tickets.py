"""Tickets: list/filter, detail with audit trail and live deadlines, create, transitions, assign, rating."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Query, Request

from api.deps import AssistantDep, PrincipalDep, Resident, SessionDep, Staff, UpdatesDep
from api.errors import ApiError
from api.schemas import AssignIn, EventOut, RatingIn, TicketCreateIn, TicketDetailOut, TicketOut, TransitionIn
from assistant.errors import MissingFieldError
from assistant.sla import callback_deadline, deadlines_for
from assistant.store import repository as repo
from assistant.tickets import TicketDraft, TicketStatus, parse_address, parse_phone
from kb.schema import Category

router = APIRouter(prefix="/api/tickets", tags=["tickets"])


def _share(request: Request) -> float:
    return float(request.app.state.assistant.rules.urgency.sla_warning_share)


@router.get("", response_model=list[TicketOut])
def list_tickets(request: Request, session: SessionDep, principal: PrincipalDep,
                 status: TicketStatus | None = None, category: Category | None = None,
                 urgency: int | None = Query(None, ge=1, le=4), department: str | None = Query(None, max_length=32),
                 overdue: bool = False) -> list[TicketOut]:
    """Tickets, nearest deadline first. Residents get only their own."""
    now = datetime.now(UTC)
    rows = repo.list_tickets(session, status=status.value if status else None,
                             category=category.value if category else None, urgency=urgency, department=department,
                             resident_id=None if principal.is_staff else (principal.resident_id or -1),
                             overdue_at=now if overdue else None)
    return [TicketOut.of(t, _share(request), now) for t in rows]


@router.get("/{number}", response_model=TicketDetailOut)
def ticket(number: str, request: Request, session: SessionDep, principal: PrincipalDep) -> TicketDetailOut:
    """A ticket with its audit trail; another resident's ticket looks absent (404)."""
    t = repo.get_ticket(session, number=number,
                        resident_id=None if principal.is_staff else (principal.resident_id or -1))
    base = TicketOut.of(t, _share(request))
    return TicketDetailOut(**base.model_dump(), events=[EventOut.of(e) for e in t.events])


@router.post("", response_model=TicketDetailOut, status_code=201)
def create(body: TicketCreateIn, request: Request, session: SessionDep, assistant: AssistantDep,
           principal: Staff, background: BackgroundTasks) -> TicketDetailOut:
    """An agent files a ticket from the form; the mandatory-field null check applies (422 naming the fields)."""
    phone = parse_phone(body.phone) if body.phone else None
    if body.phone and phone is None:
        raise ApiError(422, f"phone: {body.phone!r} is not a mobile (11 digits) or landline number",
                       code="invalid_request")
    address = (parse_address(body.address) or body.address) if body.address else None
    draft = TicketDraft(body.resident_name or None, phone, address, body.description or None)
    missing = draft.missing(assistant.rules.fields.fields)
    if missing:
        raise MissingFieldError(missing)
    triage = assistant.triager.assess(body.description)
    from assistant.escalation import decide

    decision = decide(triage, assistant.rules)
    now = datetime.now(UTC)
    deadlines = deadlines_for(assistant.rules, urgency=decision.urgency, category=triage.category,
                              kinds=decision.kinds, created_at=now, online=False)
    t = repo.create_ticket(
        session, actor=principal.name, now=now, deadlines=deadlines,
        notifications=[("escalation", a, body.description[:60]) for a in decision.notify],
        resident_name=body.resident_name, phone=phone, address=address, description=body.description,
        details={}, category=triage.category.value, urgency=int(decision.urgency), department=triage.department,
        route=triage.route, escalated=decision.escalate,
        escalation={"kinds": [k.value for k in decision.kinds], "reasons": [r.detail for r in decision.reasons],
                    "notify": list(decision.notify)},
        required_attachments=[], channel="desk")
    if t.urgency == 1:
        background.add_task(request.app.state.monitor.poke)  # after the commit: page the person on call now
    return ticket(t.number or "", request, session, principal)


@router.post("/{number}/transition", response_model=TicketDetailOut)
def transition(number: str, body: TransitionIn, request: Request, session: SessionDep, assistant: AssistantDep,
               updates: UpdatesDep, principal: Staff, background: BackgroundTasks) -> TicketDetailOut:
    """Move a ticket (dispatch needs an assignee, resolve needs a photo and a note, …); 409 names the check."""
    target = TicketStatus(body.to)
    now = datetime.now(UTC)
    callback = None
    if target is TicketStatus.RESOLVED:
        current = repo.get_ticket(session, number=number)
        callback = callback_deadline(assistant.rules, category=Category(current.category), resolved_at=now)
    repo.transition(session, number=number, target=target, actor=principal.name, now=now, note=body.note,
                    assignee=body.assignee, photos=body.photos, callback=callback)
    told = updates.ticket_moved(session, number=number, note=body.note, now=now)  # the resident hears it
    if told is not None and told.channel and told.turn_id:
        background.add_task(request.app.state.monitor.poke)  # after the commit: send it to their WeChat now
    return ticket(number, request, session, principal)


@router.post("/{number}/assign", response_model=TicketDetailOut)
def assign(number: str, body: AssignIn, request: Request, session: SessionDep, principal: Staff) -> TicketDetailOut:
    """Assign (or reassign) without changing the status."""
    t = repo.get_ticket(session, number=number)
    t.assignee = body.assignee
    session.flush()
    return ticket(number, request, session, principal)


@router.post("/{number}/rating", response_model=TicketDetailOut)
def rate(number: str, body: RatingIn, request: Request, session: SessionDep, principal: Resident) -> TicketDetailOut:
    """The resident rates a ticket once the callback is done (seed 3.2 feedback loop)."""
    t = repo.get_ticket(session, number=number, resident_id=principal.resident_id or -1)
    if t.status not in (TicketStatus.CALLBACK_DONE.value, TicketStatus.CLOSED.value):
        raise ApiError(409, f"ticket {number} can be rated after the callback (it is {t.status})",
                       code="invalid_transition")
    t.satisfaction = body.score
    session.flush()
    return ticket(number, request, session, principal)
