"""What a reply advises: dangerous actions in many wordings are flagged, their prohibitions are not; promised times
and policy claims are read with their numbers and polarity (kb/rules/advice.yaml, real KB)."""

import pytest

from assistant.advice import AdviceChecker, AdviceKind, CaseAdvice, TimeLimit
from assistant.replies import ReplyLinter


@pytest.fixture(scope="module")
def linter(real_kb):  # type: ignore[no-untyped-def]
    return ReplyLinter(real_kb.rules, clauses=real_kb.clause_index())


@pytest.fixture(scope="module")
def checker(real_kb):  # type: ignore[no-untyped-def]
    return AdviceChecker(real_kb.rules.advice)


def _unsafe(linter: ReplyLinter, text: str, context: str = "") -> set[str]:
    result = linter.run(text, situations=("any",), case=CaseAdvice(context=context))
    return {f.rule for f in result.findings if f.kind == AdviceKind.UNSAFE.value}


@pytest.mark.parametrize(("text", "item"), [
    pytest.param("请立即拨打119，赶紧坐电梯下楼，或者打开门从楼道冲出去", "MND-FIRE-LIFT", id="issue-fire-lift"),
    pytest.param("请立即拨打119，赶紧坐电梯下楼，或者打开门从楼道冲出去", "MND-FIRE-HOT-DOOR", id="issue-fire-door"),
    pytest.param("着火了别慌，坐电梯快", "MND-FIRE-LIFT", id="calm-then-lift"),
    pytest.param("起火了乘电梯离开，到一楼等", "MND-FIRE-LIFT", id="ride"),
    pytest.param("电梯应该还能用，有烟就赶紧下来", "MND-FIRE-LIFT", id="lift-still-works"),
    pytest.param("fire in the corridor, take the elevator down", "MND-FIRE-LIFT", id="english"),
    pytest.param("著火了，趕緊搭電梯下樓", "MND-FIRE-LIFT", id="traditional"),
    pytest.param("有煙，ｔａｋｅ　ｔｈｅ　ｌｉｆｔ", "MND-FIRE-LIFT", id="full-width"),
    pytest.param("不要开窗，着火了而是坐电梯", "MND-FIRE-LIFT", id="negation-ends-at-er-shi"),
    pytest.param("着火了赶紧做电梯下来 快", "MND-FIRE-LIFT", id="ime-slip-zuo"),
    pytest.param("有烟就别等了做电梯到一楼在说", "MND-FIRE-LIFT", id="dont-wait-then-lift"),
    pytest.param("煤气味 别开窗 开灯看看", "MND-GAS-SWITCH", id="space-ends-the-clause"),
    pytest.param("煤气味的话打开抽油烟机通风", "MND-GAS-SWITCH", id="hood"),
    pytest.param("煤气漏了，开灯看看灶台关没关", "MND-GAS-SWITCH", id="lights"),
    pytest.param("燃气味重，把排气扇打开就行", "MND-GAS-SWITCH", id="ba-fan"),
    pytest.param("煤气泄漏不要开窗而是开灯", "MND-GAS-SWITCH", id="gas-er-shi"),
    pytest.param("煤气味很重，先打电话问问燃气公司", "MND-GAS-PHONE", id="phone-inside"),
    pytest.param("煤气味，点个火试试灶还能不能用", "MND-GAS-FLAME", id="flame-question-form"),
    pytest.param("被困电梯的话您试着把门扒开，让孩子先爬出来", "MND-LIFT-CLIMB", id="lift-pry"),
    pytest.param("车库倒灌了，趁水浅赶紧下去把车开出来", "MND-GARAGE-FLOOD", id="garage"),
    pytest.param("插座冒火花了，接盆水泼上去", "MND-WATER-ON-ELEC", id="water-on-sparks"),
    pytest.param("阿姨八十多了，您慢慢踩个凳子换一下灯泡", "MND-ELDER-STOOL", id="elder-stool"),
    pytest.param("跳闸推不上去就找个东西把开关顶住", "MND-ELEC-FORCE-BREAKER", id="breaker"),
    pytest.param("楼上漏水，您先湿着手把卫生间浴霸的插头拔了", "MND-WATER-WET-HANDS", id="wet-hands-ba-object"),
    pytest.param("花盆砸下来了？您站那别动，我马上叫保安", "MND-FALL-STAY-BELOW", id="falling-stay-put"),
    pytest.param("楼上扔东西差点砸到人，您就在原地等着保安", "MND-FALL-STAY-BELOW", id="falling-wait-in-place"),
    pytest.param("花盆掉下来碎了，您抬头看看是哪层的窗户开着", "MND-FALL-STAY-BELOW", id="falling-look-up"),
    pytest.param("楼上扔下来的？您盯着看是哪一户扔的，告诉保安", "MND-FALL-STAY-BELOW", id="falling-watch-which-flat"),
    pytest.param("地下车库进水了，请尽快把车开到地面", "MND-GARAGE-FLOOD", id="garage-drive-up"),
])
def test_advised_danger_is_flagged(linter, text: str, item: str) -> None:
    assert item in _unsafe(linter, text)


