"""Agent console data: the queue by deadline, suggested replies, the reply linter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request

from api.deps import AssistantDep, PrincipalDep, SessionDep, Staff, UpdatesDep
from api.errors import ApiError
from api.schemas import AgentMessageIn, HandoffOut, LintIn, LintOut, ReleaseIn, SuggestIn, TicketOut, TurnOut
from assistant.advice import CaseAdvice
from assistant.replies import ReplyLinter
from assistant.store import repository as repo
from assistant.store.tables import Conversation
from assistant.suggest import agent_name_of, case_facts, situations_for, suggest
from kb.schema import Category, Urgency

router = APIRouter(prefix="/api/agent", tags=["agent"])


@router.get("/queue", response_model=list[TicketOut])
def queue(request: Request, session: SessionDep, _: Staff) -> list[TicketOut]:
    """Open tickets, the one with the least time left first."""
    now = datetime.now(UTC)
    share = request.app.state.assistant.rules.urgency.sla_warning_share
    rows = [t for t in repo.list_tickets(session) if t.status not in ("closed", "callback_done")]
    out = [TicketOut.of(t, share, now) for t in rows]
    return sorted(out, key=lambda t: (t.seconds_left is None, t.seconds_left if t.seconds_left is not None else 0,
                                      t.urgency))


def _lint_json(result: Any) -> dict[str, Any]:
    return LintOut.of(result).model_dump()


@router.post("/suggest")
def suggest_replies(body: SuggestIn, session: SessionDep, assistant: AssistantDep,
                    principal: Staff) -> dict[str, Any]:
    """Three different replies for a ticket (short, warm, full), filled for the signed-in agent and cited, with
    the SOP's next steps and similar earlier tickets."""
    if not body.ticket_number:
        raise ApiError(422, "ticket_number: give the ticket to suggest replies for", code="invalid_request")
    t = repo.get_ticket(session, number=body.ticket_number)
    conv = session.get(Conversation, t.conversation_id) if t.conversation_id else None
    turns = conv.turns if conv is not None else []
    facts = case_facts(t, issue=assistant.summary_of(t.description), agent_name=agent_name_of(principal.name),
                       said=[x.answer for x in turns if x.answer], agent_spoke=any(x.speaker == "agent" for x in turns))
    linter = ReplyLinter(assistant.rules, clauses=assistant.kb.clause_index())
    suggestions = suggest(assistant.kb, facts, linter=linter)
    similar = [
        {"number": s.number, "description": s.description[:80], "status": s.status,
         "resolution": next((e.note for e in reversed(repo.get_ticket(session, number=s.number).events)
                             if e.to_status == "resolved"), None)}
        for s in repo.household_tickets(session, address=t.address,
                                        since=t.created_at - timedelta(days=365))
        if s.number != t.number and s.category == t.category][:5]
    return {
        "ticket": t.number,
        "suggestions": [{"text": s.text, "scripts": list(s.scripts), "scenario": s.scenario, "style": s.style.value,
                         "basis": list(s.basis), "lint": _lint_json(s.lint)} for s in suggestions],
        "next_steps": list(suggestions[0].next_steps) if suggestions else [],
        "similar_tickets": similar,
        "draft_lint": _lint_json(linter.run(body.draft, situations=situations_for(facts))) if body.draft else None,
    }


def _handoff(c: Any) -> HandoffOut:
    state = c.state or {}
    case = state.get("case")
    return HandoffOut(
        id=c.id, agent=c.agent_state, agent_user=c.agent_user, resident_id=c.resident_id, updated_at=c.updated_at,
        case={"category": case.get("category"), "urgency": case.get("urgency"), "issue": case.get("issue"),
              "draft": {k: v for k, v in (case.get("draft") or {}).items() if k != "details"}} if case else None,
        ticket_number=state.get("ticket_number"),
        turns=[TurnOut.of(t) for t in c.turns[-30:]])


@router.get("/conversations", response_model=list[HandoffOut])
def handoffs(session: SessionDep, _: Staff) -> list[HandoffOut]:
    """Conversations waiting for a person (asked for one, KB gap, level 1, callback) or held by an agent."""
    return [_handoff(c) for c in repo.handoff_conversations(session)]


@router.post("/conversations/{conversation_id}/join", response_model=HandoffOut)
def join(conversation_id: str, session: SessionDep, principal: Staff) -> HandoffOut:
    """Take the conversation: from now on the assistant stays silent and the resident talks to this agent."""
    conv = repo.set_agent(session, conversation_id=conversation_id, agent_state="joined", agent_user=principal.name)
    return _handoff(conv)


@router.post("/conversations/{conversation_id}/messages", response_model=TurnOut)
def agent_message(conversation_id: str, body: AgentMessageIn, request: Request, session: SessionDep,
                  assistant: AssistantDep, updates: UpdatesDep, principal: Staff,
                  background: BackgroundTasks) -> TurnOut:
    """Send the resident a message (the agent must hold the conversation; banned phrases are refused); a resident
    writing from WeChat gets it there too."""
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise ApiError(404, f"conversation {conversation_id} not found", code="not_found")
    if conv.agent_state != "joined":
        raise ApiError(409, "join the conversation before writing in it", code="not_joined")
    found = [f for f in ReplyLinter(assistant.rules).run(body.text, situations=()).findings if f.kind == "banned"]
    if found:
        raise ApiError(422, "；".join(f"{f.message} → {f.suggestion}" for f in found), code="banned_phrase")
    t, message = updates.agent_said(session, conversation=conv, agent=principal.name, text=body.text,
                                    now=datetime.now(UTC))
    if message is not None:
        background.add_task(request.app.state.monitor.poke)  # after the commit: send it to their WeChat now
    return TurnOut.of(t)


@router.post("/conversations/{conversation_id}/release", response_model=HandoffOut)
def release(conversation_id: str, body: ReleaseIn, session: SessionDep, _: Staff) -> HandoffOut:
    """Hand the conversation back to the assistant, or close it."""
    conv = repo.set_agent(session, conversation_id=conversation_id, agent_state="none", agent_user=None,
                          reset_case=body.close)
    return _handoff(conv)


@router.post("/lint", response_model=LintOut)
def lint(body: LintIn, session: SessionDep, assistant: AssistantDep, principal: PrincipalDep) -> LintOut:
    """Check a reply: unsafe advice, wrong promises and policy contradictions first, then banned phrases and the
    elements its situation requires (the ticket's level, words and situation, if a ticket is given)."""
    if not principal.is_staff and principal.role.value != "trainer":
        raise ApiError(403, "this needs a staff role", code="forbidden")
    situations: tuple[str, ...] = ("first_contact", "repair")
    urgency: Urgency | None = None
    category: Category | None = None
    context = body.context
    if body.ticket_number:
        facts = case_facts(repo.get_ticket(session, number=body.ticket_number))
        situations, urgency, context = situations_for(facts), facts.urgency, f"{facts.hazard_text}\n{context}"
        category = facts.category
    linter = ReplyLinter(assistant.rules, clauses=assistant.kb.clause_index())
    return LintOut.of(linter.run(body.text, situations=situations, case=CaseAdvice(context=context), urgency=urgency,
                                 category=category))
