"""Quiz grading with the real model: the rubric, and agreement with the trainers' example grades."""

from itertools import combinations

import pytest

from assistant.quiz import BANNED_CAP, Grader, QuizAnswer, draw

pytestmark = pytest.mark.integration

RANK = {"good": 3, "mediocre": 2, "bad": 1, "deflecting": 0}


@pytest.fixture(scope="module")
def grader(real_kb, real_embedder):  # type: ignore[no-untyped-def]
    return Grader(real_kb, real_embedder)


def _right(scenario, reply: str, seconds: float = 60) -> QuizAnswer:  # type: ignore[no-untyped-def]
    e = scenario.expected
    return QuizAnswer(e.category.value, int(e.urgency), e.department, e.time_limit_minutes, reply, seconds)


def test_the_bank_covers_the_seed_typical_scenarios(real_kb) -> None:
    assert len(real_kb.scenarios) >= 20
    examples = [ex for s in real_kb.scenarios for ex in s.examples]
    assert len(examples) >= 40
    assert {ex.grade for ex in examples} == set(RANK)


def test_grader_agrees_with_the_trainers(real_kb, grader) -> None:
    """Within each scenario, a better-graded example reply must score higher (ties count as half)."""
    agree = total = 0.0
    scores: dict[str, list[float]] = {g: [] for g in RANK}
    for s in real_kb.scenarios:
        graded = [(ex.grade, grader.grade(s, _right(s, ex.text)).score) for ex in s.examples]
        for grade, score in graded:
            scores[grade].append(score)
        for (g1, s1), (g2, s2) in combinations(graded, 2):
            if RANK[g1] == RANK[g2]:
                continue
            total += 1
            better, worse = (s1, s2) if RANK[g1] > RANK[g2] else (s2, s1)
            agree += 1.0 if better > worse else 0.5 if better == worse else 0.0
    assert total >= 20
    agreement = agree / total
    assert agreement >= 0.85, f"pairwise agreement {agreement:.2f}"
    mean = {g: sum(v) / len(v) for g, v in scores.items() if v}
    assert mean["good"] > mean["mediocre"] > mean["deflecting"]
    assert max(scores["deflecting"]) <= BANNED_CAP


def test_structured_answers_are_exact_and_feedback_quotes_the_kb(real_kb, grader) -> None:
    s = next(x for x in real_kb.scenarios if int(x.expected.urgency) == 1)
    good = next(ex.text for ex in s.examples if ex.grade == "good") if any(
        ex.grade == "good" for ex in s.examples) else "您好"
    wrong = QuizAnswer("咨询建议", 4, "客服部", 2880, good, 60)
    g = grader.grade(s, wrong)
    assert g.parts["category"] == g.parts["urgency"] == g.parts["department"] == g.parts["time_limit"] == 0
    assert any("紧急程度应为「1级」" in f for f in g.feedback)
    assert any(f.startswith("参考 ") for f in g.feedback)


def test_slow_answers_lose_the_dispatch_points(real_kb, grader) -> None:
    s = real_kb.scenarios[0]
    text = s.examples[0].text if s.examples else "您好"
    assert grader.grade(s, _right(s, text, 60)).parts["dispatch_time"] == 10
    assert grader.grade(s, _right(s, text, 400)).parts["dispatch_time"] == 0


def test_draw_by_difficulty(real_kb) -> None:
    easy = draw(real_kb, count=2, difficulty="easy", seed=1)
    assert len(easy) == 2 and all(s.difficulty == "easy" for s in easy)
    with pytest.raises(ValueError, match="only"):
        draw(real_kb, count=999)


def _scenario(real_kb, scenario_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in real_kb.scenarios if s.id == scenario_id)


@pytest.mark.parametrize(("scenario_id", "reply", "rule", "clause"), [
    pytest.param("SCN-008", "您好，可以先开抽油烟机和窗户把味道抽一抽，再开灯看看灶台开关是不是没关好，我们30分钟内到场。",
                 "MND-GAS-SWITCH", "EP-GAS-001#1", id="gas-hood-and-lights"),
    pytest.param("SCN-023", "请立即拨打119，赶紧坐电梯下楼，或者打开门从楼道冲出去。用湿毛巾堵住门缝到窗口呼救也行。",
                 "MND-FIRE-LIFT", "EP-FIRE-001#1", id="fire-lift-and-corridor"),
    pytest.param("SCN-005", "不要慌，门能掰开就掰开，先让孩子爬出去，已通知电梯维保单位，30分钟内到场救援。",
                 "MND-LIFT-CLIMB", "EP-LIFT-001#1", id="lift-climb-out"),
    pytest.param("SCN-024", "您好，趁水还浅赶紧下去把车开出来，安保在入口设挡水板和沙袋，工程部开启排水泵，30分钟内到场。",
                 "MND-GARAGE-FLOOD", "EP-WATER-001#5", id="garage"),
])
def test_advising_a_must_not_do_action_caps_the_answer_below_40(real_kb, grader, scenario_id: str, reply: str,
                                                                  rule: str, clause: str) -> None:
    from assistant.quiz import UNSAFE_CAP

    g = grader.grade(_scenario(real_kb, scenario_id), _right(_scenario(real_kb, scenario_id), reply))
    assert g.score <= UNSAFE_CAP < 40
    assert any(v.startswith(f"{rule}:") for v in g.violations)
    assert g.feedback[0].startswith("危险建议：「") and clause in g.feedback[0]


