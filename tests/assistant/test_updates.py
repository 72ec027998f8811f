"""Resident updates on a real database and a controllable clock: quiet hours hold non-urgent updates until they
end, level 1 never waits, and the courier posts held updates and sends every message to the resident's outside
channel exactly once (a stand-in adapter here; the real WeChat Work API's stand-in is in tests/api/test_wecom.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from assistant.courier import Courier
from assistant.errors import ChannelError
from assistant.sla import deadlines_for
from assistant.store import repository as repo
from assistant.store.tables import ChannelUser, Conversation, ResidentMessage, Turn
from assistant.tickets import TicketStatus
from assistant.updates import QuietHours, ResidentUpdates, quiet_hours
from kb.schema import Category, Urgency
from tests.conftest import ManualClock

ZONE = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours.parse("22:00-08:00", ZONE)


def local(hour: int, minute: int = 0, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@pytest.mark.parametrize(("now", "release"), [
    pytest.param(local(21, 59), local(21, 59), id="21:59-before"),
    pytest.param(local(22, 0), local(8, 0, day=28), id="22:00-starts"),
    pytest.param(local(23, 30), local(8, 0, day=28), id="23:30-until-tomorrow-8"),
    pytest.param(local(0, 0, day=28), local(8, 0, day=28), id="midnight"),
    pytest.param(local(3, 0), local(8, 0), id="03:00-until-8-today"),
    pytest.param(local(7, 59), local(8, 0), id="07:59"),
    pytest.param(local(8, 0), local(8, 0), id="08:00-over"),
    pytest.param(local(12, 0), local(12, 0), id="noon"),
])
def test_quiet_hours_hold_what_comes_up_inside_them_until_they_end(now: datetime, release: datetime) -> None:
    assert NIGHT.release(now) == release
    assert NIGHT.holds(now) is (release != now)


def test_a_window_within_one_day_and_the_settings_that_choose_the_window(real_kb) -> None:
    lunch = QuietHours.parse("12:00-14:00", ZONE)
    assert (lunch.release(local(13, 0)), lunch.release(local(14, 0)), lunch.release(local(11, 0))) == (
        local(14, 0), local(14, 0), local(11, 0))
    assert quiet_hours(real_kb.values) == NIGHT                      # kb/content/values: chat.quiet_hours
    assert quiet_hours(real_kb.values, "off") is None                # the setting switches them off
    assert quiet_hours(real_kb.values, "21:00-07:30") == QuietHours.parse("21:00-07:30", ZONE)


@pytest.mark.parametrize("window", ["22点-8点", "22:00-22:00", "24:00-08:00", "22:00~08:00", ""])
def test_a_malformed_window_is_refused(window: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours.parse(window, ZONE)


# ---------------------------------------------------------------- on the database


class Outside:
    """A channel adapter that records what it was asked to send (and can fail on demand)."""

    name = "wecom"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None, str]] = []
        self.fail = False

    def send_text(self, external_id: str, account: str | None, text: str) -> None:
        if self.fail:
            raise ChannelError("kf/send_msg: errcode 95001")
        self.sent.append((external_id, account, text))


def _ticket(sessions, rules, now: datetime, *, urgency: Urgency = Urgency.LEVEL_3,  # type: ignore[no-untyped-def]
            wechat: str | None = None) -> tuple[str, str]:
    with sessions.begin() as s:
        conversation = repo.get_conversation(s, conversation_id=None, channel="wecom" if wechat else "chat")
        if wechat:
            s.add(ChannelUser(channel="wecom", external_id=wechat, account="wkKF01", conversation_id=conversation.id,
                              created_at=now))
        t = repo.create_ticket(
            s, actor="assistant", now=now, conversation_id=conversation.id,
            deadlines=deadlines_for(rules, urgency=urgency, category=Category.ENGINEERING, kinds=(), created_at=now),
            resident_name="王女士", phone="13912345678", address="3栋2单元501室", description="卫生间水龙头一直滴水",
            category=Category.ENGINEERING.value, urgency=int(urgency), department="工程部", route="水电")
        return t.number or "", conversation.id


def _move(sessions, updates: ResidentUpdates, number: str, to: TicketStatus,  # type: ignore[no-untyped-def]
          now: datetime, **extra: object) -> ResidentMessage | None:
    with sessions.begin() as s:
        repo.transition(s, number=number, target=to, actor="客服小李", now=now, **extra)  # type: ignore[arg-type]
        return updates.ticket_moved(s, number=number, note=extra.get("note"), now=now)  # type: ignore[arg-type]


def _heard(sessions, conversation: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(local HH:MM, text) of the updates posted into the conversation."""
    with sessions() as s:
        turns = s.scalars(select(Turn).where(Turn.conversation_id == conversation, Turn.speaker == "update")
                          .order_by(Turn.id)).all()
        return [(f"{t.created_at.astimezone(ZONE):%H:%M}", t.answer) for t in turns]


