"""Everyday chat turns, as residents really type them: each reads as what it is, before any retrieval."""

from datetime import UTC, datetime

import pytest

from assistant.conversation import AgentState, ConversationState, TicketRequest, TicketView
from assistant.scripts import render
from assistant.turn import TurnKind
from kb.schema import ScriptScenario

pytestmark = pytest.mark.integration


def _run(service, turns):  # type: ignore[no-untyped-def]
    state, filed = ConversationState(), []

    def submit(req: TicketRequest) -> str:
        filed.append(req)
        return f"GD20261202-{len(filed):06d}"

    reply = None
    for text in turns:
        reply = service.handle(text, state=state, submit=submit)
        state = reply.state
    return reply, filed


@pytest.mark.parametrize(("text", "kind"), [
    pytest.param("在吗", TurnKind.GREETING, id="zai-ma"),
    pytest.param("你好", TurnKind.GREETING, id="ni-hao"),
    pytest.param("在吗[微笑]", TurnKind.GREETING, id="wechat-emoji"),
    pytest.param("您好，請問有人在嗎", TurnKind.GREETING, id="traditional"),
    pytest.param("hello", TurnKind.GREETING, id="english"),
    pytest.param("在马", TurnKind.GREETING, id="typo"),
    pytest.param("好的谢谢", TurnKind.THANKS, id="hao-de-xie-xie"),
    pytest.param("嗯嗯 明白了", TurnKind.THANKS, id="en-en"),
    pytest.param("唔該", TurnKind.THANKS, id="cantonese"),
    pytest.param("👍", TurnKind.THANKS, id="thumbs-up"),
    pytest.param("行，那先这样", TurnKind.THANKS, id="that-is-all"),
    pytest.param("今天天气怎么样", TurnKind.CHITCHAT, id="weather"),
    pytest.param("讲个笑话", TurnKind.CHITCHAT, id="joke"),
    pytest.param("我要找人工", TurnKind.PERSON, id="person"),
    pytest.param("你是机器人吧，叫个人来", TurnKind.PERSON, id="robot"),
    pytest.param("轉人工", TurnKind.PERSON, id="person-traditional"),
    pytest.param("你好，我家厨房水龙头一直在滴水", TurnKind.REPORT, id="greeting-then-report"),
    pytest.param("你好在吗，电梯里困人了！", TurnKind.EMERGENCY, id="greeting-then-emergency"),
    pytest.param("谢谢，对了楼道灯也坏了", TurnKind.REPORT, id="thanks-then-report"),
    pytest.param("物业费多少钱一平", TurnKind.QUESTION, id="question"),
])
def test_a_turn_reads_as_what_it_is(service, text, kind) -> None:  # type: ignore[no-untyped-def]
    reply, filed = _run(service, [text])
    assert reply.kind is kind
    if kind.small_talk:
        assert not filed and reply.agent is AgentState.NONE and not reply.escalated
        assert "知识库" not in reply.text and "转接" not in reply.text


def test_a_greeting_gets_a_warm_short_reply_not_a_hand_off(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["在吗"])
    assert reply.text.startswith("您好") and not reply.handoff and not reply.answered


def test_chit_chat_is_declined_with_what_the_assistant_can_do(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["今天天气怎么样"])
    assert "报修" in reply.text and not reply.handoff and not reply.citations


@pytest.mark.parametrize(("setup", "text", "field", "value"), [
    pytest.param(["卫生间天花板一直在滴水，楼上好像漏水了"], "3栋2单元501", "address", "3栋2单元501室", id="address"),
    pytest.param(["客厅灯不亮了"], "王芳 13800138000", "phone", "13800138000", id="name-phone"),
    pytest.param(["客厅灯不亮了", "5栋1单元501"], "我叫孙梅", "resident_name", "孙梅", id="name"),
    pytest.param(["客厅灯不亮了", "5栋1单元501"], "不是5楼，是6楼", "address", "5栋1单元601室", id="floor-fix"),
    pytest.param(["客厅灯不亮了", "12栋3单元2101"], "sorry 是2201 不是2101", "address", "12栋3单元2201室",
                 id="room-fix-english"),
])
def test_replies_to_the_assistants_question_fill_the_ticket(service, setup, text, field, value) -> None:  # type: ignore[no-untyped-def]
    reply, filed = _run(service, [*setup, text])
    draft = reply.state.case.draft if reply.state.case else filed[-1].draft
    assert getattr(draft, field) == value
    assert "知识库里没有" not in reply.text


