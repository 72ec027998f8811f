"""Ticket shapes: a ticket with live deadlines and its audit trail, the agent's form, moves, photos, pages,
callbacks and the manager's dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas import MAX_MESSAGE, DeadlineOut, _In
from assistant.callbacks import CallbackTask, Outcome
from assistant.store.tables import DeadlineRow, Ticket, TicketEvent
from assistant.tickets import TicketDraft, parse_address, parse_phone


class EventOut(BaseModel):
    """An audit-trail entry."""

    actor: str
    from_status: str | None
    to_status: str
    note: str | None
    at: datetime

    @classmethod
    def of(cls, e: TicketEvent) -> EventOut:
        """Map an event row."""
        return cls(actor=e.actor, from_status=e.from_status, to_status=e.to_status, note=e.note, at=e.at)


def deadline_out(d: DeadlineRow, now: datetime, share: float) -> DeadlineOut:
    """A deadline row with its live state."""
    if d.met_at is not None:
        state = "met" if d.met_at <= d.due_at else "breached"
    elif now > d.due_at:
        state = "breached"
    elif d.minutes and (now - d.starts_at).total_seconds() >= share * d.minutes * 60:
        state = "warning"
    else:
        state = "ok"
    return DeadlineOut(key=d.key, label=d.label, minutes=d.minutes, due_at=d.due_at,
                       seconds_left=int((d.due_at - now).total_seconds()), state=state)


class TicketOut(BaseModel):
    """A ticket as the API shows it."""

    number: str
    status: str
    category: str
    urgency: int
    department: str
    route: str | None
    resident_name: str
    phone: str
    address: str
    description: str
    details: dict[str, Any]
    assignee: str | None
    escalated: bool
    escalation: dict[str, Any]
    required_attachments: list[Any]
    photos: list[Any]
    related: list[Any]
    satisfaction: int | None
    created_at: datetime
    deadlines: list[DeadlineOut]
    next_due_at: datetime | None
    seconds_left: int | None
    community: str | None = Field(None, description="The resident's community (小区) id when the ticket was filed")

    @classmethod
    def of(cls, t: Ticket, share: float, now: datetime | None = None) -> TicketOut:
        """Map a ticket row with live deadlines."""
        now = now or datetime.now(UTC)
        deadlines = [deadline_out(d, now, share) for d in t.deadlines]
        open_ = [d for d in deadlines if d.state in ("ok", "warning", "breached") and
                 not any(r.met_at for r in t.deadlines if r.key == d.key)]
        nxt = min((d.due_at for d in open_), default=None)
        return cls(number=t.number or "", status=t.status, category=t.category, urgency=t.urgency,
                   department=t.department, route=t.route, resident_name=t.resident_name, phone=t.phone,
                   address=t.address, description=t.description, details=t.details, assignee=t.assignee,
                   escalated=t.escalated, escalation=t.escalation, required_attachments=t.required_attachments,
                   photos=t.photos, related=t.related, satisfaction=t.satisfaction, created_at=t.created_at,
                   deadlines=deadlines, next_due_at=nxt,
                   seconds_left=int((nxt - now).total_seconds()) if nxt else None, community=t.community)


class TicketDetailOut(TicketOut):
    """A ticket with its audit trail."""

    events: list[EventOut]

    @classmethod
    def of_ticket(cls, t: Ticket, share: float, now: datetime | None = None) -> TicketDetailOut:
        """Map a ticket row (with its events) with live deadlines."""
        return cls(**TicketOut.of(t, share, now).model_dump(), events=[EventOut.of(e) for e in t.events])


class TicketCreateIn(_In):
    """A ticket entered by an agent (the form's mandatory fields are checked like the chat's)."""

    resident_name: str = Field("", max_length=64)
    phone: str = Field("", max_length=32)
    address: str = Field("", max_length=64)
    description: str = Field("", max_length=MAX_MESSAGE)

    @field_validator("phone")
    @classmethod
    def _a_phone_number(cls, value: str) -> str:
        if not value:
            return value
        phone = parse_phone(value)
        if phone is None:
            raise ValueError(f"{value!r} is not a mobile (11 digits) or landline number")
        return phone

    @field_validator("address")
    @classmethod
    def _normalised_address(cls, value: str) -> str:
        return (parse_address(value) or value) if value else value

    def draft(self) -> TicketDraft:
        """The form as a ticket draft (empty fields are missing)."""
        return TicketDraft(self.resident_name or None, self.phone or None, self.address or None,
                           self.description or None)


class TransitionIn(_In):
    """Move a ticket along its lifecycle."""

    to: Literal["dispatched", "in_progress", "resolved", "callback_done", "closed", "reopened"]
    note: str | None = Field(None, max_length=2000)
    assignee: str | None = Field(None, max_length=64)
    photos: list[str] = Field(default_factory=list, max_length=20)


class AssignIn(_In):
    """Assign a ticket."""

    assignee: str = Field(min_length=1, max_length=64)


class RatingIn(_In):
    """The resident's satisfaction rating after the callback."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=1000)


