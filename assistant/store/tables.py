"""Database tables (SQLAlchemy 2.0 typed ORM). Schema changes go through Alembic migrations only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns timezone-aware datetimes (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Resident(Base):
    """A resident (业主) account: contact, room and the vulnerable flag (seed 1.2 VIP)."""

    __tablename__ = "resident"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(String(64), index=True)
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    community: Mapped[str | None] = mapped_column(String(32), index=True)  # a community id of kb/content/communities
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """A chat with one resident; ``state`` carries the ticket draft being filled in."""

    __tablename__ = "conversation"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    agent_state: Mapped[str] = mapped_column(String(16), default="none", server_default="none", index=True)
    agent_user: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    turns: Mapped[list[Turn]] = relationship(back_populates="conversation", order_by="Turn.id")


class Turn(Base):
    """One exchange: the resident's message, triage, retrieved entries and scores, the answer."""

    __tablename__ = "turn"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[int | None] = mapped_column(Integer)
    intent: Mapped[str | None] = mapped_column(String(16))
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    triage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    retrieved: Mapped[list[Any]] = mapped_column(default=list)
    citations: Mapped[list[Any]] = mapped_column(default=list)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    speaker: Mapped[str] = mapped_column(String(16), default="assistant", server_default="assistant")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    conversation: Mapped[Conversation] = relationship(back_populates="turns")


