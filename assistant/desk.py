"""The desk: one resident turn through the service, stored with its ticket in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from assistant import curation
from assistant.callbacks import rate_in_chat
from assistant.conversation import TicketView
from assistant.service import AssistantService, ConversationState, HistoryItem, Reply, TicketRequest
from assistant.store import repository as repo
from assistant.store.tables import Turn
from assistant.types import ResidentProfile
from assistant.updates import ticket_view
from kb.schema import Urgency


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
        notes: list[tuple[str, str, str]] = []
        summary = f"{req.category}/{int(req.urgency)}级 {req.draft.address}：{(req.draft.description or '')[:60]}"
        for audience in req.notify:
            kind = "management" if audience == "管理层" else "escalation"
            notes.append((kind, audience, summary))
        if req.urgency == Urgency.LEVEL_1 and not any(a == "管理层" for a in req.notify):
            notes.append(("management", "管理层", summary))
        ticket = repo.create_ticket(
            session,
            actor=actor,
            now=now,
            deadlines=req.deadlines,
            notifications=notes,
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
        citations=[{"entry_id": c.entry_id, "title": c.title, "clause": c.clause, "ref": c.ref}
                   for c in reply.citations],
        ticket_id=ticket_id,
        created_at=now,
    )
    curation.record_turn(session, service.retriever, reply=reply, turn=turn, previous=previous, community=community,
                         now=now)
    return reply, turn