def test_a_name_outside_a_case_is_noted_not_answered_with_a_faq(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["我叫孙梅"])
    assert reply.kind is TurnKind.SLOT and "孙梅" in reply.text and not reply.citations
    assert reply.state.known["resident_name"] == "孙梅"


def test_status_names_the_ticket_filed_in_this_conversation(service) -> None:  # type: ignore[no-untyped-def]
    reply, filed = _run(service, ["客厅灯不亮了，3栋2单元501，王芳13800138000", "我刚才报的那个工单现在到哪一步了"])
    assert filed and reply.kind is TurnKind.STATUS
    assert "GD20261202-000001" in reply.text


def test_status_from_the_store_lists_each_open_ticket_and_asks_which(service) -> None:  # type: ignore[no-untyped-def]
    now = service.clock()
    views = [TicketView("GD1", "工程", "dispatched", "工程部", "李师傅", now.replace(year=now.year + 1), "客厅灯不亮"),
             TicketView("GD2", "保洁", "submitted", "环境部", None, datetime(2000, 1, 1, tzinfo=UTC), "楼道垃圾")]
    reply = service.handle("我的工单呢", tickets=lambda: views)
    assert "2个" in reply.text and "GD1" in reply.text and "李师傅" in reply.text and "已超过承诺时间" in reply.text


def test_asking_for_a_person_sets_the_agent_flag_not_a_doubled_phrase(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["我要找人工"])
    assert reply.agent in (AgentState.WAITING, AgentState.CALLBACK)
    assert "您反映的您反映的" not in reply.text and "尽快前" not in reply.text


def test_a_vulnerable_resident_is_escalated_without_a_live_hand_off_on_every_turn(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["我八十多了一个人住，楼道灯坏了"])
    assert reply.escalated and reply.agent is AgentState.NONE


def test_report_replies_summarise_instead_of_echoing_the_resident(service) -> None:  # type: ignore[no-untyped-def]
    text = "我家楼上天天晚上12点还在装修,电钻响,投诉好几次了都没人管影响日常生活"
    reply, filed = _run(service, [text, "3栋2单元501", "王芳 13800138000"])
    assert text not in reply.text and "电钻响" not in reply.text and "没人管" not in reply.text
    assert "设备型号" not in reply.text


def test_no_internal_ids_in_the_residents_text(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["物业费多少钱一平"])
    assert reply.citations and "FAQ-" not in reply.text and "POL-" not in reply.text and "依据" not in reply.text


def test_every_chat_script_renders_complete_chinese(real_kb) -> None:  # type: ignore[no-untyped-def]
    values = {"ticket_no": "GD20261202-000001", "issue": "客厅灯不亮问题", "status": "已派单", "holder": "工程部",
              "due_text": "还剩约3小时", "count": "2", "hours": "08:00-22:00", "callback_time": "次日 08:30",
              "what": "楼栋单元号3栋2单元501室", "category": "工程", "level_name": "三级", "level_label": "一般维修",
              "department": "工程部", "sla_text": "24小时内处理", "score": "5"}
    for script in (s for s in real_kb.scripts if s.scenario is ScriptScenario.CHAT):
        text = render(script, values)
        assert "{" not in text and "在尽快前" not in text and "您反映的您反映的" not in text, script.id
        for a, b in zip(text, text[1:], strict=False):
            assert not (a == b == "的"), script.id


def test_a_drip_through_the_ceiling_is_level_2_not_the_burst_pipe_emergency(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["卫生间天花板一直在滴水，楼上好像漏水了"])
    assert int(reply.decision.urgency) == 2 and "【紧急】" not in reply.text  # FAQ-OPS-088: a slow drip is level 2


def test_a_correction_after_filing_amends_the_ticket(service) -> None:  # type: ignore[no-untyped-def]
    state, amended = ConversationState(), []
    reply = service.handle("客厅灯不亮了，3栋2单元501，王芳13800138000", state=state, submit=lambda r: "GD1")
    reply = service.handle("电话打错了，是13900001111", state=reply.state, submit=lambda r: "GD2",
                           amend=lambda number, fields: amended.append((number, fields)))
    assert reply.kind is TurnKind.CORRECTION and amended == [("GD1", {"phone": "13900001111"})]
    assert "13900001111" in reply.text


