"""Every SQL statement of the product. Functions take the session first, keywords after; they flush, never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from assistant.errors import ConversationNotFoundError, TicketNotFoundError, TransitionError
from assistant.sla import Deadline
from assistant.store.tables import Conversation, DeadlineRow, Notification, Resident, Ticket, TicketEvent, Turn
from assistant.tickets import TicketStatus, check_transition


def get_conversation(session: Session, *, conversation_id: str | None, resident_id: int | None = None,
                     channel: str = "chat") -> Conversation:
    """Return the caller's conversation ``conversation_id``, or a new one when no id is given.

    Raises:
        ConversationNotFoundError: The id is unknown or belongs to another resident (ids are never
            chosen by the client, so guessing one reveals nothing).
    """
    if conversation_id:
        conv = session.get(Conversation, conversation_id)
        if conv is None or conv.resident_id != resident_id:
            raise ConversationNotFoundError(conversation_id)
        return conv
    conv = Conversation(id=str(uuid.uuid4()), resident_id=resident_id, channel=channel, state={})
    session.add(conv)
    session.flush()
    return conv


def conversations(session: Session, *, resident_id: int | None = None, limit: int = 50) -> list[Conversation]:
    """The newest conversations with their turns; with ``resident_id``, only that resident's."""
    stmt = (select(Conversation).options(selectinload(Conversation.turns))
            .order_by(Conversation.created_at.desc()).limit(limit))
    if resident_id is not None:
        stmt = stmt.where(Conversation.resident_id == resident_id)
    return list(session.scalars(stmt).all())


def conversation_of(session: Session, *, conversation_id: str, resident_id: int | None = None,
                    hint: str = "") -> Conversation:
    """One conversation; with ``resident_id``, only if it is that resident's (another's looks absent).

    Raises:
        ConversationNotFoundError: No such conversation, or another resident's.
    """
    conv = session.get(Conversation, conversation_id)
    if conv is None or (resident_id is not None and conv.resident_id != resident_id):
        raise ConversationNotFoundError(conversation_id, hint=hint)
    return conv


def recent_turns(session: Session, *, conversation_id: str, limit: int = 10) -> list[Turn]:
    """The last ``limit`` turns of a conversation, oldest first."""
    rows = session.scalars(
        select(Turn).where(Turn.conversation_id == conversation_id).order_by(Turn.id.desc()).limit(limit)
    ).all()
    return list(reversed(rows))


def save_turn(session: Session, *, conversation: Conversation, state: dict[str, Any], **fields: Any) -> Turn:
    """Store one turn and the conversation's new state in the same transaction."""
    turn = Turn(conversation_id=conversation.id, **fields)
    conversation.state = state
    conversation.agent_state = str(state.get("agent") or "none")
    session.add(turn)
    session.flush()
    return turn


def handoff_conversations(session: Session, *, limit: int = 50) -> list[Conversation]:
    """Conversations a person must take or holds (waiting, callback, joined), longest waiting first."""
    return list(session.scalars(
        select(Conversation).options(selectinload(Conversation.turns))
        .where(Conversation.agent_state.in_(("waiting", "callback", "joined")))
        .order_by(Conversation.updated_at).limit(limit)
    ).all())


def set_agent(session: Session, *, conversation_id: str, agent_state: str, agent_user: str | None,
              reset_case: bool = False) -> Conversation:
    """Move a conversation's human hand-off (join, hand back, close); the state JSON follows the column.

    Raises:
        ConversationNotFoundError: No such conversation.
    """
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise ConversationNotFoundError(conversation_id)
    state = {} if reset_case else dict(conv.state or {})
    state["agent"] = agent_state
    conv.state = state
    conv.agent_state = agent_state
    conv.agent_user = agent_user
    session.flush()
    return conv


def add_agent_message(session: Session, *, conversation: Conversation, agent: str, text: str,
                      now: datetime) -> Turn:
    """An agent's message into a conversation (shown to the resident as from a person)."""
    turn = Turn(conversation_id=conversation.id, message="", answer=text, speaker="agent", handoff=True,
                triage={"agent": agent}, created_at=now)
    conversation.updated_at = now
    session.add(turn)
    session.flush()
    return turn