class Ticket(Base):
    """A work order (工单)."""

    __tablename__ = "ticket"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    resident_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    category: Mapped[str] = mapped_column(String(16), index=True)
    urgency: Mapped[int] = mapped_column(Integer, index=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    route: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    required_attachments: Mapped[list[Any]] = mapped_column(default=list)
    photos: Mapped[list[Any]] = mapped_column(default=list)
    related: Mapped[list[Any]] = mapped_column(default=list)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    community: Mapped[str | None] = mapped_column(String(32), index=True)  # the resident's community when filed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id")
    deadlines: Mapped[list[DeadlineRow]] = relationship(back_populates="ticket", order_by="DeadlineRow.due_at")


class TicketEvent(Base):
    """Audit trail: every transition of a ticket (who, when, from, to, note)."""

    __tablename__ = "ticket_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket: Mapped[Ticket] = relationship(back_populates="events")


class DeadlineRow(Base):
    """One SLA clock of a ticket; warning/breach/met times make the monitor restart-safe."""

    __tablename__ = "deadline"
    __table_args__ = (Index("ix_deadline_open", "met_at", "breached_at", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(128))
    minutes: Mapped[int] = mapped_column(Integer)
    met_by: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime] = mapped_column()
    warned_at: Mapped[datetime | None] = mapped_column()
    breached_at: Mapped[datetime | None] = mapped_column()
    met_at: Mapped[datetime | None] = mapped_column()
    ticket: Mapped[Ticket] = relationship(back_populates="deadlines")


class Notification(Base):
    """A message to staff or the resident: escalations, SLA warnings and breaches, management notices."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    audience: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who logs in: resident, agent, trainer, manager or admin."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    display_name: Mapped[str | None] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key for integrations; only its hash is stored, and it can be revoked."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Quiz(Base):
    """A set of scenarios a trainer assigns to agents."""

    __tablename__ = "quiz"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(64))
    scenario_ids: Mapped[list[Any]] = mapped_column(default=list)
    assignees: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attempt(Base):
    """One agent's graded answer to one scenario of a quiz."""

    __tablename__ = "quiz_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quiz.id"), index=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)
    scenario_id: Mapped[str] = mapped_column(String(32), index=True)
    answer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    grade: Mapped[dict[str, Any]] = mapped_column(default=dict)
    score: Mapped[float] = mapped_column()
    seconds: Mapped[float] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A named lease one process holds at a time (leader election across workers, e.g. the SLA monitor)."""

    __tablename__ = "lease"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column()


class Page(Base):
    """One page to a person on call about a ticket (level 1 or an SLA breach): sent, delivered, acknowledged."""

    __tablename__ = "page"
    __table_args__ = (UniqueConstraint("ticket_id", "attempt", "person", name="uq_page_attempt_person"),
                      Index("ix_page_open", "acked_at", "ticket_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(64))   # the channel's id of the person (WeChat Work userid)
    reason: Mapped[str] = mapped_column(String(16))            # level1 | breach | warning
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered: Mapped[bool | None] = mapped_column(Boolean)   # None until the notifier answered
    error: Mapped[str | None] = mapped_column(Text)
    acked_at: Mapped[datetime | None] = mapped_column()
    acked_by: Mapped[str | None] = mapped_column(String(64))
    ticket: Mapped[Ticket] = relationship()


class ChannelUser(Base):
    """Someone writing from an outside channel (a WeChat user), their conversation, and the resident once known."""

    __tablename__ = "channel_user"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_channel_user"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    account: Mapped[str | None] = mapped_column(String(64))      # the channel's own account (WeChat open_kfid)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversation.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelMessage(Base):
    """A message id a channel delivered: written before the message is handled, so a replay is answered once."""

    __tablename__ = "channel_message"
    __table_args__ = (UniqueConstraint("channel", "message_id", name="uq_channel_message"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelCursor(Base):
    """Where reading a channel account's message list stopped (WeChat Work's sync_msg cursor)."""

    __tablename__ = "channel_cursor"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(256))


class OnCallRoster(Base):
    """One saved version of the on-call roster (an ``OnCall`` document); the newest is in force."""

    __tablename__ = "oncall_roster"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    roster: Mapped[dict[str, Any]] = mapped_column()
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResidentMessage(Base):
    """A message the resident is told without asking (a ticket update, an agent's words): posted into their
    conversation when due (``turn_id``), and sent to their outside channel when they write from one."""

    __tablename__ = "resident_message"
    __table_args__ = (Index("ix_resident_message_due", "turn_id", "deliver_at"),
                      Index("ix_resident_message_outbox", "sent", "channel"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    kind: Mapped[str] = mapped_column(String(16))           # dispatched | in_progress | resolved | reopened | agent
    text: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean)           # level 1: never held through quiet hours
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deliver_at: Mapped[datetime] = mapped_column()          # not before (the end of quiet hours, or at once)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turn.id"))  # None while held
    channel: Mapped[str | None] = mapped_column(String(16))             # None: the web chat only
    external_id: Mapped[str | None] = mapped_column(String(128))
    account: Mapped[str | None] = mapped_column(String(64))
    sent: Mapped[bool | None] = mapped_column(Boolean)      # None until the channel answered
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
class AnswerVote(Base):
    """A resident's 赞 (up) or 踩 (down) on one answer, with an optional reason; voting again replaces it."""

    __tablename__ = "answer_vote"
    __table_args__ = (UniqueConstraint("turn_id", name="uq_answer_vote_turn"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turn.id"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    vote: Mapped[str] = mapped_column(String(8), index=True)          # up | down
    reason: Mapped[str | None] = mapped_column(Text)
    entries: Mapped[list[Any]] = mapped_column(default=list)          # the KB entries the answer cited
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Gap(Base):
    """A question the KB did not answer well: not found, handed to a person, voted down, or corrected by an agent.

    ``detail`` keeps what retrieval saw then (the nearest entries with their scores and why they did not answer);
    ``vector`` is the question's embedding by ``model_id`` (float32 bytes), so the gap report never re-embeds it.
    """

    __tablename__ = "kb_gap"
    __table_args__ = (UniqueConstraint("turn_id", "kind", name="uq_kb_gap_turn_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)         # not_found | handoff | downvote | correction
    question: Mapped[str] = mapped_column(Text)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turn.id"))
    community: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)                    # the 踩 reason, or the agent's correction
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    model_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Correction(Base):
    """An agent's corrected answer to a resident's question, waiting for an admin (pending → approved | rejected).

    Approved, it becomes the curated FAQ entry ``entry_id`` in the KB.
    """

    __tablename__ = "kb_correction"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turn.id"))
    question: Mapped[str] = mapped_column(Text)
    original: Mapped[str] = mapped_column(Text)                        # what the assistant had said
    answer: Mapped[str] = mapped_column(Text)                          # the agent's answer
    agent: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    reviewer: Mapped[str | None] = mapped_column(String(64))
    entry_id: Mapped[str | None] = mapped_column(String(32))
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column()
