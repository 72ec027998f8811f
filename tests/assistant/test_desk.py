"""Whole conversations through the real assistant, stored in a real database."""

import pytest
from sqlalchemy import func, select

from assistant.desk import handle_turn
from assistant.store import repository as repo
from assistant.store.tables import Ticket, Turn

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(sessions, service, clock, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(service, "clock", clock)

    def say(text: str, conversation_id: str | None = None, resident_id: int | None = None):  # type: ignore[no-untyped-def]
        with sessions.begin() as s:
            reply, turn = handle_turn(s, service, text=text, conversation_id=conversation_id,
                                      resident_id=resident_id)
            return reply, turn.conversation_id

    return say


def test_burst_pipe_is_an_emergency_with_guidance_escalation_and_ticket(desk, sessions) -> None:
    reply, conv = desk("救命！3栋2单元501厨房水管爆了，水一直往外喷")
    assert reply.emergency and reply.handoff
    assert reply.text.startswith("请您先关闭进户水管总阀")  # the burst-pipe emergency script comes first
    assert reply.missing == ("resident_name", "phone")
    reply, _ = desk("王先生 13812345678", conv)
    assert reply.ticket_number
    with sessions() as s:
        t = repo.get_ticket(s, number=reply.ticket_number)
        assert (t.urgency, t.category, t.department, t.escalated) == (1, "工程", "工程部", True)
        assert t.address == "3栋2单元501室"
        assert {d.key: d.minutes for d in t.deadlines}["level1"] == 30
        audiences = {n.audience for n in repo.notifications(s, ticket_id=t.id)}
        assert "管理层" in audiences


DIALOGUES = [
    pytest.param(["楼道灯坏了", "我是3栋2单元的，502", "王女士，13912345678"],
                 {"resident_name": "王女士", "phone": "13912345678", "address": "3栋2单元502室",
                  "category": "工程", "urgency": 3, "department": "维修组"}, id="lamp-piecemeal"),
    pytest.param(["卫生间马桶堵了用不了", "多久能修好？", "5号楼1203 李阿姨 电话13600001111"],
                 {"resident_name": "李阿姨", "phone": "13600001111", "address": "5栋1203室",
                  "category": "工程", "urgency": 2, "department": "工程部"}, id="question-in-between"),
    pytest.param(["保洁阿姨态度太差了，我要投诉", "我叫张伟", "12幢3单元301", "13700002222"],
                 {"resident_name": "张伟", "phone": "13700002222", "address": "12栋3单元301室",
                  "category": "投诉", "urgency": 3, "department": "客服主管"}, id="service-complaint"),
    pytest.param(["我姓刘，B座1801，电话13500003333，门禁刷不开进不了门"],
                 {"resident_name": "刘先生/女士", "phone": "13500003333", "address": "B座1801室",
                  "category": "安保", "urgency": 2, "department": "安保部"}, id="all-in-one"),  # seed: access is 安保
]


@pytest.mark.parametrize(("turns", "expected"), DIALOGUES)
def test_dialogue_ends_in_a_complete_ticket(desk, sessions, turns, expected) -> None:
    conv = None
    replies = []
    for text in turns:
        reply, conv = desk(text, conv)
        replies.append(reply)
    assert all(r.ticket_number is None for r in replies[:-1])
    number = replies[-1].ticket_number
    assert number
    assert number in replies[-1].text
    with sessions() as s:
        t = repo.get_ticket(s, number=number)
        got = {k: getattr(t, k) for k in expected}
        assert got == expected
        assert s.scalar(select(func.count(Turn.id))) == len(turns)


def test_missing_fields_are_asked_one_at_a_time(desk, real_kb) -> None:
    questions = {f.name: f.question for f in real_kb.rules.fields.fields}
    reply, conv = desk("卫生间水龙头一直滴水")
    assert reply.missing == ("resident_name", "phone", "address")
    assert questions["resident_name"] in reply.text and questions["phone"] not in reply.text
    reply, conv = desk("我叫赵磊", conv)
    assert reply.missing == ("phone", "address")
    assert questions["phone"] in reply.text


def test_sla_follow_up_answers_from_the_case(desk) -> None:
    _, conv = desk("停电了，家里一点电都没有")
    reply, _ = desk("多久能修好", conv)
    assert "2小时内解决" in reply.text
    assert reply.citations and reply.citations[0].ref.startswith("POL-URGENCY-001#")


def test_repeat_complaint_from_history_goes_to_supervisor(desk, sessions) -> None:
    first, conv = desk("卫生间水龙头一直滴水，3栋2单元501，王女士13912345678")
    assert first.ticket_number and not first.decision.escalate
    second, _ = desk("水龙头又在滴水了，3栋2单元501，王女士13912345678")
    assert second.decision.supervisor and second.decision.escalate
    assert first.ticket_number in second.related
    with sessions() as s:
        t = repo.get_ticket(s, number=second.ticket_number)
        assert t.related == [first.ticket_number]
        assert "客服主管" in t.escalation["notify"]


def test_vulnerable_resident_is_upgraded_with_a_butler(desk, sessions) -> None:
    with sessions.begin() as s:
        rid = repo.add_resident(s, name="孙奶奶", phone="13800004444", address="2栋1单元101室", vulnerable=True).id
    reply, _ = desk("卧室的灯坏了", resident_id=rid)
    assert reply.decision.butler_follow_up
    assert int(reply.decision.urgency) == 2
    assert reply.ticket_number  # name, phone and address came from the profile
    assert "管家" in reply.text


def test_nothing_is_stored_when_a_turn_fails(sessions, service, monkeypatch) -> None:
    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "save_turn", boom)
    with pytest.raises(RuntimeError), sessions.begin() as s:
        handle_turn(s, service, text="卫生间水龙头滴水，3栋2单元501，王女士13912345678")
    with sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 0


def test_a_ticket_from_the_agents_form_is_triaged_escalated_and_stored(sessions, service, clock) -> None:  # type: ignore[no-untyped-def]
    from assistant.desk import file_ticket
    from assistant.errors import MissingFieldError
    from assistant.tickets import TicketDraft

    with sessions.begin() as s:
        number = file_ticket(s, service, draft=TicketDraft("周敏", "13877776666", "6栋1单元302室", "楼道里燃气味特别大"),
                             actor="客服 小李", now=clock()).number
    with sessions() as s:
        t = repo.get_ticket(s, number=number or "")
        assert (t.urgency, t.escalated, t.channel, t.resident_name) == (1, True, "desk", "周敏")
        assert [(e.actor, e.to_status) for e in t.events] == [("客服 小李", "submitted")]
        keys = {d.key for d in t.deadlines}
        assert "level1" in keys and "ack_online" not in keys  # filed at the desk: no online acknowledgement clock
        audiences = {n.audience for n in repo.notifications(s, ticket_id=t.id)}
        assert "管理层" in audiences  # management hears of every level 1, as for a chat ticket
    with sessions.begin() as s, pytest.raises(MissingFieldError, match="phone"):
        file_ticket(s, service, draft=TicketDraft("周敏", None, "6栋1单元302室", "客厅灯不亮"), actor="客服 小李",
                    now=clock())