def amend_ticket(session: Session, *, number: str, fields: dict[str, str], actor: str, now: datetime) -> Ticket:
    """A resident's correction of a filed ticket's name, phone or address, or the visit time they offer
    (``preferred_time``, kept in the ticket's details), with an audit event.

    Raises:
        TicketNotFoundError: No such ticket.
    """
    ticket = get_ticket(session, number=number)
    allowed = {k: v for k, v in fields.items() if k in ("resident_name", "phone", "address") and v}
    notes = [f"{k}: {getattr(ticket, k)} → {v}" for k, v in allowed.items() if getattr(ticket, k) != v]
    visit = (fields.get("preferred_time") or "").strip()[:200]
    if visit and (ticket.details or {}).get("preferred_time") != visit:
        notes.append(f"预约上门时间: {visit}")
        ticket.details = {**(ticket.details or {}), "preferred_time": visit}  # a new dict: the JSON column is saved
    changes = "；".join(notes)
    if not changes:
        return ticket
    for k, v in allowed.items():
        setattr(ticket, k, v)
    ticket.updated_at = now
    session.add(TicketEvent(ticket_id=ticket.id, actor=actor, from_status=ticket.status, to_status=ticket.status,
                            note=f"业主更正：{changes}", at=now))
    session.flush()
    return ticket


def add_photo(session: Session, *, ticket: Ticket, sha256: str, actor: str, now: datetime) -> None:
    """Attach a stored photo to a ticket (once), with an audit event."""
    if sha256 in (ticket.photos or []):
        return
    ticket.photos = [*(ticket.photos or []), sha256]
    session.add(TicketEvent(ticket_id=ticket.id, actor=actor, from_status=ticket.status, to_status=ticket.status,
                            note=f"上传照片 {sha256[:12]}", at=now))
    session.flush()


def resident_has_photo(session: Session, *, resident_id: int | None, sha256: str) -> bool:
    """Whether one of the resident's own tickets holds this photo."""
    if resident_id is None:
        return False
    return any(sha256 in (t.photos or []) for t in session.scalars(
        select(Ticket).where(Ticket.resident_id == resident_id)).all())


def open_tickets_of(session: Session, *, resident_id: int | None, conversation_id: str) -> list[Ticket]:
    """The resident's open tickets (or, without a resident account, this conversation's), newest first."""
    where = Ticket.resident_id == resident_id if resident_id is not None else Ticket.conversation_id == conversation_id
    return list(session.scalars(
        select(Ticket).options(selectinload(Ticket.deadlines))
        .where(where, Ticket.number.is_not(None), Ticket.status.not_in(("closed", "callback_done")))
        .order_by(Ticket.id.desc()).limit(10)
    ).all())


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """A past ticket of a household, for repeat detection and related-ticket links."""

    number: str
    category: str
    route: str | None
    description: str
    status: str
    created_at: datetime


def household_tickets(session: Session, *, address: str, since: datetime, limit: int = 20) -> list[TicketSummary]:
    """Earlier tickets of the same household (same normalised address) since a date, newest first."""
    rows = session.scalars(
        select(Ticket)
        .where(Ticket.address == address, Ticket.created_at >= since, Ticket.number.is_not(None))
        .order_by(Ticket.id.desc())
        .limit(limit)
    ).all()
    return [TicketSummary(r.number or "", r.category, r.route, r.description, r.status, r.created_at) for r in rows]


def create_ticket(
    session: Session,
    *,
    actor: str,
    now: datetime,
    deadlines: Sequence[Deadline],
    notifications: Sequence[tuple[str, str, str]] = (),
    **fields: Any,
) -> Ticket:
    """Insert a submitted ticket with its number, audit events, SLA clocks and notifications.

    Args:
        session: The request's session (the caller commits).
        actor: Who submitted it.
        now: Submission time.
        deadlines: Its SLA clocks.
        notifications: (kind, audience, message) to record.
        **fields: Ticket columns.
    """
    ticket = Ticket(status=TicketStatus.SUBMITTED.value, created_at=now, updated_at=now, **fields)
    session.add(ticket)
    session.flush()
    ticket.number = f"GD{now:%Y%m%d}-{ticket.id:06d}"
    session.add(TicketEvent(ticket_id=ticket.id, actor=actor, from_status=TicketStatus.DRAFT.value,
                            to_status=TicketStatus.SUBMITTED.value, note="工单已提交（空值校验通过）", at=now))
    for d in deadlines:
        stop = d.stops_at
        session.add(DeadlineRow(ticket_id=ticket.id, key=d.key, label=d.label, minutes=d.minutes, met_by=stop,
                                starts_at=d.due - timedelta(minutes=d.minutes), due_at=d.due,
                                met_at=now if stop == TicketStatus.SUBMITTED.value else None))
    for kind, audience, message in notifications:
        session.add(Notification(ticket_id=ticket.id, kind=kind, audience=audience, message=message, created_at=now))
    session.flush()
    return ticket