def test_status_while_the_report_is_unfinished_says_what_is_missing(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["客厅灯不亮了", "我报的那个修到哪了"])
    assert reply.kind is TurnKind.STATUS and "还差" in reply.text


def test_a_question_about_where_ticket_numbers_are_is_not_a_status_query(service) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, ["工单编号在哪里看"])
    assert reply.kind is TurnKind.QUESTION and reply.answered


def test_what_the_resident_writes_beats_the_accounts_profile(service) -> None:  # type: ignore[no-untyped-def]
    from assistant.types import ResidentProfile

    filed: list[TicketRequest] = []
    profile = ResidentProfile("王女士", "13912345678", "3栋2单元501室", False)
    service.handle("厨房水龙头一直滴水，7栋1单元702，赵敏13955556666", profile=profile,
                   submit=lambda r: filed.append(r) or "GD1")
    assert filed and filed[0].draft.address == "7栋1单元702室" and filed[0].draft.phone == "13955556666"
    assert filed[0].draft.resident_name == "赵敏"


@pytest.mark.parametrize(("text", "before", "after"), [
    ("sorry wrong room, it's 1502 not 1501", {"address": "8栋1单元1501室"}, {"address": "8栋1单元1502室"}),
    ("单元号错了，二单元", {"address": "4栋3单元902室"}, {"address": "4栋2单元902室"}),
    ("房号是1803，刚手滑打成1308了", {"address": "15栋1单元1308室"}, {"address": "15栋1单元1803室"}),
    ("搞错了搞错了 我家是502 302是我妈家", {"address": "5栋1单元302室"}, {"address": "5栋1单元502室"}),
    ("不对不对我刚才说错了是一零零三", {"address": "10栋2单元1002室"}, {"address": "10栋2单元1003室"}),
    ("联系人写我吧，我是他爱人刘女士", {"resident_name": "王强"}, {"resident_name": "刘女士"}),
    ("名字打错了 钱方 方向的方", {"resident_name": "钱芳"}, {"resident_name": "钱方"}),
    ("名字写错了，是王蕾，草字头那个", {"resident_name": "王磊"}, {"resident_name": "王蕾"}),
    ("打错了，905是我朋友家，我家是906", {"address": "10栋2单元905室"}, {"address": "10栋2单元906室"}),
    ("唔好意思，係1203唔係1023", {"address": "B座1023室"}, {"address": "B座1203室"}),
])
def test_corrections_replace_only_what_they_name(real_kb, text, before, after) -> None:  # type: ignore[no-untyped-def]
    from assistant.tickets import TicketDraft
    from assistant.turn import TurnClassifier

    assert TurnClassifier(real_kb.rules.turns).corrected(text, TicketDraft(**before)) == after


RESOLVED = ConversationState(rating_ticket="GD20261202-000007")  # the resolution update asked for a score


@pytest.mark.parametrize(("text", "score"), [
    pytest.param("5", 5, id="digit"),
    pytest.param("5分", 5, id="fen"),
    pytest.param("5分！谢谢", 5, id="fen-thanks"),
    pytest.param("打5分", 5, id="da"),
    pytest.param("给你们打五星", 5, id="five-stars-words"),
    pytest.param("五星好评", 5, id="five-star-praise"),
    pytest.param("非常满意，辛苦师傅了", 5, id="very-satisfied-thanks"),
    pytest.param("满意", 4, id="satisfied"),
    pytest.param("4分吧", 4, id="four-ba"),
    pytest.param("一般般", 3, id="so-so"),
    pytest.param("３分", 3, id="full-width-digit"),
    pytest.param("不太满意", 2, id="not-quite"),
    pytest.param("2分", 2, id="two"),
    pytest.param("太差了", 1, id="terrible"),
    pytest.param("1星", 1, id="one-star"),
])
def test_a_score_after_the_resolution_update_is_a_rating(service, text: str, score: int) -> None:  # type: ignore[no-untyped-def]
    rated: list[tuple[str, int]] = []
    reply = service.handle(text, state=RESOLVED, rate=lambda number, s: rated.append((number, s)))
    assert reply.kind is TurnKind.RATING and rated == [("GD20261202-000007", score)]
    assert "GD20261202-000007" in reply.text and f"{score}分" in reply.text and "{" not in reply.text
    assert ("感谢" in reply.text) is (score >= 4) and ("不关闭" in reply.text) is (score < 4)
    assert reply.state.rating_ticket is None  # rated once


