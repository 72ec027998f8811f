"""The agent console's shapes: suggested replies, the reply linter, conversations handed to a person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas import MAX_MESSAGE, TurnOut, _In
from assistant.console import TicketSuggestions
from assistant.replies import LintResult
from assistant.store.repository import SimilarTicket
from assistant.store.tables import Conversation
from assistant.suggest import Suggestion


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
        """Map an ``assistant.replies.LintResult`` (its findings' fields are this schema's)."""
        return cls.model_validate(result, from_attributes=True)


class AgentMessageIn(_In):
    """An agent's message into a resident's conversation."""

    text: str = Field(min_length=1, max_length=MAX_MESSAGE)


class ReleaseIn(_In):
    """Hand a conversation back to the assistant, or close it (the half-filled case is dropped)."""

    close: bool = False


class CaseOut(BaseModel):
    """The case a conversation is filing (the draft's details left out)."""

    category: str | None
    urgency: int | None
    issue: str | None
    draft: dict[str, Any]


class HandoffOut(BaseModel):
    """A conversation a person must take or holds, with its transcript and the case being filed."""

    id: str
    agent: str
    agent_user: str | None
    resident_id: int | None
    updated_at: datetime
    case: CaseOut | None
    ticket_number: str | None
    turns: list[TurnOut]

    @classmethod
    def of(cls, c: Conversation, *, last_turns: int = 30) -> HandoffOut:
        """Map a conversation row and its stored state."""
        state = c.state or {}
        case = state.get("case")
        return cls(
            id=c.id, agent=c.agent_state, agent_user=c.agent_user, resident_id=c.resident_id, updated_at=c.updated_at,
            case=CaseOut(category=case.get("category"), urgency=case.get("urgency"), issue=case.get("issue"),
                         draft={k: v for k, v in (case.get("draft") or {}).items() if k != "details"})
            if case else None,
            ticket_number=state.get("ticket_number"),
            turns=[TurnOut.of(t) for t in c.turns[-last_turns:]])


class SuggestionOut(BaseModel):
    """A suggested reply: the filled scripts, its style, its KB basis and its lint verdict."""

    text: str
    scripts: list[str]
    scenario: str
    style: str = Field(description="short, warm or full")
    basis: list[str]
    lint: LintOut
    lint_ok: bool = Field(description="The lint found nothing (``lint.ok``)")

    @classmethod
    def of(cls, s: Suggestion) -> SuggestionOut:
        """Map a suggestion."""
        return cls(text=s.text, scripts=list(s.scripts), scenario=s.scenario, style=s.style.value,
                   basis=list(s.basis), lint=LintOut.of(s.lint), lint_ok=s.lint.ok)


class SimilarTicketOut(BaseModel):
    """An earlier ticket of the same household and category, and how it was resolved."""

    number: str
    description: str = Field(description="The first 80 characters")
    status: str
    resolution: str | None

    @classmethod
    def of(cls, t: SimilarTicket) -> SimilarTicketOut:
        """Map a similar ticket."""
        return cls(number=t.number, description=t.description[:80], status=t.status, resolution=t.resolution)


class SuggestOut(BaseModel):
    """Replies suggested for a ticket, the SOP's next steps, similar tickets, and the lint of the agent's draft."""

    ticket: str
    suggestions: list[SuggestionOut]
    next_steps: list[str]
    similar_tickets: list[SimilarTicketOut]
    draft_lint: LintOut | None

    @classmethod
    def of(cls, s: TicketSuggestions) -> SuggestOut:
        """Map the console's suggestions."""
        return cls(ticket=s.ticket, suggestions=[SuggestionOut.of(x) for x in s.suggestions],
                   next_steps=list(s.next_steps), similar_tickets=[SimilarTicketOut.of(t) for t in s.similar],
                   draft_lint=LintOut.of(s.draft_lint) if s.draft_lint is not None else None)
