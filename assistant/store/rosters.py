"""Saved versions of the on-call roster: every SQL statement the roster needs.

Versions are append-only (the audit of who changed the roster when); the newest is in force. A save names the
version it was edited from, and the primary key on ``version`` makes two admins saving from the same version
land once: the second gets a conflict instead of silently overwriting the first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.store.tables import OnCallRoster


def newest(session: Session) -> OnCallRoster | None:
    """The roster version in force, or None while nobody saved one."""
    return session.scalar(select(OnCallRoster).order_by(OnCallRoster.version.desc()).limit(1))


def add(session: Session, *, version: int, roster: dict[str, Any], author: str, now: datetime) -> bool:
    """Write version ``version``; False when another save took that number first."""
    try:
        with session.begin_nested():
            session.add(OnCallRoster(version=version, roster=roster, author=author, created_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True
