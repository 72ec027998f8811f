"""Suggested replies: chosen by the case (kb/ conditions), filled from the case and the signed-in agent."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from assistant.intake import summary_of
from assistant.scripts import ScriptContext, fits
from assistant.suggest import CaseFacts, Style, agent_name_of, suggest
from assistant.triage import Triager
from kb.schema import Category, TriggerKind, Urgency

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def _facts(real_kb, text: str, category: Category, urgency: Urgency, department: str,  # type: ignore[no-untyped-def]
           kinds: frozenset[TriggerKind] = frozenset(), escalated: bool = False, **more) -> CaseFacts:
    complaint = category is Category.COMPLAINT or TriggerKind.SERVICE_COMPLAINT in kinds
    return CaseFacts(category, urgency, department, "王女士", "3栋2单元501室", "13912345678",
                     summary_of(real_kb.rules, Triager(real_kb.rules), text), "GD20261127-000042",
                     NOW + timedelta(hours=24 if urgency > 1 else 0.5),
                     NOW + timedelta(hours=12) if complaint else None, kinds, 720 if complaint else None,
                     escalated=escalated,
                     agent_name="小李", hazard_text=text, now=NOW, **more)


TAP = ("厨房水龙头漏水", Category.ENGINEERING, Urgency.LEVEL_3, "工程部")
RUDE = ("你们门口那个保安态度很差，还骂人", Category.COMPLAINT, Urgency.LEVEL_3, "客服主管",
        frozenset({TriggerKind.SERVICE_COMPLAINT}), True)
GAS = ("楼道里有股很浓的煤气味", Category.ENGINEERING, Urgency.LEVEL_1, "工程部", frozenset({TriggerKind.EMERGENCY}),
       True)
STAFF_APOLOGY = "工作人员给您带来的不愉快体验"


def test_a_safety_instruction_already_given_is_given_again_in_its_short_form(real_kb) -> None:
    """The chat gives the full gas instruction when the report comes in; the agent's options still name gas."""
    gas = _facts(real_kb, *GAS)
    full = next(s for s in real_kb.scripts if s.id == "SCR-EMERG-002")
    said = full.text.replace("{address}", gas.address)
    for s in suggest(real_kb, replace(gas, said=(said,), agent_spoke=False)):
        assert "SCR-EMERG-002" not in s.scripts and "SCR-EMERG-010" not in s.scripts
        assert "燃气表前阀门" in s.text


@pytest.mark.parametrize(("case", "present", "absent"), [
    pytest.param(TAP, [], [STAFF_APOLOGY, "安保人员", "升级", "管理层", "值班负责人", "着急我非常理解"],
                 id="dripping-tap"),
    pytest.param(RUDE, [STAFF_APOLOGY], ["安保人员正在赶往", "燃气"], id="staff-rudeness"),
    pytest.param(GAS, ["燃气表前的总阀"], [STAFF_APOLOGY], id="gas-smell-level-1"),
])
def test_scripts_are_chosen_by_the_case(real_kb, case, present: list[str], absent: list[str]) -> None:
    out = suggest(real_kb, _facts(real_kb, *case))
    joined = "\n".join(s.text for s in out)
    assert len(out) == 3 and len({s.style for s in out}) == 3
    for phrase in present:
        assert phrase in joined, phrase
    for phrase in absent:
        assert phrase not in joined, phrase
    for s in out:
        assert s.lint.ok, (s.style, [f.rule for f in s.lint.findings])
        assert s.basis and all(ref in real_kb.clause_index() for ref in s.basis)
        assert "{" not in s.text and "我是。" not in s.text


def test_the_safety_script_leads_the_short_reply_for_level_1(real_kb) -> None:
    out = {s.style: s for s in suggest(real_kb, _facts(real_kb, *GAS))}
    # the short reply opens with the one-sentence gas instruction, the warm one carries the full one
    assert out[Style.SHORT].scripts[0] == "SCR-EMERG-102"
    assert out[Style.SHORT].text.startswith("请不要开关任何电灯电器")
    assert "SCR-EMERG-002" in out[Style.WARM].scripts


@pytest.mark.parametrize(("display", "name"), [
    pytest.param("客服 小李", "小李", id="title-and-name"),
    pytest.param("小王", "小王", id="name-only"),
    pytest.param("", "", id="none"),
])
def test_the_signed_in_agent_is_named(real_kb, display: str, name: str) -> None:
    assert agent_name_of(display) == name
    out = suggest(real_kb, replace(_facts(real_kb, *TAP), agent_name=agent_name_of(display)))
    joined = "".join(s.text for s in out)
    if name:
        assert f"客服{name}" in joined
    else:  # no name: the scripts that need one are not offered, and nothing reads "我是。"
        assert "我是" not in joined and out


@pytest.mark.parametrize("markup", [
    pytest.param("<img src=x onerror=alert(1)>", id="img-onerror"),
    pytest.param("<script>alert(1)</script>", id="script"),
])
def test_markup_in_the_message_never_reaches_a_suggestion(real_kb, markup: str) -> None:
    text = f"{markup}厨房水龙头漏水"
    facts = replace(_facts(real_kb, text, *TAP[1:]), resident_name=f"王女士{markup}")
    for s in suggest(real_kb, facts):
        assert "<" not in s.text and ">" not in s.text and "onerror" not in s.text and "alert" not in s.text


@pytest.mark.parametrize("case", [pytest.param(TAP, id="repair"), pytest.param(RUDE, id="complaint"),
                                  pytest.param(GAS, id="level-1")])
