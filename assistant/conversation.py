"""Conversation: what a chat remembers between turns, the case being filed, and the reply to one turn.

State lives as JSON on the conversation row (``ConversationState.to_json``); everything here is a frozen value,
so a turn builds a new state rather than changing the old one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from assistant.compose import Answer, Citation
from assistant.escalation import Decision
from assistant.sla import Deadline
from assistant.tickets import TicketDraft
from assistant.triage import Intent, Triage
from assistant.turn import TurnKind
from assistant.types import Retrieval
from kb.schema import Category, Urgency


class AgentState(StrEnum):
    """Where the human hand-off of a conversation stands."""

    NONE = "none"          # the assistant handles the conversation
    WAITING = "waiting"    # the resident asked for (or needs) a person; waiting for an agent to join
    JOINED = "joined"      # an agent holds the conversation; the assistant stays silent
    CALLBACK = "callback"  # no agent on duty: a callback is booked


@dataclass(frozen=True, slots=True)
class Case:
    """A problem being turned into a ticket over several turns."""

    draft: TicketDraft
    category: Category
    urgency: Urgency
    department: str
    route: str | None
    escalate: bool
    kinds: tuple[str, ...]
    reasons: tuple[str, ...]
    notify: tuple[str, ...]
    issue: str


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What a conversation remembers between turns (stored as JSON with the conversation)."""

    last_question: str | None = None
    case: Case | None = None
    ticket_number: str | None = None
    ticket_urgency: int | None = None
    ticket_category: str | None = None
    agent: AgentState = AgentState.NONE
    known: dict[str, str] = field(default_factory=dict)  # name/phone/address the resident gave outside a case
    rating_ticket: str | None = None  # a resolution update invited a score 1–5 for this ticket

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        data = asdict(self)
        data["agent"] = self.agent.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationState:
        """Rebuild from ``to_json`` output (unknown or missing keys tolerated)."""
        if not data:
            return cls()
        case = data.get("case")
        parsed: Case | None = None
        if case:
            parsed = Case(
                draft=TicketDraft(**case["draft"]),
                category=Category(case["category"]),
                urgency=Urgency(case["urgency"]),
                department=case["department"],
                route=case.get("route"),
                escalate=bool(case.get("escalate")),
                kinds=tuple(case.get("kinds", ())),
                reasons=tuple(case.get("reasons", ())),
                notify=tuple(case.get("notify", ())),
                issue=case.get("issue", ""),
            )
        try:
            agent = AgentState(data.get("agent") or AgentState.NONE)
        except ValueError:
            agent = AgentState.NONE
        return cls(data.get("last_question"), parsed, data.get("ticket_number"), data.get("ticket_urgency"),
                   data.get("ticket_category"), agent, dict(data.get("known") or {}), data.get("rating_ticket"))


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """A complete ticket, ready for the store."""

    draft: TicketDraft
    category: Category
    urgency: Urgency
    department: str
    route: str | None
    escalate: bool
    kinds: tuple[str, ...]
    reasons: tuple[str, ...]
    notify: tuple[str, ...]
    deadlines: tuple[Deadline, ...]
    required_attachments: tuple[str, ...]
    related: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """A past ticket of the household (what repeat detection needs)."""

    number: str
    category: str
    route: str | None
    description: str


@dataclass(frozen=True, slots=True)
class TicketView:
    """A resident's own open ticket, as a status query reports it."""

    number: str
    category: str
    status: str
    department: str
    assignee: str | None
    due: datetime | None
    summary: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Everything the assistant decided for one message.

    Three separate flags say what happened: ``answered`` (the resident got an answer from the KB or the ticket
    store), ``escalated`` (the case is escalated under the rules) and ``agent`` (the state of the human hand-off).
    """

    text: str
    intent: Intent
    triage: Triage
    decision: Decision
    answer: Answer | None
    retrieval: Retrieval | None
    missing: tuple[str, ...]
    ticket_number: str | None
    deadlines: tuple[Deadline, ...]
    state: ConversationState
    related: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = field(default=())
    kind: TurnKind = TurnKind.QUESTION
    prior_agent: AgentState = AgentState.NONE  # the hand-off state before this turn

    @property
    def answered(self) -> bool:
        """The resident's question was answered from the KB (or their ticket status from the store)."""
        if self.kind is TurnKind.STATUS:
            return True
        return self.answer is not None and not self.answer.handoff

    @property
    def escalated(self) -> bool:
        """The case is escalated under the escalation rules (level 1, vulnerable, repeat, safety, request)."""
        return self.decision.escalate

    @property
    def agent(self) -> AgentState:
        """The state of the human hand-off after this turn."""
        return self.state.agent

    @property
    def handoff(self) -> bool:
        """This turn hands the resident to a person (an agent is now awaited, or a callback booked): a request for a
        person, a question the KB does not cover, a level-1 case. A thank-you while waiting is not a new hand-off;
        ``agent`` keeps the state."""
        if self.state.agent is AgentState.NONE:
            return False
        if self.prior_agent is AgentState.NONE:
            return True
        return self.kind is TurnKind.PERSON or (self.answer is not None and self.answer.handoff)

    @property
    def emergency(self) -> bool:
        """Level 1 after escalation."""
        return self.decision.urgency == Urgency.LEVEL_1


def make_reply(text: str, intent: Intent, triage: Triage, decision: Decision, answer: Answer | None,
               retrieval: Retrieval | None, state: ConversationState, *, missing: tuple[str, ...] = (),
               ticket: str | None = None, deadlines: tuple[Deadline, ...] = (), related: tuple[str, ...] = (),
               kind: TurnKind | None = None) -> Reply:
    """Build the one reply of a turn; the kind follows the intent unless the turn said otherwise."""
    if kind is None:
        kind = {Intent.EMERGENCY: TurnKind.EMERGENCY, Intent.QUESTION: TurnKind.QUESTION}.get(
            intent, TurnKind.COMPLAINT if triage.category is Category.COMPLAINT else TurnKind.REPORT)
    return Reply(text=text, intent=intent, triage=triage, decision=decision, answer=answer, retrieval=retrieval,
                 missing=missing, ticket_number=ticket, deadlines=deadlines, state=state, related=related,
                 citations=answer.citations if answer else (), kind=kind)


Submit = Callable[[TicketRequest], str]
History = Callable[[str], Sequence[HistoryItem]]
Tickets = Callable[[], Sequence[TicketView]]
Amend = Callable[[str, dict[str, str]], None]  # (ticket number, corrected fields) → stored with an audit event
Rate = Callable[[str, int], None]  # (ticket number, score 1–5) → recorded like a callback's outcome