@pytest.mark.integration
def test_a_night_dispatch_waits_for_the_morning_and_a_level1_update_never_waits(sessions, service) -> None:
    updates = ResidentUpdates(service, quiet=NIGHT)
    clock = ManualClock(local(23, 10))
    routine, chat = _ticket(sessions, service.rules, clock())
    clock.advance(minutes=5)
    held = _move(sessions, updates, routine, TicketStatus.DISPATCHED, clock(), assignee="张师傅")
    assert held is not None and held.turn_id is None and held.deliver_at == local(8, 0, day=28)
    assert _heard(sessions, chat) == []

    urgent, urgent_chat = _ticket(sessions, service.rules, clock(), urgency=Urgency.LEVEL_1)
    _move(sessions, updates, urgent, TicketStatus.DISPATCHED, clock(), assignee="李工")
    assert [(at, urgent in text and "李工" in text) for at, text in _heard(sessions, urgent_chat)] == [("23:15", True)]

    courier = Courier(sessions, {}, clock=clock)
    assert courier.run_once().posted == 0
    clock.now = local(7, 59, day=28)
    assert courier.run_once().posted == 0
    clock.advance(minutes=1)
    assert courier.run_once().posted == 1
    heard = _heard(sessions, chat)
    assert len(heard) == 1 and heard[0][0] == "08:00" and routine in heard[0][1] and "张师傅" in heard[0][1]
    assert courier.run_once().posted == 0  # posted once
    clock.advance(hours=2)  # 10:00: in the day an update is posted at once
    _move(sessions, updates, routine, TicketStatus.IN_PROGRESS, clock())
    assert [at for at, _ in _heard(sessions, chat)] == ["08:00", "10:00"]


@pytest.mark.integration
def test_a_wechat_residents_updates_and_agent_messages_go_to_wechat_once(sessions, service) -> None:
    updates = ResidentUpdates(service, quiet=NIGHT)
    clock = ManualClock(local(21, 50))
    wechat = Outside()
    number, chat = _ticket(sessions, service.rules, clock(), wechat="wm-user-R")
    _move(sessions, updates, number, TicketStatus.DISPATCHED, clock(), assignee="张师傅")
    clock.advance(minutes=20)  # 22:10: quiet hours
    _move(sessions, updates, number, TicketStatus.IN_PROGRESS, clock())
    with sessions.begin() as s:
        conversation = s.get(Conversation, chat)
        _, queued = updates.agent_said(s, conversation=conversation, agent="客服小李", text="师傅已经在路上了",
                                       now=clock())
    assert queued is not None and queued.channel == "wecom"
    courier = Courier(sessions, {"wecom": wechat}, clock=clock)
    result = courier.run_once()
    assert (result.posted, result.sent, result.failed) == (0, 2, 0)  # the 21:50 dispatch and the agent, not 22:10
    assert [(who, kf) for who, kf, _ in wechat.sent] == [("wm-user-R", "wkKF01")] * 2
    assert "张师傅" in wechat.sent[0][2] and wechat.sent[1][2] == "师傅已经在路上了"
    assert Courier(sessions, {"wecom": wechat}, clock=clock).run_once().sent == 0  # a restarted courier: no resend
    clock.now = local(8, 0, day=28)
    result = courier.run_once()
    assert (result.posted, result.sent) == (1, 1) and "已到场" in wechat.sent[2][2]

    wechat.fail = True  # WeChat Work refuses: recorded on the message, the web chat still has it
    _move(sessions, updates, number, TicketStatus.RESOLVED, clock(), note="更换了阀芯", photos=["a" * 64])
    assert courier.run_once().failed == 1
    with sessions() as s:
        last = s.scalars(select(ResidentMessage).order_by(ResidentMessage.id.desc())).first()
        assert last is not None and last.sent is False and "95001" in (last.error or "") and last.turn_id
    assert len(wechat.sent) == 3


@pytest.mark.integration
def test_a_channel_this_server_does_not_run_is_a_recorded_failure(sessions, service) -> None:
    clock = ManualClock(local(10, 0))
    number, _ = _ticket(sessions, service.rules, clock(), wechat="wm-user-S")
    _move(sessions, ResidentUpdates(service, quiet=None), number, TicketStatus.DISPATCHED, clock(), assignee="张师傅")
    assert Courier(sessions, {}, clock=clock).run_once().failed == 1
    with sessions() as s:
        message = s.scalars(select(ResidentMessage)).one()
        assert message.sent is False and "not enabled" in (message.error or "")