def test_no_greeting_mid_conversation(real_kb, case) -> None:
    first = suggest(real_kb, _facts(real_kb, *case))
    later = suggest(real_kb, _facts(real_kb, *case, agent_spoke=True))
    assert any("您好" in s.text for s in first)
    assert later and not any("您好" in s.text or "SCR-GREET" in s.script_id for s in later)


def test_a_commitment_already_given_is_not_repeated(real_kb) -> None:
    facts = _facts(real_kb, *TAP)
    short = next(s for s in suggest(real_kb, facts) if s.style is Style.SHORT)
    later = suggest(real_kb, replace(facts, said=(short.text,), agent_spoke=True))
    assert later and all(sid not in s.scripts for s in later for sid in short.scripts)


def test_a_script_whose_slot_the_case_cannot_fill_is_skipped(real_kb) -> None:
    out = suggest(real_kb, replace(_facts(real_kb, *TAP), phone="", resident_name=""))
    assert out
    for s in out:
        assert "电话，" not in s.text and "，地址" not in s.text and "您好，，" not in s.text


@pytest.mark.parametrize(("script_id", "ctx", "expected"), [
    pytest.param("SCR-APOL-004", ScriptContext(), False, id="staff-apology-needs-a-service-complaint"),
    pytest.param("SCR-APOL-004", ScriptContext(kinds=frozenset({TriggerKind.SERVICE_COMPLAINT})), True,
                 id="staff-apology-for-a-service-complaint"),
    pytest.param("SCR-SOOTH-003", ScriptContext(), False, id="safety-soothing-needs-safety"),
    pytest.param("SCR-HANDOFF-002", ScriptContext(complaint=True), False, id="escalation-line-needs-escalation"),
    pytest.param("SCR-HANDOFF-002", ScriptContext(complaint=True, escalated=True), True, id="escalated"),
    pytest.param("SCR-EMERG-002", ScriptContext(safety=True, hazard_text="水管爆了"), False, id="gas-script-not-for-a-pipe"),
    pytest.param("SCR-EMERG-002", ScriptContext(safety=True, hazard_text="煤气味"), True, id="gas-script-for-gas"),
    pytest.param("SCR-GREET-006", ScriptContext(ticket=True, speaker="agent", first_contact=False), False,
                 id="no-greeting-mid-conversation"),
    pytest.param("SCR-GUIDE-003", ScriptContext(hazard_text="我们是老楼，六层没电梯"), False,
                 id="power-cut-advice-not-for-a-building-without-a-lift"),
    pytest.param("SCR-GUIDE-001", ScriptContext(hazard_text="卫生间顶上一直在滴水"), True, id="leak-advice-for-a-leak"),
    pytest.param("SCR-NEXT-007", ScriptContext(complaint=True), False, id="repeat-steps-need-a-repeat"),
])
def test_when_conditions(real_kb, script_id: str, ctx: ScriptContext, expected: bool) -> None:
    script = next(s for s in real_kb.scripts if s.id == script_id)
    assert fits(script, ctx) is expected


SUGGESTION = ("小区健身区器材太少，建议增设几套健身器材", Category.ENQUIRY, Urgency.LEVEL_4, "客服部")
FOLLOW_UP_LEAK = ("卫生间顶上一直在滴水，估计是楼上防水的问题", Category.ENGINEERING, Urgency.LEVEL_2, "工程部")


@pytest.mark.parametrize("case", [
    pytest.param(TAP, id="repair"), pytest.param(RUDE, id="complaint"), pytest.param(GAS, id="level-1"),
    pytest.param(SUGGESTION, id="suggestion"), pytest.param(FOLLOW_UP_LEAK, id="leak"),
])
@pytest.mark.parametrize("follow_up", [False, True], ids=["first-contact", "follow-up"])
def test_three_options_in_three_styles_share_at_most_one_script(real_kb, case, follow_up: bool) -> None:
    facts = _facts(real_kb, *case)
    if follow_up:  # the commitment the assistant gave when it filed the ticket, then an agent's message
        first = next(s for s in suggest(real_kb, facts) if s.style is Style.SHORT)
        facts = replace(facts, said=(first.text,), agent_spoke=True)
    out = suggest(real_kb, facts)
    assert [s.style for s in out] == [Style.SHORT, Style.WARM, Style.FULL]
    assert len({s.text for s in out}) == 3
    # two options share at most one script: a safety instruction, or a one-line apology the situation requires
    for a, b in ((0, 1), (0, 2), (1, 2)):
        shared = set(out[a].scripts) & set(out[b].scripts)
        assert len(shared) <= 1 and all(sid.startswith(("SCR-EMERG-", "SCR-GUIDE-", "SCR-APOL-")) for sid in shared)
    assert all(s.lint.ok for s in out)


def test_a_complaint_commits_to_the_supervisors_call_and_the_rectification_plan(real_kb) -> None:
    """POL-COMPLAINT-001#1: call the resident within 12 hours, a rectification plan within 3 working days."""
    facts = _facts(real_kb, *RUDE)
    short = next(s for s in suggest(real_kb, facts) if s.style is Style.SHORT)
    assert "客服主管会在12小时内联系您核实情况" in short.text and "3个工作日内给出整改方案" in short.text


def test_a_suggestion_is_thanked_and_put_to_the_owners_committee(real_kb) -> None:
    out = suggest(real_kb, _facts(real_kb, *SUGGESTION))
    joined = "".join(s.text for s in out)
    assert "谢谢您的建议" in joined and "月度业主委员会讨论" in joined and "感谢您专门来问" not in joined
