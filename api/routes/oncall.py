"""Pages to people on call: the console lists those nobody acknowledged, and acknowledging one stops the paging."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import SessionDep, Staff
from api.schemas_tickets import AckOut, PageOut
from assistant.store import pages as store
from assistant.store import repository as repo

router = APIRouter(prefix="/api/agent/pages", tags=["agent"])


@router.get("", response_model=list[PageOut])
def open_pages(session: SessionDep, _: Staff) -> list[PageOut]:
    """Pages not acknowledged yet, newest first."""
    return [PageOut(id=p.id, ticket_number=p.ticket.number or "", urgency=p.ticket.urgency,
                    department=p.ticket.department, attempt=p.attempt, person=p.person, phone=p.phone,
                    channel=p.channel, reason=p.reason, message=p.message, created_at=p.created_at,
                    delivered=p.delivered, error=p.error) for p in store.open_pages(session)]


@router.post("/{number}/ack", response_model=AckOut)
def acknowledge(number: str, session: SessionDep, principal: Staff) -> AckOut:
    """Acknowledge every open page of ticket ``number`` (recorded in its audit trail); 404 for an unknown ticket."""
    ticket = repo.get_ticket(session, number=number)
    count = store.acknowledge(session, ticket=ticket, by=principal.name, now=datetime.now(UTC))
    return AckOut(ticket_number=number, acknowledged=count, by=principal.name)