class PhotoOut(BaseModel):
    """A stored photo of a ticket."""

    sha256: str
    url: str
    thumb_url: str
    width: int
    height: int


class PageOut(BaseModel):
    """A page to a person on call that nobody acknowledged yet (the console shows these loudly)."""

    id: int
    ticket_number: str
    urgency: int
    department: str
    attempt: int
    person: str
    phone: str
    channel: str
    reason: str = Field(description="level1, breach, or warning (a deadline past its SLA warning share)")
    message: str
    created_at: datetime
    delivered: bool | None = Field(description="None until the channel answered; false with `error` when it failed")
    error: str | None


class CallbackOut(BaseModel):
    """A resolved ticket waiting for its callback (回访), with the script to use."""

    ticket_number: str
    category: str
    resident_name: str
    phone: str
    address: str
    resolved_at: datetime | None
    due_at: datetime | None = Field(description="24 h after a repair, 48 h for other tickets (POL-FEEDBACK-001)")
    tries: int = Field(description="Unanswered calls so far")
    script: str = Field(description="The callback script for the category, filled for the case and the agent")
    script_id: str | None
    chat_score: int | None = Field(None, description="The score 1–5 the resident gave in the chat (a low one is "
                                   "why the call is still needed)")

    @classmethod
    def of(cls, c: CallbackTask) -> CallbackOut:
        """Map a callback task."""
        t = c.ticket
        return cls(ticket_number=t.number or "", category=t.category, resident_name=t.resident_name, phone=t.phone,
                   address=t.address, resolved_at=t.resolved_at, due_at=c.due_at, tries=c.tries, script=c.script,
                   script_id=c.script_id, chat_score=c.chat_score)


class CallbackIn(BaseModel):
    """What the callback found."""

    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    satisfaction: int | None = Field(None, ge=1, le=5, description="Required when satisfied")
    note: str | None = Field(None, max_length=500)


class AckOut(BaseModel):
    """The acknowledgement of a ticket's pages: paging stops."""

    ticket_number: str
    acknowledged: int = Field(description="How many open pages this closed (0: already acknowledged)")
    by: str


class ChatRatingsOut(BaseModel):
    """Scores residents gave in the chat after the resolution update."""

    count: int
    average: float | None


class DashboardOut(BaseModel):
    """The manager's figures for a period (seed 6.1)."""

    period: Literal["day", "week", "month"]
    since: datetime
    total: int
    by_category: dict[str, int]
    by_urgency: dict[int, int]
    by_status: dict[str, int]
    sla_compliance: float | None = Field(description="Share of closed clocks met in time")
    median_response_minutes: float | None
    median_resolution_minutes: float | None
    repeat_complaint_rate: float | None
    satisfaction: float | None
    callbacks: dict[str, int] = Field(description="satisfied, not_solved, unreachable")
    chat_ratings: ChatRatingsOut
    series: dict[str, int] = Field(description="Tickets per day, week or month")
