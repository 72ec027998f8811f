"""Request and response shapes of the HTTP API (never ORM rows)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.replies import LintResult
from assistant.service import Reply
from assistant.store.tables import DeadlineRow, Ticket, TicketEvent
from kb.schema import OnCall

MAX_MESSAGE = 4000


# C0/C1 control characters except tab and newline: terminal escapes, NUL (PostgreSQL refuses it in text), bells
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _In(BaseModel):
    """Every request body: unknown fields rejected, control characters dropped, then whitespace trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _drop_control_characters(cls, value: Any) -> Any:
        return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


class LoginIn(_In):
    """Credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    """A login token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    display_name: str
    expires_in: int


class ChatIn(_In):
    """A resident's message."""

    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    conversation_id: str | None = Field(None, max_length=36, pattern=r"^[0-9a-f-]{36}$")


class CitationOut(BaseModel):
    """A KB entry an answer rests on."""

    entry_id: str
    title: str
    clause: str | None
    ref: str
    score: float


class DeadlineOut(BaseModel):
    """A committed time limit, with the time left now."""

    key: str
    label: str
    minutes: int
    due_at: datetime
    seconds_left: int
    state: str


class ChatOut(BaseModel):
    """The assistant's reply."""

    conversation_id: str
    turn_id: int
    reply: str
    intent: str
    kind: str = Field(description="What the turn was: greeting, thanks, slot, correction, question, report, "
                                  "complaint, emergency, status, person, chitchat")
    answered: bool = Field(description="Answered from the KB (citations) or from the resident's own tickets")
    escalated: bool = Field(description="The case is escalated under the escalation rules")
    agent: str = Field(description="Human hand-off: none, waiting, joined or callback")
    emergency: bool
    handoff: bool = Field(description="A person takes the conversation over (agent is not none)")
    category: str
    urgency: int
    department: str
    escalation: list[str]
    citations: list[CitationOut]
    missing_fields: list[str]
    ticket_number: str | None
    deadlines: list[DeadlineOut]

    @classmethod
    def from_reply(cls, reply: Reply, conversation_id: str, turn_id: int, now: datetime) -> ChatOut:
        """Map a service reply."""
        return cls(
            conversation_id=conversation_id,
            turn_id=turn_id,
            reply=reply.text,
            intent=reply.intent.value,
            kind=reply.kind.value,
            answered=reply.answered,
            escalated=reply.escalated,
            agent=reply.agent.value,
            emergency=reply.emergency,
            handoff=reply.handoff,
            category=reply.triage.category.value,
            urgency=int(reply.decision.urgency),
            department=reply.triage.department,
            escalation=[f"{r.rule}: {r.detail}" for r in reply.decision.reasons],
            citations=[CitationOut(entry_id=c.entry_id, title=c.title, clause=c.clause, ref=c.ref, score=c.score)
                       for c in reply.citations],
            missing_fields=list(reply.missing),
            ticket_number=reply.ticket_number,
            deadlines=[DeadlineOut(key=d.key, label=d.label, minutes=d.minutes, due_at=d.due,
                                   seconds_left=int((d.due - now).total_seconds()), state="ok")
                       for d in reply.deadlines],
        )


class TurnOut(BaseModel):
    """One stored exchange."""

    id: int
    message: str
    answer: str
    urgency: int | None
    category: str | None
    handoff: bool
    citations: list[dict[str, Any]]
    ticket_id: int | None
    created_at: datetime
    speaker: str = Field("assistant", description="Who wrote ``answer``: the assistant, an agent, or ``update`` "
                                               "(the ticket moved)")

    @classmethod
    def of(cls, t: Any) -> TurnOut:
        """Map a stored turn (ORM row)."""
        return cls(id=t.id, message=t.message, answer=t.answer, urgency=t.urgency, category=t.category,
                   handoff=t.handoff, citations=t.citations or [], ticket_id=t.ticket_id, created_at=t.created_at,
                   speaker=t.speaker or "assistant")


class ConversationOut(BaseModel):
    """A conversation and its turns."""

    id: str
    created_at: datetime
    turns: list[TurnOut]
    agent: str = Field("none", description="Human hand-off: none, waiting, callback or joined")


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


class TicketCreateIn(_In):
    """A ticket entered by an agent (the form's mandatory fields are checked like the chat's)."""

    resident_name: str = Field("", max_length=64)
    phone: str = Field("", max_length=32)
    address: str = Field("", max_length=64)
    description: str = Field("", max_length=MAX_MESSAGE)


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


class TriageIn(_In):
    """A message to triage, with an optional resident profile."""

    text: str = Field(min_length=1, max_length=MAX_MESSAGE)
    vulnerable: bool = False