@pytest.mark.parametrize(("scenario_id", "reply"), [
    pytest.param("SCN-008", "您好，千万别开抽油烟机也别开灯，不要开关电灯电器和抽油烟机，先关闭燃气表前阀门并开窗通风，然后立即离开"
                            "房间到室外，到外面再给燃气公司打电话。麻烦说下楼栋房号？工程和安保值班30分钟内到场。", id="gas"),
    pytest.param("SCN-023", "马上拨打119！千万不要乘坐电梯，楼道浓烟时不要开门外逃，用湿毛巾堵住门缝到窗口呼救，"
                            "跟您确认下是5栋702对吧，安保和消防站30分钟内到。", id="fire"),
])
def test_the_same_actions_forbidden_score_as_good(real_kb, grader, scenario_id: str, reply: str) -> None:
    g = grader.grade(_scenario(real_kb, scenario_id), _right(_scenario(real_kb, scenario_id), reply))
    assert g.score >= 80, g.feedback
    assert not g.violations


def test_a_wrong_time_promise_loses_the_time_credit_and_is_capped(real_kb, grader) -> None:
    from assistant.quiz import WRONG_FACT_CAP

    s = _scenario(real_kb, "SCN-004")
    reply = ("您别慌，请先关闭进户水管总阀，远离插座并关闭户内总电闸。跟您确认一下：8栋602厨房水管爆裂，对吗？"
             "我给您登记维修单，工程部24小时内上门。")
    g = grader.grade(s, _right(s, reply))
    assert g.score <= WRONG_FACT_CAP < 70
    assert g.parts["time_limit"] == 0
    assert not next(c for c in g.points if c.point == "工程部30分钟内到场").made
    assert any("24小时" in f and "承诺时限错误" in f for f in g.feedback)


def test_stating_the_opposite_of_the_fee_policy_is_capped(real_kb, grader) -> None:
    from assistant.quiz import WRONG_FACT_CAP

    s = _scenario(real_kb, "SCN-010")
    reply = ("您好，我理解您的疑问。跟您确认一下，您对滞纳金和公摊电费有异议对吗？宽限期内也照样收滞纳金，"
             "我帮您提交账单复核，复核期间争议金额也要先交上，48小时内给您答复。")
    g = grader.grade(s, _right(s, reply))
    assert g.score <= WRONG_FACT_CAP
    assert {v.split(":")[0] for v in g.violations} >= {"CON-FEE-GRACE", "CON-FEE-DISPUTE"}
    assert not next(c for c in g.points if c.point == "宽限期内缴清不收滞纳金").made
    assert any("POL-FEE-001#5" in f for f in g.feedback)


@pytest.mark.parametrize(("scenario_id", "reply"), [
    pytest.param("SCN-008", "不要开关电灯电器和抽油烟机 关闭燃气表前阀门并开窗通风 立即离开房间到室外 30分钟内到场",
                 id="points-pasted"),
    pytest.param("SCN-008", "煤气 阀门 开窗 室外 30分钟", id="keywords"),
    pytest.param("SCN-010", "宽限期内缴清不收滞纳金、帮您提交账单复核、复核期间争议金额不计滞纳金、48小时内给您答复",
                 id="points-with-commas"),
])
def test_a_list_of_points_is_not_a_reply(real_kb, grader, scenario_id: str, reply: str) -> None:
    from assistant.quiz import SALAD_CAP, is_list

    s = _scenario(real_kb, scenario_id)
    assert is_list(reply, list(s.expected.must_say))
    g = grader.grade(s, _right(s, reply))
    assert g.score <= SALAD_CAP < 60
    assert g.parts["elements"] == 0


def test_a_terse_reply_written_to_a_person_is_not_a_list(real_kb) -> None:
    from assistant.quiz import is_list

    s = _scenario(real_kb, "SCN-023")
    assert not is_list("别坐电梯，走不了就关门，用湿毛巾捂住口鼻堵门缝，马上打119！", list(s.expected.must_say))


