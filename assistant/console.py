"""The agent console's casework: replies suggested for a stored ticket, a reply checked against its case, and an
agent's message into a resident's conversation.

The HTTP routes and the `wuye` commands call these; they hold no SQL (``assistant/store/repository.py``) and no
policy of their own (the linter and the scripts read kb/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from assistant.advice import CaseAdvice
from assistant.conversation import AgentState
from assistant.errors import AgentMessageError
from assistant.intake import summary_of
from assistant.replies import LintResult, ReplyLinter
from assistant.store import repository as repo
from assistant.store.tables import ResidentMessage, Turn
from assistant.suggest import Suggestion, agent_name_of, case_facts, situations_for, suggest
from assistant.triage import Triager
from assistant.updates import ResidentUpdates
from kb.load import KnowledgeBase, Rules
from kb.schema import Category, Situation, Urgency

FIRST_REPLY = (Situation.FIRST_CONTACT, Situation.REPAIR)  # what a reply checked without a ticket must contain


@dataclass(frozen=True, slots=True)
class TicketSuggestions:
    """Replies suggested for a ticket, the SOP's next steps, the household's similar tickets, and the lint of
    the agent's own draft (when one was given)."""

    ticket: str
    suggestions: tuple[Suggestion, ...]
    next_steps: tuple[str, ...]
    similar: tuple[repo.SimilarTicket, ...]
    draft_lint: LintResult | None


def year_before(moment: datetime) -> datetime:
    """The same moment one year earlier; 29 February falls back to the 28th (``replace`` alone raises)."""
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:
        return moment.replace(year=moment.year - 1, day=28)


def suggestions_for(session: Session, kb: KnowledgeBase, triager: Triager, *, number: str, agent: str,
                    draft: str | None = None) -> TicketSuggestions:
    """Three different replies for a stored ticket (short, warm, full), filled for the agent and cited.

    Args:
        session: The caller's session.
        kb: The knowledge base (scripts, rules, clauses).
        triager: Names the ticket's problem in the company's words (its rules only; no model is needed).
        number: The ticket number.
        agent: The agent's display name (``agent_name_of`` takes the name a resident reads).
        draft: The agent's own draft, linted for the ticket's situation.

    Raises:
        TicketNotFoundError: No such ticket.
    """
    ticket = repo.get_ticket(session, number=number)
    turns = (repo.conversation_of(session, conversation_id=ticket.conversation_id).turns
             if ticket.conversation_id else [])
    facts = case_facts(ticket, issue=summary_of(kb.rules, triager, ticket.description),
                       agent_name=agent_name_of(agent), said=[t.answer for t in turns if t.answer],
                       agent_spoke=any(t.speaker == "agent" for t in turns))
    linter = ReplyLinter(kb.rules, clauses=kb.clause_index())
    found = suggest(kb, facts, linter=linter)
    similar = repo.similar_tickets(session, ticket=ticket, since=year_before(ticket.created_at))
    return TicketSuggestions(
        ticket=ticket.number or "", suggestions=tuple(found),
        next_steps=found[0].next_steps if found else (), similar=tuple(similar),
        draft_lint=linter.run(draft, situations=situations_for(facts)) if draft else None)


def check_reply(session: Session, kb: KnowledgeBase, *, text: str, context: str = "",
                ticket_number: str | None = None) -> LintResult:
    """Lint a reply: unsafe advice, wrong promises and contradictions first, then banned phrases and the elements
    its situation requires — the ticket's situation, level, category and words when a ticket is given.

    Raises:
        TicketNotFoundError: ``ticket_number`` names no ticket.
    """
    situations: tuple[Situation, ...] = FIRST_REPLY
    urgency: Urgency | None = None
    category: Category | None = None
    if ticket_number:
        facts = case_facts(repo.get_ticket(session, number=ticket_number))
        situations, urgency, category = situations_for(facts), facts.urgency, facts.category
        context = f"{facts.hazard_text}\n{context}"
    linter = ReplyLinter(kb.rules, clauses=kb.clause_index())
    return linter.run(text, situations=situations, case=CaseAdvice(context=context), urgency=urgency,
                      category=category)


def agent_message(session: Session, rules: Rules, updates: ResidentUpdates, *, conversation_id: str, agent: str,
                  text: str, now: datetime) -> tuple[Turn, ResidentMessage | None]:
    """An agent's message into a conversation the agent holds; queued for the resident's channel too, if any.

    Raises:
        ConversationNotFoundError: No such conversation.
        AgentMessageError: The agent has not joined it (409), or the text has a banned deflecting phrase (422).
    """
    conversation = repo.conversation_of(session, conversation_id=conversation_id, hint="")
    if conversation.agent_state != AgentState.JOINED:
        raise AgentMessageError("join the conversation before writing in it", code="not_joined", status=409)
    banned = [f for f in ReplyLinter(rules).run(text, situations=()).findings if f.kind == "banned"]
    if banned:
        raise AgentMessageError("；".join(f"{f.message} → {f.suggestion}" for f in banned), code="banned_phrase",
                                status=422)
    return updates.agent_said(session, conversation=conversation, agent=agent, text=text, now=now)