class SuggestIn(_In):
    """What to suggest replies for."""

    ticket_number: str | None = Field(None, max_length=32)
    conversation_id: str | None = Field(None, max_length=36)
    draft: str | None = Field(None, max_length=MAX_MESSAGE, description="The agent's own draft, to lint")


class LintIn(_In):
    """A reply to check, optionally for a ticket (its situation decides the required elements)."""

    text: str = Field(min_length=1, max_length=MAX_MESSAGE)
    ticket_number: str | None = Field(None, max_length=32)
    context: str = Field("", max_length=MAX_MESSAGE,
                         description="The resident's message, for the hazard cues (煤气味, 着火…) of the safety check")


class LintFindingOut(BaseModel):
    """One linter finding, located in the (normalised) reply, safety findings first."""

    rule: str = Field(description="Rule id: a must-not-do item, 'promise', a contradiction id, banned:…, missing:…")
    kind: str = Field(description="unsafe | wrong_promise | contradiction | banned | missing")
    text: str
    start: int
    end: int
    message: str
    suggestion: str
    basis: list[str]
    quote: str = Field("", description="The first KB clause of the basis, quoted")
    sentence: str = Field("", description="The whole sentence the finding sits in")


class LintOut(BaseModel):
    """The linter's verdict on a reply."""

    ok: bool
    findings: list[LintFindingOut]

    @classmethod
    def of(cls, result: LintResult) -> LintOut:
        """Map an ``assistant.replies.LintResult``."""
        return cls(ok=result.ok, findings=[
            LintFindingOut(rule=f.rule, kind=f.kind, text=f.text, start=f.start, end=f.end, message=f.message,
                           suggestion=f.suggestion, basis=list(f.basis), quote=f.quote, sentence=f.sentence)
            for f in result.findings])


class AgentMessageIn(_In):
    """An agent's message into a resident's conversation."""

    text: str = Field(min_length=1, max_length=MAX_MESSAGE)


class ReleaseIn(_In):
    """Hand a conversation back to the assistant, or close it (the half-filled case is dropped)."""

    close: bool = False


class PhotoOut(BaseModel):
    """A stored photo of a ticket."""

    sha256: str
    url: str
    thumb_url: str
    width: int
    height: int


class HandoffOut(BaseModel):
    """A conversation a person must take or holds, with its transcript and the case being filed."""

    id: str
    agent: str
    agent_user: str | None
    resident_id: int | None
    updated_at: datetime
    case: dict[str, Any] | None
    ticket_number: str | None
    turns: list[TurnOut]


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


class CallbackIn(BaseModel):
    """What the callback found."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["satisfied", "not_solved", "unreachable"]
    satisfaction: int | None = Field(None, ge=1, le=5, description="Required when satisfied")
    note: str | None = Field(None, max_length=500)


class AckOut(BaseModel):
    """The acknowledgement of a ticket's pages: paging stops."""

    ticket_number: str
    acknowledged: int = Field(description="How many open pages this closed (0: already acknowledged)")
    by: str


class QuizIn(_In):
    """A quiz: chosen scenarios, or N drawn at random (optionally of one difficulty), and its agents."""

    title: str = Field(min_length=1, max_length=128)
    scenario_ids: list[str] = Field(default_factory=list, max_length=50)
    count: int | None = Field(None, ge=1, le=50)
    difficulty: Literal["easy", "medium", "hard"] | None = None
    assignees: list[str] = Field(min_length=1, max_length=100)


class QuizAnswerIn(_In):
    """An agent's answer to one scenario."""

    scenario_id: str = Field(min_length=1, max_length=32)
    category: str = Field(max_length=16)
    urgency: int = Field(ge=1, le=4)
    department: str = Field(max_length=32)
    time_limit_minutes: int = Field(ge=0, le=100_000)
    reply: str = Field(max_length=MAX_MESSAGE)
    seconds: float = Field(ge=0, le=86_400)


class ChatMessage(BaseModel):
    """OpenAI chat message."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionIn(BaseModel):
    """OpenAI chat-completions request (the fields we use; others are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(max_length=128)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False


class RosterIn(BaseModel):
    """A whole on-call roster to put in force, and the version it was edited from (lost updates are refused)."""

    model_config = ConfigDict(extra="forbid")
    base_version: int = Field(ge=0, description="The ``version`` the edit started from (0: the kb file's roster)")
    roster: OnCall


class RosterOut(BaseModel):
    """The roster in force, where it comes from, and what a roster may name."""

    version: int = Field(description="0 while the kb file's roster is in force; each save adds one")
    source: Literal["kb", "database"]
    author: str | None
    saved_at: datetime | None
    roster: OnCall
    departments: list[str] = Field(description="Departments tickets are routed to (the only ones a roster may name)")
    channels: list[str] = Field(description="How a person can be paged")
