"""Callbacks (回访) in the agent console: the tasks with their scripts, and recording what each call found."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import AssistantDep, SessionDep, Staff, UpdatesDep
from api.errors import ApiError
from api.schemas_tickets import CallbackIn, CallbackOut, TicketDetailOut
from assistant import callbacks
from assistant.store import repository as repo
from assistant.suggest import agent_name_of

router = APIRouter(prefix="/api/agent/callbacks", tags=["agent"])


@router.get("", response_model=list[CallbackOut])
def tasks(session: SessionDep, assistant: AssistantDep, principal: Staff) -> list[CallbackOut]:
    """Resolved tickets waiting for their callback, the nearest deadline first."""
    return [CallbackOut.of(c) for c in callbacks.tasks(session, assistant, agent_name=agent_name_of(principal.name))]


@router.post("/{number}", response_model=TicketDetailOut)
def record(number: str, body: CallbackIn, session: SessionDep, assistant: AssistantDep, updates: UpdatesDep,
           principal: Staff) -> TicketDetailOut:
    """Record a callback: satisfied (score 1–5; the ticket closes), not solved (it reopens), or unreachable
    (closed as 回访未接通 after the configured number of tries). 409 when the ticket is not awaiting a callback."""
    try:
        callbacks.record(session, assistant, number=number, outcome=body.outcome, actor=principal.name,
                         now=datetime.now(UTC), updates=updates, satisfaction=body.satisfaction, note=body.note)
    except ValueError as exc:
        raise ApiError(422, str(exc), code="invalid_request") from exc
    return TicketDetailOut.of_ticket(repo.get_ticket(session, number=number),
                                     assistant.rules.urgency.sla_warning_share)
