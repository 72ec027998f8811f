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