@pytest.mark.parametrize("text", [
    pytest.param("着火了不要坐电梯，走安全楼梯", id="bu-yao"),
    pytest.param("着火了切勿乘坐电梯", id="qie-wu"),
    pytest.param("有烟，千万别乘电梯！", id="qian-wan-bie"),
    pytest.param("火灾时禁止使用电梯", id="jin-zhi"),
    pytest.param("燃气泄漏，严禁开关电器", id="yan-jin"),
    pytest.param("闻到煤气别开灯，开窗通风", id="bie-then-window"),
    pytest.param("煤气泄漏不要开灯而是开窗通风", id="bu-yao-er-shi"),
    pytest.param("有烟，电梯不能坐", id="object-first"),
    pytest.param("着火了坐电梯很危险", id="danger-after"),
    pytest.param("着火了坐电梯？千万不要！", id="answered-question"),
    pytest.param("著火了，千萬別坐電梯", id="traditional"),
    pytest.param("fire: don't take the elevator", id="english"),
    pytest.param("千万别做电梯 走楼梯也要看楼道有没有烟", id="ime-slip-negated"),
    pytest.param("燃气泄漏，到室外后再打电话给燃气公司", id="phone-outside"),
    pytest.param("电梯困人：维保人员到了会扒开门救您，您别自己扒门", id="staff-does-it"),
    pytest.param("车库进水了千万别下车库挪车", id="garage"),
    pytest.param("插座冒火花，千万不要用水浇", id="no-water"),
    pytest.param("阿姨您八十多了，千万别自己踩凳子换灯泡", id="elder"),
    pytest.param("您好，2号楼的电梯明天年检，请走楼梯或坐另一部电梯", id="lift-without-fire"),
    pytest.param("花盆砸下来了，请马上带孩子离开，别站在下面，也别抬头看", id="falling-forbidden"),
    pytest.param("楼上扔花盆的事，安保人员30分钟内到场，调监控看看是几楼扔的", id="falling-staff-checks-cctv"),
    pytest.param("高空坠物砸到人了，伤者别动，原地等120", id="falling-injured-stays"),
])
def test_forbidding_or_harmless_wording_is_not_flagged(linter, text: str) -> None:
    assert _unsafe(linter, text) == set()


def test_an_unsafe_finding_fails_every_situation_and_comes_first(linter) -> None:
    text = "您好，跟您确认一下：5栋702。请立即拨打119，赶紧坐电梯下楼，我们承诺30分钟内到场，不清楚的再问我。"
    for situations in (("any",), ("first_contact",), ("repair",), ("complaint",), ("emergency",)):
        result = linter.run(text, situations=situations)
        assert not result.ok
        assert result.findings[0].kind == "unsafe"
    f = linter.run(text, situations=("emergency",)).findings[0]
    assert text[f.start:f.end] == f.text == "坐电梯"
    assert f.quote.startswith("EP-FIRE-001#1：") and "不要乘坐电梯" in f.quote
    assert "不要乘坐电梯" in f.suggestion
    assert [x.kind for x in linter.run(text, situations=("emergency",)).findings] == ["unsafe", "banned"]


@pytest.mark.parametrize(("text", "minutes"), [
    pytest.param("师傅24小时内联系您上门", [1440], id="24h"),
    pytest.param("工程部三十分钟内到场", [30], id="chinese-numerals"),
    pytest.param("半小时内到", [30], id="half"),
    pytest.param("2个小时内解决，3个工作日内给方案", [120, 4320], id="two"),
    pytest.param("明天上午安排电工上门", [1440], id="tomorrow"),
    pytest.param("停电一个多小时了，电话打了十几遍", [], id="waiting-is-no-promise"),
    pytest.param("新规2026年10月1日起施行", [], id="a-date-is-no-day"),
    pytest.param("70周岁以上独居老人30分钟内联系", [30], id="an-age-is-no-week"),
    pytest.param("电梯下周一维保，请您提前安排出行", [], id="relative-day-and-verb-in-two-clauses"),
])
def test_promised_times_are_read_with_their_units(checker, text: str, minutes: list[int]) -> None:
    assert [p.minutes for p in checker.promises(text)] == minutes


