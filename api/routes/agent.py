"""Agent console data: the queue by deadline, suggested replies, the reply linter, conversations to take over."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Request

from api.deps import AssistantDep, PrincipalDep, SessionDep, Staff, UpdatesDep
from api.errors import ApiError
from api.schemas import TurnOut
from api.schemas_agent import AgentMessageIn, HandoffOut, LintIn, LintOut, ReleaseIn, SuggestIn, SuggestOut
from api.schemas_tickets import TicketOut
from api.security import Role
from assistant import console
from assistant.conversation import AgentState
from assistant.store import repository as repo

router = APIRouter(prefix="/api/agent", tags=["agent"])


@router.get("/queue", response_model=list[TicketOut])
def queue(session: SessionDep, assistant: AssistantDep, _: Staff) -> list[TicketOut]:
    """Open tickets, the one with the least time left first."""
    now = datetime.now(UTC)
    share = assistant.rules.urgency.sla_warning_share
    out = [TicketOut.of(t, share, now) for t in repo.list_tickets(session, open_only=True)]
    return sorted(out, key=lambda t: (t.seconds_left is None, t.seconds_left if t.seconds_left is not None else 0,
                                      t.urgency))


@router.post("/suggest", response_model=SuggestOut)
def suggest_replies(body: SuggestIn, session: SessionDep, assistant: AssistantDep, principal: Staff) -> SuggestOut:
    """Three different replies for a ticket (short, warm, full), filled for the signed-in agent and cited, with
    the SOP's next steps and similar earlier tickets."""
    if not body.ticket_number:
        raise ApiError(422, "ticket_number: give the ticket to suggest replies for", code="invalid_request")
    return SuggestOut.of(console.suggestions_for(session, assistant.kb, assistant.triager, number=body.ticket_number,
                                                 agent=principal.name, draft=body.draft))


@router.get("/conversations", response_model=list[HandoffOut])
def handoffs(session: SessionDep, _: Staff) -> list[HandoffOut]:
    """Conversations waiting for a person (asked for one, KB gap, level 1, callback) or held by an agent."""
    return [HandoffOut.of(c) for c in repo.handoff_conversations(session)]


@router.post("/conversations/{conversation_id}/join", response_model=HandoffOut)
def join(conversation_id: str, session: SessionDep, principal: Staff) -> HandoffOut:
    """Take the conversation: from now on the assistant stays silent and the resident talks to this agent."""
    return HandoffOut.of(repo.set_agent(session, conversation_id=conversation_id,
                                        agent_state=AgentState.JOINED.value, agent_user=principal.name))


@router.post("/conversations/{conversation_id}/messages", response_model=TurnOut)
def agent_message(conversation_id: str, body: AgentMessageIn, request: Request, session: SessionDep,
                  assistant: AssistantDep, updates: UpdatesDep, principal: Staff,
                  background: BackgroundTasks) -> TurnOut:
    """Send the resident a message (the agent must hold the conversation; banned phrases are refused); a resident
    writing from WeChat gets it there too."""
    turn, message = console.agent_message(session, assistant.rules, updates, conversation_id=conversation_id,
                                          agent=principal.name, text=body.text, now=datetime.now(UTC))
    if message is not None:
        background.add_task(request.app.state.monitor.poke)  # after the commit: send it to their WeChat now
    return TurnOut.of(turn)


@router.post("/conversations/{conversation_id}/release", response_model=HandoffOut)
def release(conversation_id: str, body: ReleaseIn, session: SessionDep, _: Staff) -> HandoffOut:
    """Hand the conversation back to the assistant, or close it."""
    return HandoffOut.of(repo.set_agent(session, conversation_id=conversation_id, agent_state=AgentState.NONE.value,
                                        agent_user=None, reset_case=body.close))


@router.post("/lint", response_model=LintOut)
def lint(body: LintIn, session: SessionDep, assistant: AssistantDep, principal: PrincipalDep) -> LintOut:
    """Check a reply: unsafe advice, wrong promises and policy contradictions first, then banned phrases and the
    elements its situation requires (the ticket's level, words and situation, if a ticket is given)."""
    if not principal.is_staff and principal.role is not Role.TRAINER:
        raise ApiError(403, "this needs a staff role", code="forbidden")
    return LintOut.of(console.check_reply(session, assistant.kb, text=body.text, context=body.context,
                                          ticket_number=body.ticket_number))
