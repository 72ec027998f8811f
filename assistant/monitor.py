"""The SLA monitor: warns at a share of each deadline and records breaches; all state in the database."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from assistant.courier import Courier
from assistant.paging import Pager
from assistant.store import leases
from assistant.store import repository as repo
from kb.load import Rules

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one pass of the monitor did."""

    warnings: int
    breaches: int
    pages: int = 0
    posted: int = 0   # held resident updates posted (quiet hours over)
    sent: int = 0     # messages sent to residents' outside channels


LEASE = "sla-monitor"


class SlaMonitor:
    """Scans open deadlines; each warning and breach is recorded exactly once, even across restarts and workers.

    With several workers on one database, every worker starts a monitor but only the holder of the
    ``sla-monitor`` lease sweeps (``tick``); if it dies, a standby takes over when the lease runs out.
    """

    def __init__(self, sessions: sessionmaker[Session], rules: Rules, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), interval: float = 30.0,
                 pager: Pager | None = None, courier: Courier | None = None) -> None:
        self._sessions = sessions
        self._pager = pager
        self._courier = courier
        self._wake = threading.Event()
        self._rules = rules
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_ttl = timedelta(seconds=max(3 * interval, 10.0))

    def is_leader(self) -> bool:
        """True while this monitor holds the lease."""
        with self._sessions() as session:
            return leases.holder(session, name=LEASE, now=self._clock()) == self.holder

    def tick(self) -> SweepResult | None:
        """Claim or renew the lease, then sweep; None when another worker leads."""
        with self._sessions.begin() as session:
            if not leases.acquire(session, name=LEASE, holder=self.holder, now=self._clock(), ttl=self.lease_ttl):
                return None
        return self.run_once()

    def run_once(self) -> SweepResult:
        """One pass: warn on clocks past the warning share, breach those past due."""
        now = self._clock()
        share = self._rules.urgency.sla_warning_share
        warnings = breaches = 0
        with self._sessions.begin() as session:
            warn, breach = repo.sla_due(session, now=now, share=share)
            for row in warn:
                if repo.mark_deadline(session, row_id=row.id, field="warned_at", now=now):
                    warnings += 1
                    t = row.ticket
                    left = int((row.due_at - now).total_seconds() // 60)
                    repo.add_notification(session, ticket_id=t.id, kind="sla_warning", audience=t.department,
                                          message=f"工单{t.number}「{row.label}」已用时{int(share * 100)}%，"
                                                  f"剩余{left}分钟，请加速处理", now=now)
                    repo.add_notification(session, ticket_id=t.id, kind="resident_notice", audience="业主",
                                          message=f"您的工单{t.number}正在加紧处理中，如有延迟我们会说明原因并给出新的完成时间。",
                                          now=now)
            for row in breach:
                if repo.mark_deadline(session, row_id=row.id, field="breached_at", now=now):
                    breaches += 1
                    t = row.ticket
                    repo.add_notification(session, ticket_id=t.id, kind="sla_breach", audience="客服主管",
                                          message=f"工单{t.number}「{row.label}」已超时，升级客服主管督办", now=now)
                    repo.add_notification(session, ticket_id=t.id, kind="resident_notice", audience="业主",
                                          message=f"非常抱歉，您的工单{t.number}未能在承诺时限内完成"
                                                  f"（原因：现场处理尚未完成，已升级主管督办），我们会尽快给出新的完成时间。",
                                          now=now)
        # pages after the sweep, so a deadline breached in this pass pages the person on call in the same pass
        paged = self._pager.run_once().written if self._pager is not None else 0
        delivered = self._courier.run_once() if self._courier is not None else None
        return SweepResult(warnings, breaches, paged, delivered.posted if delivered else 0,
                           delivered.sent if delivered else 0)

    def poke(self) -> None:
        """Run the next pass now (a level-1 ticket was just filed: its page must not wait for the interval; a
        message for a resident's channel was written: it goes out now, not at the next interval)."""
        self._wake.set()

    def start(self) -> None:
        """Run passes in a background thread until ``stop()``."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sla-monitor", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the monitor must keep running; the next pass retries
                log.exception("SLA monitor pass failed")
            self._wake.wait(self._interval)
            self._wake.clear()

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
            try:
                with self._sessions.begin() as session:
                    leases.release(session, name=LEASE, holder=self.holder, now=self._clock())
            except Exception:  # noqa: BLE001 - the lease then simply expires
                log.warning("could not release the SLA monitor lease")