def test_a_promise_longer_than_the_level_is_a_finding(linter) -> None:
    burst = "您先关总阀，我给您登记一个维修单，24小时内师傅会联系您上门。"
    found = [f for f in linter.run(burst, situations=("emergency",)).findings if f.kind == "wrong_promise"]
    assert [f.text for f in found] == ["24小时"]
    assert "30分钟" in found[0].message
    assert not [f for f in linter.run("工程部30分钟内到场", situations=("emergency",)).findings
                if f.kind == "wrong_promise"]
    # without a level the linter cannot judge a time, and says nothing about it
    assert not [f for f in linter.run(burst, situations=("repair",)).findings if f.kind == "wrong_promise"]
    # the case's own allowed limits are accepted
    case = CaseAdvice(limit=TimeLimit(720, frozenset({4320})))
    assert not [f for f in linter.run("3个工作日内提交整改方案", case=case).findings if f.kind == "wrong_promise"]


@pytest.mark.parametrize(("text", "rule"), [
    pytest.param("宽限期内也照样收滞纳金，复核期间争议金额也要先交上", "CON-FEE-GRACE", id="issue-grace"),
    pytest.param("宽限期内也照样收滞纳金，复核期间争议金额也要先交上", "CON-FEE-DISPUTE", id="issue-dispute"),
    pytest.param("可以帮您复核，不过钱得先交上再说", "CON-FEE-DISPUTE", id="pay-first"),
    pytest.param("新规出来后您那个合同就不算数了", "CON-PARK-CONTRACT", id="contract"),
    pytest.param("快递丢了我们概不负责", "CON-PARCEL-LIABILITY", id="parcel"),
    pytest.param("行，我去跟他说是您投诉的", "CON-COMPLAINT-PRIVACY", id="privacy-staff-claim"),
])
def test_claims_against_the_policy_are_findings(linter, text: str, rule: str) -> None:
    found = {f.rule for f in linter.run(text, situations=("any",)).findings if f.kind == "contradiction"}
    assert rule in found


@pytest.mark.parametrize("text", [
    pytest.param("宽限期内缴清不收滞纳金，复核期间争议金额不计滞纳金", id="the-policy"),
    pytest.param("宽限期内交清是不收的，复核期间争议那部分也不用先交", id="colloquial"),
    pytest.param("您放心，不会告诉他是您投诉的", id="privacy-kept"),
])
def test_stating_the_policy_is_not_a_contradiction(linter, text: str) -> None:
    assert not [f for f in linter.run(text, situations=("any",)).findings if f.kind == "contradiction"]


def test_a_callback_after_the_work_is_not_the_cases_time_limit(linter) -> None:
    text = "工程部30分钟内到场，修好后24小时内回访您。"
    assert not [f for f in linter.run(text, situations=("emergency",)).findings if f.kind == "wrong_promise"]


def test_a_limit_the_kb_states_excuses_only_the_same_action(checker) -> None:
    """POL-PARKING-001#5 says 30分钟内免费 (free parking), #10 says 15分钟内到场: 30 minutes to arrive is wrong."""
    stated = checker.stated_limits(["临时进入小区的车辆30分钟内免费，超过后按5元/小时计费。",
                                    "车位被占用的，安保人员在15分钟内到场核实并联系占用车辆挪车。"])
    limit = TimeLimit(15, frozenset({15}), (), stated)
    assert [f.text for f in checker.wrong_promises("安保30分钟内到场，您先停临停区", limit)] == ["30分钟"]
    reply = TimeLimit(2880, frozenset(), (), checker.stated_limits(["复核结论自受理之日起7个工作日内书面答复。"]))
    assert checker.wrong_promises("7个工作日内给您书面答复", reply) == []
    assert [f.text for f in checker.wrong_promises("7个工作日内到场", reply)] == ["7个工作日"]


def test_a_sentence_naming_a_level_states_no_limit_of_the_case(checker) -> None:
    """EP-ELEC-001#3 gives each level its limit: a sparking socket (level 1) may not be promised 24 hours."""
    text = ("出现冒烟、冒火花、焦糊味的，按一级处理，工程部电工 30 分钟内到场。单个插座不通电且无安全隐患的，"
            "按三级 24 小时内处理。")
    assert checker.stated_limits([text]) == ()
