"""Leases: leader election through the database, portable across SQLite and PostgreSQL.

Every worker asks for the lease on each pass; the one whose claim lands holds it until it stops renewing.
The claim is one conditional UPDATE (or the first INSERT), so two workers can never both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.store.tables import Lease


def acquire(session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``ttl``; False when another live holder has it."""
    claimed = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if getattr(claimed, "rowcount", 0):
        return True
    if session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        return True
    except IntegrityError:  # another worker inserted it first
        return False


def release(session: Session, *, name: str, holder: str, now: datetime) -> None:
    """Give the lease up at once (on shutdown) so a standby takes over on its next pass."""
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=now))


def holder(session: Session, *, name: str, now: datetime) -> str | None:
    """The live holder of ``name``, if any."""
    row = session.get(Lease, name)
    return row.holder if row is not None and row.expires_at >= now else None
