"""Request and response shapes of the HTTP API (never ORM rows): the base of every request body, login,
health, chat and conversations, citations, the roster. Tickets, the agent console, knowledge, training and the
OpenAI endpoint have modules of their own (``schemas_*.py``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.compose import Citation
from assistant.conversation import AgentState
from assistant.service import Reply
from assistant.store.tables import Conversation, Turn
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


class MeOut(BaseModel):
    """Who the caller is."""

    name: str
    role: str
    resident_id: int | None


class HealthOut(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    """Readiness: the index loaded, the database reachable, who leads the SLA monitor."""

    status: Literal["ready", "not ready"]
    worker: int = Field(description="The answering worker's process id")
    checks: dict[str, Any] = Field(description="index (version, chunks, model, dimension, index_type, or why it is "
                                               "not loaded), database, sla_monitor (leader or standby)")


class ChatIn(_In):
    """A resident's message."""

    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    conversation_id: str | None = Field(None, max_length=36, pattern=r"^[0-9a-f-]{36}$")


class CitationOut(BaseModel):
    """A KB entry an answer rests on (``Citation.to_json``: the same shape in the CLI, the API and stored turns)."""

    entry_id: str
    title: str
    clause: str | None
    ref: str
    score: float | None = Field(None, description="The hit's fused score (absent on turns stored before it was kept)")

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        """Map a citation."""
        return cls.model_validate(c.to_json())


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
            citations=[CitationOut.of(c) for c in reply.citations],
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
    citations: list[CitationOut]
    ticket_id: int | None
    created_at: datetime
    speaker: str = Field("assistant", description="Who wrote ``answer``: the assistant, an agent, or ``update`` "
                                               "(the ticket moved)")

    @classmethod
    def of(cls, t: Turn) -> TurnOut:
        """Map a stored turn (ORM row)."""
        return cls(id=t.id, message=t.message, answer=t.answer, urgency=t.urgency, category=t.category,
                   handoff=t.handoff, citations=[CitationOut.model_validate(c) for c in t.citations or []],
                   ticket_id=t.ticket_id, created_at=t.created_at, speaker=t.speaker or "assistant")


class ConversationOut(BaseModel):
    """A conversation and its turns."""

    id: str
    created_at: datetime
    turns: list[TurnOut]
    agent: str = Field("none", description="Human hand-off: none, waiting, callback or joined")

    @classmethod
    def of(cls, c: Conversation) -> ConversationOut:
        """Map a conversation row."""
        return cls(id=c.id, created_at=c.created_at, turns=[TurnOut.of(t) for t in c.turns],
                   agent=c.agent_state or AgentState.NONE.value)


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
