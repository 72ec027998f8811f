"""The desk: one resident turn through the service, or a ticket from the agent's form, stored in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from assistant import curation
from assistant.callbacks import rate_in_chat
from assistant.conversation import TicketView
from assistant.errors import MissingFieldError
from assistant.escalation import decide
from assistant.service import AssistantService, ConversationState, HistoryItem, Reply, TicketRequest
from assistant.sla import Deadline, callback_deadline, deadlines_for
from assistant.store import repository as repo
from assistant.store.tables import ResidentMessage, Ticket, Turn
from assistant.tickets import TicketDraft, TicketStatus
from assistant.types import ResidentProfile
from assistant.updates import ResidentUpdates, ticket_view
from kb.schema import Category, Urgency

MANAGEMENT = "管理层"


def _window_days(service: AssistantService) -> int:
    value = service.kb.values.get("ops.repeat_complaint_window_days")
    return int(value.value) if value is not None else 30


def handle_turn(
    session: Session,
    service: AssistantService,
    *,
    text: str,
    conversation_id: str | None = None,
    resident_id: int | None = None,
    channel: str = "chat",
    actor: str = "assistant",
) -> tuple[Reply, Turn]:
    """Run one message through the assistant and persist the turn (and a ticket, once complete).

    Everything is written in ``session``'s transaction: the caller commits, so a failure loses the
    whole turn and never leaves a half-written ticket.
    """
    conversation = repo.get_conversation(session, conversation_id=conversation_id, resident_id=resident_id,
                                         channel=channel)
    state = ConversationState.from_json(conversation.state)
    profile = None
    if resident_id is not None:
        resident = repo.get_resident(session, resident_id=resident_id)
        if resident is not None:
            profile = ResidentProfile(resident.name, resident.phone, resident.address, resident.vulnerable,
                                      resident.community)
    community = profile.community if profile else None
    now = service.clock()
    since = now - timedelta(days=_window_days(service))

    def history(address: str) -> Sequence[HistoryItem]:
        return [HistoryItem(t.number, t.category, t.route, t.description)
                for t in repo.household_tickets(session, address=address, since=since)]

    def submit(req: TicketRequest) -> str:
        ticket = repo.create_ticket(
            session,
            actor=actor,
            now=now,
            deadlines=req.deadlines,
            notifications=_notifications(req.category, req.urgency, req.draft, req.notify),
            conversation_id=conversation.id,
            resident_id=resident_id,
            resident_name=req.draft.resident_name or "",
            phone=req.draft.phone or "",
            address=req.draft.address or "",
            description=req.draft.description or "",
            details=dict(req.draft.details),
            category=req.category.value,
            urgency=int(req.urgency),
            department=req.department,
            route=req.route,
            escalated=req.escalate,
            escalation={"kinds": list(req.kinds), "reasons": list(req.reasons), "notify": list(req.notify)},
            required_attachments=list(req.required_attachments),
            related=list(req.related),
            channel=channel,
            community=community,
        )
        return ticket.number or ""

    def tickets() -> Sequence[TicketView]:
        rows = repo.open_tickets_of(session, resident_id=resident_id, conversation_id=conversation.id)
        return [ticket_view(service, t) for t in rows]

    def amend(number: str, fields: dict[str, str]) -> None:
        repo.amend_ticket(session, number=number, fields=fields, actor=actor, now=now)

    def rate(number: str, score: int) -> None:
        rate_in_chat(session, service, number=number, score=score, now=now)

    reply = service.handle(text, state=state, profile=profile, history=history, submit=submit, tickets=tickets,
                           amend=amend, rate=rate)
    retrieved = [{"id": h.citation, "score": h.score, "dense": h.dense} for h in (reply.retrieval.hits
                                                                                  if reply.retrieval else ())]
    ticket_id = None
    if reply.ticket_number:
        ticket_id = repo.get_ticket(session, number=reply.ticket_number).id
    previous = repo.recent_turns(session, conversation_id=conversation.id, limit=4)
    turn = repo.save_turn(
        session,
        conversation=conversation,
        state=reply.state.to_json(),
        message=text,
        answer=reply.text,
        category=reply.triage.category.value,
        urgency=int(reply.decision.urgency),
        intent=reply.intent.value,
        handoff=reply.handoff,
        triage={"category": reply.triage.category.value, "urgency": int(reply.decision.urgency),
                "department": reply.triage.department, "route": reply.triage.route,
                "escalate": reply.decision.escalate, "kinds": [k.value for k in reply.decision.kinds],
                "reasons": [f"{r.rule}: {r.detail}" for r in (*reply.triage.reasons, *reply.decision.reasons)]},
        retrieved=retrieved,
        citations=[c.to_json() for c in reply.citations],
        ticket_id=ticket_id,
        created_at=now,
    )
    curation.record_turn(session, service.retriever, reply=reply, turn=turn, previous=previous, community=community,
                         now=now)
    return reply, turn


def file_ticket(session: Session, service: AssistantService, *, draft: TicketDraft, actor: str,
                now: datetime) -> Ticket:
    """A ticket an agent enters from the form: the chat's mandatory-field check, then triage, the escalation
    policy and the SLA clocks of a desk (not online) ticket, stored in the caller's transaction.

    Raises:
        MissingFieldError: A mandatory field of the draft is empty (names every one).
    """
    missing = draft.missing(service.rules.fields.fields)
    if missing:
        raise MissingFieldError(missing)
    description = draft.description or ""
    triage = service.triager.assess(description)
    decision = decide(triage, service.rules)
    deadlines = deadlines_for(service.rules, urgency=decision.urgency, category=triage.category,
                              kinds=decision.kinds, created_at=now, online=False)
    return repo.create_ticket(
        session, actor=actor, now=now, deadlines=deadlines,
        notifications=_notifications(triage.category, decision.urgency, draft, decision.notify),
        resident_name=draft.resident_name or "", phone=draft.phone or "", address=draft.address or "",
        description=description, details={}, category=triage.category.value, urgency=int(decision.urgency),
        department=triage.department, route=triage.route, escalated=decision.escalate,
        escalation={"kinds": [k.value for k in decision.kinds], "reasons": [r.detail for r in decision.reasons],
                    "notify": list(decision.notify)},
        required_attachments=[], channel="desk")


def _notifications(category: Category, urgency: Urgency, draft: TicketDraft,
                   notify: Sequence[str]) -> list[tuple[str, str, str]]:
    """(kind, audience, message) for everyone the escalation policy names; management hears of every level 1."""
    summary = f"{category}/{int(urgency)}级 {draft.address}：{(draft.description or '')[:60]}"
    notes = [("management" if audience == MANAGEMENT else "escalation", audience, summary) for audience in notify]
    if urgency == Urgency.LEVEL_1 and MANAGEMENT not in notify:
        notes.append(("management", MANAGEMENT, summary))
    return notes


def case_deadlines(service: AssistantService, reply: Reply) -> tuple[Deadline, ...]:
    """The reply's deadlines, or — before a ticket is filed — the ones its case would get from now."""
    return reply.deadlines or tuple(deadlines_for(
        service.rules, urgency=reply.decision.urgency, category=reply.triage.category, kinds=reply.decision.kinds,
        created_at=service.clock()))


def move_ticket(session: Session, service: AssistantService, updates: ResidentUpdates, *, number: str,
                target: TicketStatus, actor: str, now: datetime, note: str | None = None,
                assignee: str | None = None, photos: Sequence[str] = ()) -> ResidentMessage | None:
    """Move a ticket along its lifecycle (resolving it starts the callback clock) and tell the resident.

    Returns:
        What the resident is told (None when there is nowhere to tell it, e.g. a ticket filed at the desk).

    Raises:
        TicketNotFoundError: No such ticket.
        TransitionError, MissingFieldError: The lifecycle forbids the move or its checks fail.
    """
    callback = None
    if target is TicketStatus.RESOLVED:
        current = repo.get_ticket(session, number=number)
        callback = callback_deadline(service.rules, category=Category(current.category), resolved_at=now)
    repo.transition(session, number=number, target=target, actor=actor, now=now, note=note, assignee=assignee,
                    photos=photos, callback=callback)
    return updates.ticket_moved(session, number=number, note=note, now=now)