def get_ticket(session: Session, *, number: str, resident_id: int | None = None) -> Ticket:
    """A ticket with its events and deadlines; a resident only sees their own (others look absent)."""
    stmt = select(Ticket).options(selectinload(Ticket.events), selectinload(Ticket.deadlines)).where(
        Ticket.number == number)
    if resident_id is not None:
        stmt = stmt.where(Ticket.resident_id == resident_id)
    ticket = session.scalars(stmt).first()
    if ticket is None:
        raise TicketNotFoundError(number)
    return ticket


@dataclass(frozen=True, slots=True)
class SimilarTicket:
    """An earlier ticket of the same household and category, with how it was resolved."""

    number: str
    description: str
    status: str
    resolution: str | None


def similar_tickets(session: Session, *, ticket: Ticket, since: datetime, limit: int = 5) -> list[SimilarTicket]:
    """The household's other tickets of the same category since a date, newest first, with their resolution note."""
    rows = session.scalars(
        select(Ticket).options(selectinload(Ticket.events))
        .where(Ticket.address == ticket.address, Ticket.category == ticket.category, Ticket.created_at >= since,
               Ticket.number.is_not(None), Ticket.id != ticket.id)
        .order_by(Ticket.id.desc()).limit(limit)
    ).all()
    return [SimilarTicket(r.number or "", r.description, r.status,
                          next((e.note for e in reversed(r.events) if e.to_status == "resolved"), None))
            for r in rows]


def assign(session: Session, *, number: str, assignee: str) -> Ticket:
    """Assign (or reassign) a ticket without changing its status."""
    ticket = get_ticket(session, number=number)
    ticket.assignee = assignee
    session.flush()
    return ticket


def rate(session: Session, *, number: str, resident_id: int, score: int) -> Ticket:
    """The resident's satisfaction score, once the callback is done (seed 3.2 feedback loop).

    Raises:
        TicketNotFoundError: No such ticket of this resident.
        TransitionError: The callback is not done yet.
    """
    ticket = get_ticket(session, number=number, resident_id=resident_id)
    if ticket.status not in (TicketStatus.CALLBACK_DONE.value, TicketStatus.CLOSED.value):
        raise TransitionError(f"ticket {number} can be rated after the callback (it is {ticket.status})")
    ticket.satisfaction = score
    session.flush()
    return ticket


def list_tickets(session: Session, *, status: str | None = None, category: str | None = None,
                 urgency: int | None = None, department: str | None = None, resident_id: int | None = None,
                 overdue_at: datetime | None = None, open_only: bool = False, limit: int = 200) -> list[Ticket]:
    """Tickets matching the filters, nearest deadline first (``open_only``: not closed, callback not done)."""
    stmt = select(Ticket).options(selectinload(Ticket.deadlines)).where(Ticket.number.is_not(None))
    if open_only:
        stmt = stmt.where(Ticket.status.not_in((TicketStatus.CLOSED.value, TicketStatus.CALLBACK_DONE.value)))
    if status:
        stmt = stmt.where(Ticket.status == status)
    if category:
        stmt = stmt.where(Ticket.category == category)
    if urgency:
        stmt = stmt.where(Ticket.urgency == urgency)
    if department:
        stmt = stmt.where(Ticket.department == department)
    if resident_id is not None:
        stmt = stmt.where(Ticket.resident_id == resident_id)
    if overdue_at is not None:
        stmt = stmt.where(Ticket.id.in_(select(DeadlineRow.ticket_id).where(
            DeadlineRow.met_at.is_(None), DeadlineRow.due_at < overdue_at)))
    next_due = (select(func.min(DeadlineRow.due_at)).where(DeadlineRow.ticket_id == Ticket.id,
                                                            DeadlineRow.met_at.is_(None)).scalar_subquery())
    stmt = stmt.order_by(next_due.is_(None), next_due, Ticket.id).limit(limit)
    return list(session.scalars(stmt).all())


