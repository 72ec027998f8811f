"""The courier: posts held resident updates when quiet hours end, and sends messages to residents' outside channels.

It runs inside the SLA monitor's pass, which one worker leads (the lease), so every message is posted once and
sent by one worker; its state is in the ``resident_message`` table, so a restarted server carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from assistant.channel import ChannelAdapter
from assistant.errors import ChannelError
from assistant.store import messages as store
from assistant.updates import deliver

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CourierResult:
    """What one pass did."""

    posted: int
    sent: int
    failed: int


class Courier:
    """Posts what is due, then sends what is posted and not yet sent."""

    def __init__(self, sessions: sessionmaker[Session], channels: Mapping[str, ChannelAdapter], *,
                 clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._channels = channels
        self._clock = clock

    def run_once(self) -> CourierResult:
        """Post the held messages whose quiet hours ended, then send every posted channel message not yet sent."""
        now = self._clock()
        with self._sessions.begin() as session:
            due = store.due(session, now=now)
            for message in due:
                deliver(session, message, now=now)
        with self._sessions() as session:
            outbox = [(m.id, m.channel or "", m.external_id or "", m.account, m.text) for m in store.outbox(session)]
        sent = failed = 0
        for message_id, channel, external_id, account, text in outbox:
            adapter = self._channels.get(channel)
            error: str | None = None
            try:
                if adapter is None:
                    raise ChannelError(f"channel {channel} is not enabled on this server")
                adapter.send_text(external_id, account, text)
            except ChannelError as exc:
                error = str(exc)
                log.warning("message %s to a %s user not sent: %s", message_id, channel, error)
            with self._sessions.begin() as session:
                store.mark_sent(session, message_id=message_id, sent=error is None, error=error, now=self._clock())
            sent += error is None
            failed += error is not None
        return CourierResult(len(due), sent, failed)
