"""Paging: a level-1 ticket (or one whose deadline was breached, or passed its warning share — the SLA warning)
pages the department's person on duty at once;
if nobody acknowledges within ``ack_minutes``, the next person on the roster and the duty manager are paged, and
again, until someone acknowledges from the console. The roster is the one in force (``assistant/roster.py``: the
admin's last saved version, else kb/rules/oncall.yaml), read afresh on every pass.

All state is in the ``page`` table: the pager runs inside the SLA monitor's pass, which one worker leads (the
lease), so several workers page once, and a restarted server carries on where the escalation stood.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.orm import Session, sessionmaker

from assistant.notify import Notifier, NotifyError, PageMessage
from assistant.roster import in_force
from assistant.store import pages as store
from assistant.store.tables import Page, Ticket
from kb.schema import OnCall, OnCallPerson

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PagingResult:
    """What one paging pass did."""

    written: int
    delivered: int
    failed: int


def _reason(ticket: Ticket) -> str:
    """Why a ticket pages: ``level1``, a deadline ``breach``, or a ``warning`` (a running deadline past its share)."""
    if ticket.urgency == 1:
        return "level1"
    return "breach" if any(d.breached_at is not None for d in ticket.deadlines) else "warning"


class Pager:
    """Decides who to page next for every ticket that needs someone on call, writes the pages, sends them."""

    def __init__(self, sessions: sessionmaker[Session], oncall: OnCall, notifiers: Mapping[str, Notifier], *,
                 zone: tzinfo, clock: Callable[[], datetime]) -> None:
        """``oncall`` is the seed roster (kb/rules/oncall.yaml), used until an admin saves one."""
        self._sessions = sessions
        self._seed = oncall
        self._notifiers = notifiers
        self._zone = zone
        self._clock = clock

    def run_once(self) -> PagingResult:
        """Write the pages due now, then send every page not yet sent."""
        now = self._clock()
        written = 0
        with self._sessions.begin() as session:
            roster = in_force(session, self._seed).roster
            for ticket, pages in store.to_page(session):
                attempt, people = self.next_round(roster, ticket.department, pages, now)
                reason = _reason(ticket)
                for person in people:
                    page = store.add(session, ticket=ticket, attempt=attempt, person=person.name, phone=person.phone,
                                     channel=person.channel.value, address=person.wecom_user, reason=reason,
                                     message=self._text(roster, ticket, attempt, reason), now=now)
                    written += page is not None
        delivered = failed = 0
        with self._sessions() as session:
            outbox = [(p.channel, self._message(p)) for p in store.pending(session)]
        for channel, message in outbox:
            notifier = self._notifiers.get(channel)
            error: str | None = None
            try:
                if notifier is None:
                    raise NotifyError(f"no notifier for channel {channel}")
                notifier.send(message)
            except NotifyError as exc:
                error = str(exc)
                log.warning("page %s to %s not delivered: %s", message.page_id, message.person, error)
            with self._sessions.begin() as session:
                store.mark_sent(session, page_id=message.page_id, delivered=error is None, error=error)
            delivered += error is None
            failed += error is not None
        return PagingResult(written, delivered, failed)

    def next_round(self, roster: OnCall, department: str, pages: list[Page],
                   now: datetime) -> tuple[int, list[OnCallPerson]]:
        """The attempt number and the people to page now (none while the last round may still be acknowledged).

        Round 1 pages the first person on duty; each later round the next person on the roster (on-duty people
        first, then the backups, round and round) together with the duty manager.
        """
        people_of = roster.departments.get(department, [])
        local = now.astimezone(self._zone).time()
        order = [p for p in people_of if p.on_duty(local)] + [p for p in people_of if not p.on_duty(local)]
        manager = roster.duty_manager
        if pages:
            last = max(p.attempt for p in pages)
            sent = max(p.created_at for p in pages if p.attempt == last)
            if now - sent < timedelta(minutes=roster.ack_minutes):
                return last, []
            attempt = last + 1
        else:
            attempt = 1
        people: list[OnCallPerson] = [order[(attempt - 1) % len(order)]] if order else []
        if manager is not None and (attempt > 1 or not people) and manager not in people:
            people.append(manager)
        return attempt, people

    @staticmethod
    def _text(roster: OnCall, ticket: Ticket, attempt: int, reason: str) -> str:
        what = {"level1": "一级（人身安全）工单", "breach": "超时工单"}.get(reason, "即将超时工单")
        again = "" if attempt == 1 else f"（第{attempt}轮，前一轮{roster.ack_minutes}分钟内无人确认）"
        return (f"【{what}】{ticket.number} {ticket.category}·{ticket.department}，{ticket.address}："
                f"{ticket.description[:60]}。请{roster.ack_minutes}分钟内在客服工作台确认{again}")

    @staticmethod
    def _message(page: Page) -> PageMessage:
        number = page.ticket.number if page.ticket is not None else str(page.ticket_id)
        return PageMessage(page.id, number or "", page.person, page.phone, page.address, page.message)
