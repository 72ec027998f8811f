"""Pages to people on call: every SQL statement the pager needs, portable across SQLite and PostgreSQL.

A page row is written before it is sent (``delivered`` is None until the notifier answered), so a worker that
dies between the two leaves a pending page the next leader sends; a unique (ticket, attempt, person) key makes
two leaders racing on one attempt write it once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from assistant.store.tables import DeadlineRow, Page, Ticket, TicketEvent
from assistant.tickets import TicketStatus

# Paging stops once a ticket reaches one of these (nobody needs to run to it any more)
_SETTLED = (TicketStatus.RESOLVED.value, TicketStatus.CALLBACK_DONE.value, TicketStatus.CLOSED.value)


def to_page(session: Session) -> list[tuple[Ticket, list[Page]]]:
    """Tickets that need someone on call — level 1, a deadline breached, or a running deadline past its warning
    share — with no acknowledged page yet."""
    acked = exists().where(Page.ticket_id == Ticket.id, Page.acked_at.is_not(None))
    breached = exists().where(DeadlineRow.ticket_id == Ticket.id, DeadlineRow.breached_at.is_not(None))
    at_risk = exists().where(DeadlineRow.ticket_id == Ticket.id, DeadlineRow.warned_at.is_not(None),
                             DeadlineRow.met_at.is_(None))
    tickets = session.scalars(
        select(Ticket).options(selectinload(Ticket.deadlines))
        .where(Ticket.number.is_not(None), Ticket.status.not_in(_SETTLED),
               or_(Ticket.urgency == 1, breached, at_risk), ~acked).order_by(Ticket.id)).all()
    if not tickets:
        return []
    rows = session.scalars(select(Page).where(Page.ticket_id.in_([t.id for t in tickets]))
                           .order_by(Page.attempt, Page.id)).all()
    by_ticket: dict[int, list[Page]] = {t.id: [] for t in tickets}
    for p in rows:
        by_ticket[p.ticket_id].append(p)
    return [(t, by_ticket[t.id]) for t in tickets]


def add(session: Session, *, ticket: Ticket, attempt: int, person: str, phone: str, channel: str,
        address: str | None, reason: str, message: str, now: datetime) -> Page | None:
    """Write one page (not yet sent) and its audit event; None when another worker already wrote it."""
    page = Page(ticket_id=ticket.id, attempt=attempt, person=person, phone=phone, channel=channel, address=address,
                reason=reason, message=message, created_at=now)
    try:
        with session.begin_nested():
            session.add(page)
            session.flush()
    except IntegrityError:
        return None
    note = f"呼叫{person}（{phone}，{channel}），第{attempt}轮" + ("，首呼" if attempt == 1 else "，前一轮无人确认")
    session.add(TicketEvent(ticket_id=ticket.id, actor="pager", from_status=ticket.status, to_status=ticket.status,
                            note=note, at=now))
    return page


def pending(session: Session) -> list[Page]:
    """Pages written but not yet sent (or whose sender died before recording the answer)."""
    return list(session.scalars(select(Page).where(Page.delivered.is_(None)).order_by(Page.id)).all())


def mark_sent(session: Session, *, page_id: int, delivered: bool, error: str | None) -> None:
    """Record the notifier's answer."""
    session.execute(update(Page).where(Page.id == page_id).values(delivered=delivered, error=error))


def open_pages(session: Session) -> list[Page]:
    """Pages nobody acknowledged yet, newest first, with their tickets (the console shows them loudly)."""
    return list(session.scalars(select(Page).options(selectinload(Page.ticket)).where(Page.acked_at.is_(None))
                                .order_by(Page.id.desc())).all())


def acknowledge(session: Session, *, ticket: Ticket, by: str, now: datetime) -> int:
    """Acknowledge every open page of a ticket (paging stops); the number of pages it closed."""
    result = session.execute(update(Page).where(Page.ticket_id == ticket.id, Page.acked_at.is_(None))
                             .values(acked_at=now, acked_by=by))
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        session.add(TicketEvent(ticket_id=ticket.id, actor=by, from_status=ticket.status, to_status=ticket.status,
                                note=f"{by}已确认呼叫，停止继续呼叫", at=now))
    return count
