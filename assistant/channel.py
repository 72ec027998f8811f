"""Channels: residents writing from outside the web chat (WeChat Work today; a 公众号 or DingTalk later).

A channel adapter turns a provider's callback into ``Inbound`` messages and sends ``Reply`` texts back; this
module does the rest, the same for every channel — a replayed message is answered once, each outside user has
their own conversation, and a user who gives the phone of a resident account is bound to that resident (their
tickets and status queries follow). The assistant itself never knows which channel a message came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from assistant.desk import handle_turn
from assistant.service import AssistantService, Reply
from assistant.store import channels as store
from assistant.tickets import parse_phone


@dataclass(frozen=True, slots=True)
class Inbound:
    """One text message a resident sent through a channel."""

    channel: str
    message_id: str
    external_id: str
    account: str | None
    text: str


class ChannelAdapter(Protocol):
    """What a channel must do besides parsing its callback: send a text to one of its users."""

    name: str

    def send_text(self, external_id: str, account: str | None, text: str) -> None:
        """Deliver ``text`` to the user.

        Raises:
            ChannelError: The channel did not take it (the message names no secret).
        """


def receive(session: Session, service: AssistantService, message: Inbound, *, now: datetime) -> Reply | None:
    """Run one channel message through the assistant in the user's own conversation; None for a replay.

    Everything is written in ``session``'s transaction (the message id too), so a failure loses nothing and
    the provider's retry is handled afresh.
    """
    if not store.first_time(session, channel=message.channel, message_id=message.message_id, now=now):
        return None
    who = store.user(session, channel=message.channel, external_id=message.external_id, account=message.account,
                     now=now)
    phone = parse_phone(message.text)
    if who.resident_id is None and phone:
        store.bind_by_phone(session, who=who, phone=phone)
    reply, turn = handle_turn(session, service, text=message.text, conversation_id=who.conversation_id,
                              resident_id=who.resident_id, channel=message.channel, actor=message.channel)
    who.conversation_id = turn.conversation_id
    session.flush()
    return reply