@pytest.mark.parametrize(("scenario_id", "reply"), [
    pytest.param("SCN-001", "知道了，在弄了", id="in-progress"),
    pytest.param("SCN-004", "好的知道了，我们会安排的", id="will-arrange"),
    pytest.param("SCN-019", "知道了，养狗的事我们会说的", id="will-tell"),
])
def test_a_bare_acknowledgement_fails(real_kb, grader, scenario_id: str, reply: str) -> None:
    """知道了/我们会处理的 commits to nothing: capped like a deflection, whatever the structured answers."""
    from assistant.quiz import EMPTY_CAP, is_empty

    s = _scenario(real_kb, scenario_id)
    g = grader.grade(s, _right(s, reply))
    assert is_empty(reply, sum(c.made for c in g.points))
    assert g.score <= EMPTY_CAP
    assert g.parts["elements"] == 0


def test_a_short_reply_that_makes_a_point_is_not_empty(real_kb, grader) -> None:
    s = _scenario(real_kb, "SCN-005")
    g = grader.grade(s, _right(s, "别扒门，按警铃，30分钟内到场救援"))
    assert g.score > 30


@pytest.mark.parametrize(("scenario_id", "reply"), [
    pytest.param("SCN-001", "您好，您家这个月的物业费还没交哦，可以在APP上直接缴费", id="fee-to-a-power-cut"),
    pytest.param("SCN-006", "您好，9栋门口的绿化带下周补种，给您带来不便敬请谅解", id="greenery-to-a-falling-pot"),
    pytest.param("SCN-017", "您好，B2层的充电桩已经开放了，扫码就能用", id="charger-to-a-suggestion"),
])
def test_a_reply_about_something_else_is_capped(real_kb, grader, scenario_id: str, reply: str) -> None:
    from assistant.quiz import OFFTOPIC_CAP

    s = _scenario(real_kb, scenario_id)
    g = grader.grade(s, _right(s, reply))
    assert g.score <= OFFTOPIC_CAP
    assert g.feedback[0].startswith("答非所问：")


@pytest.mark.parametrize(("scenario_id", "reply"), [
    pytest.param("SCN-006", "您好，吓着了吧，我们让保安过去看看，您注意安全", id="staff-and-care"),
    pytest.param("SCN-005", "好的您别急，我已经打电话给电梯公司了，他们马上过来", id="lift-company"),
    pytest.param("SCN-016", "可以补的，带上身份证来物业办，要交点工本费", id="card-short"),
])
def test_a_thin_reply_about_the_case_is_not_off_topic(real_kb, grader, scenario_id: str, reply: str) -> None:
    s = _scenario(real_kb, scenario_id)
    g = grader.grade(s, _right(s, reply))
    assert not any(f.startswith("答非所问") for f in g.feedback)
    assert g.score >= 40


def test_tomorrow_is_a_wrong_promise_where_the_case_has_a_shorter_limit(real_kb, grader) -> None:
    """A noise complaint is level 3 (24 hours), but POL-RENO-001#5 puts staff on site within 30 minutes."""
    from assistant.quiz import WRONG_FACT_CAP

    s = _scenario(real_kb, "SCN-009")
    g = grader.grade(s, _right(s, "您好，1502晚上电钻的事记下了，明天一早让管家上门提醒他们"))
    assert g.score <= WRONG_FACT_CAP
    assert any("承诺时限错误" in f for f in g.feedback)


def test_a_falling_object_reply_that_keeps_the_resident_below_is_capped(real_kb, grader) -> None:
    from assistant.quiz import UNSAFE_CAP

    s = _scenario(real_kb, "SCN-006")
    g = grader.grade(s, _right(s, "您带孩子站那别动，看看是几楼扔下来的，安保人员30分钟内到场警戒"))
    assert g.score <= UNSAFE_CAP
    assert g.feedback[0].startswith("危险建议：「") and "EP-FALL-001#1" in g.feedback[0]


def test_every_dangerous_or_contradicting_calibration_reply_is_flagged_by_the_linter(real_kb, grader) -> None:
    """The linter's table for live use: the graded set's dangerous and contradicting replies (both splits)."""
    from assistant.replies import ReplyLinter
    from eval.datasets import QuizReply, load

    linter = ReplyLinter(real_kb.rules, clauses=real_kb.clause_index())
    want = {"dangerous": "unsafe", "contradiction": "contradiction"}
    missed = []
    for item in load("quiz_replies.jsonl", QuizReply):
        if item.label not in want:
            continue
        s = _scenario(real_kb, item.scenario)
        result = linter.run(item.reply, situations=("any",), case=grader.case(s))
        if not result.findings or result.findings[0].kind != want[item.label]:
            missed.append((item.id, item.reply))
    assert missed == []
