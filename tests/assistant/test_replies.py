"""The reply linter catches every banned phrase (suggested replies: tests/assistant/test_suggest.py)."""

import pytest

from assistant.replies import ReplyLinter


@pytest.fixture(scope="module")
def linter(real_kb):  # type: ignore[no-untyped-def]
    return ReplyLinter(real_kb.rules)


def _banned_cases(real_kb):  # type: ignore[no-untyped-def]
    return [(p.phrase, v) for p in real_kb.rules.banned.phrases for v in (p.phrase, *p.variants)]


def test_every_banned_phrase_and_variant_is_caught(real_kb, linter) -> None:
    cases = _banned_cases(real_kb)
    assert len(cases) >= 60
    for _phrase, variant in cases:
        text = f"业主您好，{variant}，请您理解。"
        result = linter.run(text, situations=("any",))
        hits = [f for f in result.findings if f.kind == "banned"]
        assert hits, variant
        assert any(text[f.start:f.end] == f.text for f in hits)
        assert all(f.suggestion for f in hits)


@pytest.mark.parametrize("text", [
    pytest.param("这事我 不 清 楚", id="spaced"),
    pytest.param("不-归-我-管的", id="dashes"),
    pytest.param("俺也不知道咋弄", id="dialect"),
    pytest.param("你找别的部门去问吧", id="other-department"),
    pytest.param("規定就是這樣", id="traditional"),
])
def test_disguised_variants_are_caught(linter, text: str) -> None:
    assert not linter.run(text, situations=("any",)).ok


def test_a_good_reply_passes_and_a_bare_one_lists_what_is_missing(linter) -> None:
    good = "您好，跟您确认一下：3栋2单元501卫生间漏水，电话139……，我们承诺24小时内处理。"
    assert linter.run(good, situations=("first_contact", "repair")).ok
    bare = linter.run("收到。", situations=("repair",))
    assert {f.rule for f in bare.findings} == {"missing:repeat_key_info", "missing:commit_time"}
