"""Callbacks (回访): a resolved ticket is a task for an agent — the callback script for its category, filled for
the case and the agent — and the outcome is recorded: satisfied (with a score 1–5), not solved (the ticket
reopens and the resident hears it), or unreachable (after ``ops.callback_attempts`` tries at different times
the ticket is noted "回访未接通" and closed — POL-FEEDBACK-001#6).

The resident may also score the ticket in the chat after the resolution update (``rate_in_chat``): a satisfied
score is the callback's outcome (POL-FEEDBACK-001#1 allows an online questionnaire); a low one is noted and the
call still happens (POL-FEEDBACK-001#5: not closed while the resident is not satisfied).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant.errors import TransitionError
from assistant.scripts import company_slots, fill, pick
from assistant.service import AssistantService
from assistant.store import repository as repo
from assistant.store.tables import Ticket, TicketEvent
from assistant.tickets import TicketStatus
from assistant.updates import ResidentUpdates
from kb.schema import Category, ScriptScenario

UNREACHABLE = "回访未接通"
CHAT_RATING = "业主在线评价"
RESIDENT = "业主"


class Outcome(StrEnum):
    """What a callback found."""

    SATISFIED = "satisfied"
    NOT_SOLVED = "not_solved"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class CallbackTask:
    """One resolved ticket waiting for its callback."""

    ticket: Ticket
    due_at: datetime | None
    tries: int
    script: str
    script_id: str | None
    chat_score: int | None = None  # the resident already scored it in the chat (low: why the call is needed)


def _tries(ticket: Ticket) -> int:
    return sum(1 for e in ticket.events if (e.note or "").startswith(UNREACHABLE))


def attempts(service: AssistantService) -> int:
    """How many unanswered calls at different times before the ticket is closed as unreachable."""
    value = service.kb.values.get("ops.callback_attempts")
    return int(str(value.value)) if value else 3


def tasks(session: Session, service: AssistantService, *, agent_name: str) -> list[CallbackTask]:
    """Resolved tickets awaiting their callback, the most urgent deadline first, each with its script."""
    rows = session.scalars(select(Ticket).options(selectinload(Ticket.events), selectinload(Ticket.deadlines))
                           .where(Ticket.status == TicketStatus.RESOLVED.value).order_by(Ticket.resolved_at)).all()
    company = company_slots(service.kb.values)
    out = []
    for t in rows:
        due = next((d.due_at for d in t.deadlines if d.key.startswith("callback") and d.met_at is None), None)
        script = pick(service.kb.scripts, ScriptScenario.FOLLOW_UP, category=Category(t.category))
        values = {**company, "resident_name": t.resident_name, "agent_name": agent_name,
                  "ticket_no": t.number or "", "issue": service.summary_of(t.description)}
        text = (fill(script, values) if script else None) or ""
        rated = any(CHAT_RATING in (e.note or "") for e in t.events)
        out.append(CallbackTask(t, due, _tries(t), text, script.id if script else None,
                                t.satisfaction if rated else None))
    return sorted(out, key=lambda c: (c.due_at is None, c.due_at or c.ticket.created_at))


def record(session: Session, service: AssistantService, *, number: str, outcome: Outcome, actor: str,
           now: datetime, updates: ResidentUpdates, satisfaction: int | None = None,
           note: str | None = None) -> Ticket:
    """Record a callback's outcome (in the ticket's audit trail), moving the ticket as POL-FEEDBACK-001 says.

    Raises:
        TransitionError: The ticket is not waiting for a callback.
        ValueError: A satisfied callback without a score 1–5.
    """
    ticket = repo.get_ticket(session, number=number)
    if ticket.status != TicketStatus.RESOLVED.value:
        raise TransitionError(f"ticket {number} is not waiting for a callback (it is {ticket.status})")
    said = f"：{note.strip()}" if note and note.strip() else ""
    if outcome is Outcome.SATISFIED:
        if satisfaction is None or not 1 <= satisfaction <= 5:
            raise ValueError("a satisfied callback needs a satisfaction score from 1 to 5")
        repo.transition(session, number=number, target=TicketStatus.CALLBACK_DONE, actor=actor, now=now,
                        note=f"回访完成，满意度{satisfaction}分{said}", satisfaction=satisfaction)
        return repo.transition(session, number=number, target=TicketStatus.CLOSED, actor=actor, now=now,
                               note="业主确认问题已解决，关闭工单")
    if outcome is Outcome.NOT_SOLVED:
        ticket = repo.transition(session, number=number, target=TicketStatus.REOPENED, actor=actor, now=now,
                                 note=f"回访：问题未解决，重新打开{said}")
        updates.ticket_moved(session, number=number, note=None, now=now)
        return ticket
    tries = _tries(ticket) + 1
    session.add(TicketEvent(ticket_id=ticket.id, actor=actor, from_status=ticket.status, to_status=ticket.status,
                            note=f"{UNREACHABLE}（第{tries}次）{said}", at=now))
    session.flush()
    if tries < attempts(service):
        return ticket
    repo.transition(session, number=number, target=TicketStatus.CALLBACK_DONE, actor=actor, now=now,
                    note=f"{UNREACHABLE}：{tries}次不同时段均未接通，已改发短信/APP问卷")
    return repo.transition(session, number=number, target=TicketStatus.CLOSED, actor=actor, now=now,
                           note=f"{UNREACHABLE}，按回访制度关闭；业主之后反馈未解决的重新打开原工单")


def rate_in_chat(session: Session, service: AssistantService, *, number: str, score: int, now: datetime) -> Ticket:
    """Record a score 1–5 the resident gave in the chat, like a callback's outcome.

    A resolved ticket scored at least ``ops.rating_satisfied_min`` is closed as a completed callback; a lower score
    is kept on the ticket with an audit event and the callback task stays for an agent. A ticket already called
    back keeps the agent's score and only notes the resident's.
    """
    ticket = repo.get_ticket(session, number=number)
    resolved = ticket.status == TicketStatus.RESOLVED.value
    if resolved and score >= service.turn_replies.satisfied_min:
        repo.transition(session, number=number, target=TicketStatus.CALLBACK_DONE, actor=RESIDENT, now=now,
                        note=f"回访完成，满意度{score}分：{CHAT_RATING}", satisfaction=score)
        return repo.transition(session, number=number, target=TicketStatus.CLOSED, actor=RESIDENT, now=now,
                               note="业主在线确认问题已解决，关闭工单")
    if resolved or ticket.satisfaction is None:
        ticket.satisfaction = score
    follow = "（不满意，不关单，待客服回访跟进）" if resolved else ""
    session.add(TicketEvent(ticket_id=ticket.id, actor=RESIDENT, from_status=ticket.status, to_status=ticket.status,
                            note=f"{CHAT_RATING}：满意度{score}分{follow}", at=now))
    session.flush()
    return ticket
