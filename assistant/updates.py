"""Resident updates: what a resident is told without asking — their ticket moved (SOP-TRACK-001#6: dispatched
with who and by when, at work, resolved with the note, reopened), or an agent wrote to them — posted into their
conversation and, when they write from an outside channel (WeChat Work), sent there too by the courier.

Non-urgent updates respect quiet hours (``chat.quiet_hours`` in the kb values, e.g. 22:00-08:00 local time): one
that comes up inside them is held (a ``resident_message`` row without a turn) and the courier posts and sends it
when they end. A level-1 ticket's updates never wait, nor do an agent's words (the resident is in the chat).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy.orm import Session

from assistant.conversation import TicketView
from assistant.service import AssistantService
from assistant.sla import local_zone
from assistant.store import messages as store
from assistant.store import repository as repo
from assistant.store.tables import Conversation, ResidentMessage, Ticket, Turn
from kb.schema import SampleValue

_WINDOW = re.compile(r"^(?P<start>([01]\d|2[0-3]):[0-5]\d)-(?P<end>([01]\d|2[0-3]):[0-5]\d)$")
AGENT = "agent"


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window (local time, may cross midnight) in which non-urgent updates wait."""

    start: time
    end: time
    zone: tzinfo

    @classmethod
    def parse(cls, window: str, zone: tzinfo) -> QuietHours:
        """``"22:00-08:00"`` → QuietHours.

        Raises:
            ValueError: The window is not ``HH:MM-HH:MM`` or starts where it ends.
        """
        m = _WINDOW.match(window.strip())
        if m is None:
            raise ValueError(f"quiet hours {window!r} must be HH:MM-HH:MM local time, e.g. 22:00-08:00")
        start, end = time.fromisoformat(m["start"]), time.fromisoformat(m["end"])
        if start == end:
            raise ValueError(f"quiet hours {window!r} start and end at the same time; use 'off' for none")
        return cls(start, end, zone)

    def holds(self, now: datetime) -> bool:
        """Whether ``now`` falls inside the window."""
        t = now.astimezone(self.zone).time()
        return self.start <= t < self.end if self.start < self.end else (t >= self.start or t < self.end)

    def release(self, now: datetime) -> datetime:
        """When a message that comes up at ``now`` may go out: ``now`` outside the window, else the window's end."""
        if not self.holds(now):
            return now
        local = now.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        return end.astimezone(UTC)


def quiet_hours(values: Mapping[str, SampleValue], override: str | None = None) -> QuietHours | None:
    """The quiet hours in force: ``override`` (a setting: a window, or ``off``), else ``chat.quiet_hours``.

    Raises:
        ValueError: A malformed window (the kb value or the setting).
    """
    window = override if override is not None else (str(values["chat.quiet_hours"].value)
                                                    if "chat.quiet_hours" in values else None)
    if window is None or window.strip().lower() == "off":
        return None
    return QuietHours.parse(window, local_zone(values))


def ticket_view(service: AssistantService, t: Ticket) -> TicketView:
    """A ticket as the resident hears about it: status, who holds it, the live deadline, the problem in our words."""
    due = next((d.due_at for d in t.deadlines if d.met_at is None and d.key.startswith("level")),
               next((d.due_at for d in t.deadlines if d.met_at is None), None))
    return TicketView(t.number or "", t.category, t.status, t.department, t.assignee, due,
                      service.summary_of(t.description))


def deliver(session: Session, message: ResidentMessage, *, now: datetime) -> Turn:
    """Post a message into the resident's conversation. A resolution update also opens the chat rating: the
    resident's next message may be a score 1–5 for that ticket."""
    turn = store.post(session, message=message, speaker=AGENT if message.kind == AGENT else "update", now=now)
    if message.kind == "resolved" and message.ticket_id is not None:
        ticket = session.get(Ticket, message.ticket_id)
        conversation = session.get(Conversation, message.conversation_id)
        if ticket is not None and conversation is not None:
            conversation.state = {**(conversation.state or {}), "rating_ticket": ticket.number}
            session.flush()
    return turn


class ResidentUpdates:
    """Writes what residents are told: held through quiet hours when not urgent, posted at once otherwise."""

    def __init__(self, service: AssistantService, *, quiet: QuietHours | None) -> None:
        self._service = service
        self.quiet = quiet

    def ticket_moved(self, session: Session, *, number: str, note: str | None,
                     now: datetime) -> ResidentMessage | None:
        """Tell the resident, in the conversation the ticket came from, that it moved. None when there is nothing
        to tell or nowhere to tell it (a ticket an agent filed from the desk).

        The update is posted at once for a level-1 ticket or outside quiet hours; otherwise it is held and its
        ``deliver_at`` is the end of quiet hours (``turn_id`` stays None until the courier posts it).
        """
        ticket = repo.get_ticket(session, number=number)
        if ticket.conversation_id is None:
            return None
        text = self._service.turn_replies.update(ticket_view(self._service, ticket), note, now)
        if text is None:
            return None
        urgent = ticket.urgency == 1
        at = now if urgent or self.quiet is None else self.quiet.release(now)
        message = store.add(session, conversation_id=ticket.conversation_id, ticket_id=ticket.id, kind=ticket.status,
                            text=text, urgent=urgent, now=now, deliver_at=at)
        if at <= now:
            deliver(session, message, now=now)
        return message

    def agent_said(self, session: Session, *, conversation: Conversation, agent: str, text: str,
                   now: datetime) -> tuple[Turn, ResidentMessage | None]:
        """An agent's message into the conversation (never held); also queued for the resident's channel, if any."""
        turn = repo.add_agent_message(session, conversation=conversation, agent=agent, text=text, now=now)
        message = None
        if store.channel_user(session, conversation_id=conversation.id) is not None:
            message = store.add(session, conversation_id=conversation.id, ticket_id=None, kind=AGENT, text=text,
                                urgent=True, now=now, deliver_at=now, turn_id=turn.id)
        return turn, message
