"""Users and API keys in the database (SQL for accounts lives here; tickets and turns in repository.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.tables import ApiKey, Resident, User


def user_by_name(session: Session, *, username: str) -> User | None:
    """An active user by login name."""
    return session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()


def user_by_id(session: Session, *, user_id: int) -> User | None:
    """An active user by id."""
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def add_user(session: Session, *, username: str, password_hash: str, role: str, display_name: str | None = None,
             resident_id: int | None = None) -> User:
    """Create a user."""
    user = User(username=username, password_hash=password_hash, role=role, display_name=display_name,
                resident_id=resident_id)
    session.add(user)
    session.flush()
    return user


def add_api_key(session: Session, *, name: str, key_hash: str, role: str) -> ApiKey:
    """Store a new API key (its hash)."""
    key = ApiKey(name=name, key_hash=key_hash, role=role)
    session.add(key)
    session.flush()
    return key


def api_key(session: Session, *, key_hash: str) -> ApiKey | None:
    """A key that has not been revoked."""
    return session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))).first()


def revoke_api_key(session: Session, *, name: str, now: datetime) -> int:
    """Revoke every key with this name; returns how many."""
    keys = session.scalars(select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))).all()
    for k in keys:
        k.revoked_at = now
    session.flush()
    return len(keys)


def ensure_demo(session: Session, *, password_hash: str, api_key_hash: str,
                communities: tuple[str, ...] = ()) -> None:
    """Create the demo accounts (one per role, two residents) and the demo API key, once.

    The two demo residents live in the first two ``communities`` (the KB's demo 小区), when there are two; a demo
    database made before communities existed gets them too.
    """
    homes = (communities[0], communities[1]) if len(communities) >= 2 else (None, None)
    if user_by_name(session, username="admin") is not None:
        for username, home in zip(("resident", "resident2"), homes, strict=True):
            user = user_by_name(session, username=username)
            row = session.get(Resident, user.resident_id) if user and user.resident_id else None
            if row is not None and row.community is None and home is not None:
                row.community = home
        session.flush()
        return
    r1 = Resident(name="王女士", phone="13912345678", address="3栋2单元501室", vulnerable=False, community=homes[0])
    r2 = Resident(name="孙奶奶", phone="13800004444", address="2栋1单元101室", vulnerable=True, community=homes[1])
    session.add_all([r1, r2])
    session.flush()
    for username, role, display, resident in [
        ("resident", "resident", "王女士（3栋2单元501室）", r1.id),
        ("resident2", "resident", "孙奶奶（2栋1单元101室，独居老人）", r2.id),
        ("agent", "agent", "客服 小李", None),
        ("trainer", "trainer", "培训主管 周老师", None),
        ("manager", "manager", "项目经理 陈经理", None),
        ("admin", "admin", "系统管理员", None),
    ]:
        add_user(session, username=username, password_hash=password_hash, role=role, display_name=display,
                 resident_id=resident)
    add_api_key(session, name="demo", key_hash=api_key_hash, role="agent")