def transition(
    session: Session,
    *,
    number: str,
    target: TicketStatus,
    actor: str,
    now: datetime,
    note: str | None = None,
    assignee: str | None = None,
    photos: Sequence[str] = (),
    satisfaction: int | None = None,
    callback: Deadline | None = None,
) -> Ticket:
    """Move a ticket along its lifecycle, with the checks, the audit event and the SLA clocks it stops."""
    ticket = get_ticket(session, number=number)
    current = TicketStatus(ticket.status)
    all_photos = [*ticket.photos, *photos]
    check_transition(current, target, assignee=assignee or ticket.assignee, note=note, photos=len(all_photos))
    ticket.status = target.value
    ticket.updated_at = now
    if assignee:
        ticket.assignee = assignee
    if photos:
        ticket.photos = all_photos
    if satisfaction is not None:
        ticket.satisfaction = satisfaction
    if target is TicketStatus.RESOLVED:
        ticket.resolved_at = now
    session.add(TicketEvent(ticket_id=ticket.id, actor=actor, from_status=current.value, to_status=target.value,
                            note=note, at=now))
    order = [s.value for s in TicketStatus]
    for row in ticket.deadlines:
        if row.met_at is None and row.met_by in order and order.index(target.value) >= order.index(row.met_by) \
                and target is not TicketStatus.REOPENED:
            row.met_at = now
    if callback is not None:
        session.add(DeadlineRow(ticket_id=ticket.id, key=callback.key, label=callback.label, minutes=callback.minutes,
                                met_by=callback.stops_at, starts_at=now, due_at=callback.due))
    session.flush()
    return ticket


def sla_due(session: Session, *, now: datetime, share: float) -> tuple[list[DeadlineRow], list[DeadlineRow]]:
    """Open clocks that passed ``share`` of their time without a warning, and those past due without a breach."""
    open_rows = select(DeadlineRow).options(selectinload(DeadlineRow.ticket)).where(DeadlineRow.met_at.is_(None))
    rows = session.scalars(open_rows.where(or_(
        and_(DeadlineRow.warned_at.is_(None), DeadlineRow.due_at > now),
        and_(DeadlineRow.breached_at.is_(None), DeadlineRow.due_at <= now),
    ))).all()
    warn, breach = [], []
    for row in rows:
        if row.due_at <= now:
            breach.append(row)
        elif row.minutes and (now - row.starts_at).total_seconds() >= share * row.minutes * 60:
            warn.append(row)
    return warn, breach


def mark_deadline(session: Session, *, row_id: int, field: str, now: datetime) -> bool:
    """Set ``warned_at`` or ``breached_at`` once; False when another worker already did (exactly-once)."""
    column = getattr(DeadlineRow, field)
    result = session.execute(update(DeadlineRow).where(DeadlineRow.id == row_id, column.is_(None)).values({field: now}))
    return bool(getattr(result, "rowcount", 0))


def add_notification(session: Session, *, ticket_id: int | None, kind: str, audience: str, message: str,
                     now: datetime) -> Notification:
    """Record a notification."""
    n = Notification(ticket_id=ticket_id, kind=kind, audience=audience, message=message, created_at=now)
    session.add(n)
    session.flush()
    return n


def notifications(session: Session, *, ticket_id: int | None = None, kind: str | None = None) -> list[Notification]:
    """Notifications, oldest first."""
    stmt = select(Notification).order_by(Notification.id)
    if ticket_id is not None:
        stmt = stmt.where(Notification.ticket_id == ticket_id)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.scalars(stmt).all())


def get_resident(session: Session, *, resident_id: int) -> Resident | None:
    """A resident by id."""
    return session.get(Resident, resident_id)


def add_resident(session: Session, **fields: Any) -> Resident:
    """Create a resident."""
    r = Resident(**fields)
    session.add(r)
    session.flush()
    return r