@pytest.mark.parametrize(("text", "kind"), [
    pytest.param("还是漏水，根本没修好", TurnKind.COMPLAINT, id="still-leaking"),
    pytest.param("5栋楼道的灯坏了两盏", TurnKind.REPORT, id="building-5"),
    pytest.param("6分", None, id="out-of-range"),
    pytest.param("12", None, id="twelve"),
    pytest.param("谢谢", TurnKind.THANKS, id="thanks-only"),
    pytest.param("5楼燃气泄漏了", TurnKind.EMERGENCY, id="emergency-first"),
])
def test_what_is_not_a_score_is_read_as_usual(service, text: str,  # type: ignore[no-untyped-def]
                                              kind: TurnKind | None) -> None:
    rated: list[tuple[str, int]] = []
    reply = service.handle(text, state=RESOLVED, rate=lambda number, s: rated.append((number, s)))
    assert reply.kind is not TurnKind.RATING and rated == []
    assert kind is None or reply.kind is kind


def test_a_score_is_not_read_without_a_resolution_update(service) -> None:  # type: ignore[no-untyped-def]
    rated: list[tuple[str, int]] = []
    reply = service.handle("5分", state=ConversationState(), rate=lambda number, s: rated.append((number, s)))
    assert reply.kind is not TurnKind.RATING and rated == []


# After a ticket is filed, the resident says when to come: the ticket's visit time, not a question about the rules.
VISIT_TIMES = [
    "明天下午两点以后都在家",
    "anytime after 6pm works, I'm at work during the day",
    "聽日下晝兩點之後我喺屋企",
    "工作日白天家里没人，周六上午可以吗",
    "星期三朝早十點前後啦，嚟之前打個電話俾我",
]


@pytest.mark.parametrize("text", VISIT_TIMES, ids=[t[:8] for t in VISIT_TIMES])
def test_a_visit_time_after_filing_goes_on_the_ticket(service, text: str) -> None:  # type: ignore[no-untyped-def]
    amended: list[tuple[str, dict[str, str]]] = []
    reply = service.handle("厨房水管接头渗水，10栋2单元902，范丽 13766554433", submit=lambda r: "GD1")
    reply = service.handle(text, state=reply.state, amend=lambda number, fields: amended.append((number, fields)))
    assert reply.kind is TurnKind.SLOT and not reply.handoff and reply.agent is AgentState.NONE
    assert amended == [("GD1", {"preferred_time": text})]
    assert "GD1" in reply.text and text not in reply.text  # the resident's words stay on the ticket, not echoed


@pytest.mark.parametrize(("setup", "text", "kind"), [
    pytest.param(["我要找人工"], "好的 那我等你们电话", TurnKind.THANKS, id="thanks-while-waiting"),
    pytest.param(["请问包裹可以放管理室吗"], "了解 感謝～", TurnKind.THANKS, id="thanks-after-not-found"),
    pytest.param([], "侬帮我转只人工好伐", TurnKind.PERSON, id="shanghainese-person"),
    pytest.param([], "唔該晒", TurnKind.THANKS, id="cantonese-thanks"),
    pytest.param([], "要得 谢了哈", TurnKind.THANKS, id="sichuanese-thanks"),
    pytest.param([], "早晨！管理處有人喺度嗎", TurnKind.GREETING, id="cantonese-greeting"),
    pytest.param(["电梯按钮按了没反应，11栋1单元1203，许伟 13511223366"], "催一下！！", TurnKind.STATUS, id="hurry-up"),
    pytest.param(["卫生间漏水漏到楼下了，16栋1单元1502，邱女士 18723456789"], "啥子时候来嘛，等了一下午了",
                 TurnKind.STATUS, id="sichuanese-status"),
])
def test_everyday_turns_in_dialect_and_after_a_hand_off(service, setup, text, kind) -> None:  # type: ignore[no-untyped-def]
    reply, _ = _run(service, [*setup, text])
    assert reply.kind is kind, reply.text
    if kind is not TurnKind.PERSON:
        assert not reply.handoff  # a thank-you while waiting is not a new hand-off; `agent` keeps the state
    else:
        assert reply.handoff and reply.agent in (AgentState.WAITING, AgentState.CALLBACK)
    if setup == ["我要找人工"]:
        assert reply.agent in (AgentState.WAITING, AgentState.CALLBACK)
