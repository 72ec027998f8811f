"""The suggested-replies table (eval/data/suggest_cases.jsonl): every case gets three options, each complete,
lint-clean for its situation, free of the resident's raw text and different from the others; a case that is an
instance of a quiz scenario has every option pass the quiz grader."""

import json

import pytest

from eval.suggestions import MAX_COSINE, QUIZ_PASS, SCENARIOS, build_cases, check_table, load_cases
from kb.schema import Category, TriggerKind

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def table(real_kb, real_embedder):  # type: ignore[no-untyped-def]
    return check_table(real_kb, real_embedder, load_cases())


def test_the_table_covers_every_kind_of_case() -> None:
    cases = load_cases()
    assert len(cases) >= 100
    assert {c.category for c in cases} == set(Category)
    assert {c.urgency for c in cases} == {1, 2, 3, 4}
    assert {c.escalated for c in cases} == {True, False}
    assert {c.stage for c in cases} == {"first_contact", "follow_up"}
    assert {c.split for c in cases} == {"dev", "test"}
    assert cases == build_cases(len(cases))  # the committed table is what the builder makes


def test_cases_labelled_as_quiz_scenarios_share_the_scenarios_category_and_level(real_kb) -> None:
    scenarios = {s.id: s for s in real_kb.scenarios}
    labelled = [c for c in load_cases() if c.scenario]
    assert len(labelled) == len(SCENARIOS.read_text(encoding="utf-8").splitlines()) >= 15
    for c in labelled:
        e = scenarios[c.scenario].expected
        assert (c.category, c.urgency) == (e.category, int(e.urgency)), c.id
    assert {c.stage for c in labelled} == {"first_contact", "follow_up"}
    assert all(json.loads(line)["why"] for line in SCENARIOS.read_text(encoding="utf-8").splitlines())


def test_every_case_gets_three_complete_lint_clean_options_free_of_raw_text(table) -> None:  # type: ignore[no-untyped-def]
    bad = [(c.case_id, len(c.texts), c.incomplete, c.lint_failures, c.leaks) for c in table.checks
           if len(c.texts) != 3 or c.incomplete or c.lint_failures or c.leaks]
    assert bad == []


def test_the_three_options_differ(table) -> None:  # type: ignore[no-untyped-def]
    near = [(c.case_id, round(c.max_cosine, 3)) for c in table.checks if c.max_cosine >= MAX_COSINE]
    assert near == []


def test_every_option_for_a_quiz_scenario_passes_the_quiz(table) -> None:  # type: ignore[no-untyped-def]
    graded = [c for c in table.checks if c.quiz]
    assert len(graded) >= 15
    assert [(c.case_id, c.quiz) for c in graded if min(c.quiz) < QUIZ_PASS] == []


def test_staff_are_apologised_for_only_in_a_service_complaint(table) -> None:  # type: ignore[no-untyped-def]
    cases = {c.id: c for c in load_cases()}
    wrong = [c.case_id for c in table.checks if TriggerKind.SERVICE_COMPLAINT not in cases[c.case_id].kinds
             and any("工作人员给您带来的不愉快" in t or "换作是谁都会生气" in t for t in c.texts)]
    assert wrong == []
