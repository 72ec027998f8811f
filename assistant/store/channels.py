"""Outside channels (WeChat Work today): who writes from there, which message ids were handled, read cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.store.tables import ChannelCursor, ChannelMessage, ChannelUser, Conversation, Resident


def first_time(session: Session, *, channel: str, message_id: str, now: datetime) -> bool:
    """Record a delivered message id; False when it was handled before (a replay or a provider's retry)."""
    try:
        with session.begin_nested():
            session.add(ChannelMessage(channel=channel, message_id=message_id, received_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def user(session: Session, *, channel: str, external_id: str, account: str | None, now: datetime) -> ChannelUser:
    """The channel user ``external_id``, created on first contact."""
    found = session.scalar(select(ChannelUser).where(ChannelUser.channel == channel,
                                                     ChannelUser.external_id == external_id))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            created = ChannelUser(channel=channel, external_id=external_id, account=account, created_at=now)
            session.add(created)
            session.flush()
            return created
    except IntegrityError:  # another worker created it a moment ago
        return session.scalars(select(ChannelUser).where(ChannelUser.channel == channel,
                                                         ChannelUser.external_id == external_id)).one()


def bind_by_phone(session: Session, *, who: ChannelUser, phone: str) -> Resident | None:
    """Bind a channel user to the resident account with this phone (their conversation follows); None if none."""
    resident = session.scalar(select(Resident).where(Resident.phone == phone).order_by(Resident.id))
    if resident is None:
        return None
    who.resident_id = resident.id
    if who.conversation_id:
        conversation = session.get(Conversation, who.conversation_id)
        if conversation is not None:
            conversation.resident_id = resident.id
    session.flush()
    return resident


def cursor(session: Session, *, channel: str, account: str) -> str | None:
    """Where reading this account's messages stopped."""
    row = session.get(ChannelCursor, (channel, account))
    return row.cursor if row else None


def set_cursor(session: Session, *, channel: str, account: str, value: str) -> None:
    """Remember where reading stopped."""
    row = session.get(ChannelCursor, (channel, account))
    if row is None:
        session.add(ChannelCursor(channel=channel, account=account, cursor=value))
    else:
        row.cursor = value
    session.flush()
