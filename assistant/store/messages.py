"""Messages to residents (ticket updates, agents' words): every SQL statement the updates and the courier need.

A message row is written in the same transaction as what caused it; it is posted into the conversation (a turn)
at once or, held through quiet hours, by the courier when due; a message to an outside channel is sent after
that and ``sent`` stays None until the channel answered, so a worker that died in between leaves it for the next
pass (at least once, never lost).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.store.tables import ChannelUser, Conversation, ResidentMessage, Turn


def channel_user(session: Session, *, conversation_id: str) -> ChannelUser | None:
    """The outside-channel user (a WeChat user) this conversation belongs to, if any."""
    return session.scalar(select(ChannelUser).where(ChannelUser.conversation_id == conversation_id)
                          .order_by(ChannelUser.id).limit(1))


def add(session: Session, *, conversation_id: str, ticket_id: int | None, kind: str, text: str, urgent: bool,
        now: datetime, deliver_at: datetime, turn_id: int | None = None) -> ResidentMessage:
    """Write a message for the resident, with their channel address if the conversation came from a channel."""
    who = channel_user(session, conversation_id=conversation_id)
    message = ResidentMessage(conversation_id=conversation_id, ticket_id=ticket_id, kind=kind, text=text,
                              urgent=urgent, created_at=now, deliver_at=deliver_at, turn_id=turn_id,
                              channel=who.channel if who else None, external_id=who.external_id if who else None,
                              account=who.account if who else None)
    session.add(message)
    session.flush()
    return message


def post(session: Session, *, message: ResidentMessage, speaker: str, now: datetime) -> Turn:
    """Post a message into its conversation as a turn of ``speaker`` (shown to the resident from now on)."""
    conversation = session.get(Conversation, message.conversation_id)
    turn = Turn(conversation_id=message.conversation_id, message="", answer=message.text, speaker=speaker,
                handoff=False, ticket_id=message.ticket_id, triage={"message": message.id, "kind": message.kind},
                created_at=now)
    session.add(turn)
    session.flush()
    message.turn_id = turn.id
    if conversation is not None:
        conversation.updated_at = now
    session.flush()
    return turn


def due(session: Session, *, now: datetime) -> list[ResidentMessage]:
    """Held messages whose time has come, oldest first."""
    return list(session.scalars(select(ResidentMessage).where(ResidentMessage.turn_id.is_(None),
                                                              ResidentMessage.deliver_at <= now)
                                .order_by(ResidentMessage.id)).all())


def held(session: Session, *, conversation_id: str) -> list[ResidentMessage]:
    """Messages of a conversation still waiting for the end of quiet hours."""
    return list(session.scalars(select(ResidentMessage).where(ResidentMessage.conversation_id == conversation_id,
                                                              ResidentMessage.turn_id.is_(None))
                                .order_by(ResidentMessage.id)).all())


def outbox(session: Session) -> list[ResidentMessage]:
    """Posted messages for an outside channel that were not sent yet (or whose sender died before the answer)."""
    return list(session.scalars(select(ResidentMessage).where(ResidentMessage.turn_id.is_not(None),
                                                              ResidentMessage.channel.is_not(None),
                                                              ResidentMessage.sent.is_(None))
                                .order_by(ResidentMessage.id)).all())


def mark_sent(session: Session, *, message_id: int, sent: bool, error: str | None, now: datetime) -> None:
    """Record the channel's answer."""
    session.execute(update(ResidentMessage).where(ResidentMessage.id == message_id)
                    .values(sent=sent, error=error, sent_at=now if sent else None))
