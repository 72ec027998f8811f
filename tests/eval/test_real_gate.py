"""Eval gate on the real-shaped dev split: triage and everyday turns must stay above these floors.

Figures on the frozen test split are reported by `wuye eval` (and the README), never tuned on.
"""

import pytest

from eval.datasets import TRIAGE_FILES, TURN_FILES, RealTriage, RealTurn, load_real
from eval.real import score_triage, score_turns, triage_wuye

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def triage_scores(service):  # type: ignore[no-untyped-def]
    items = load_real(TRIAGE_FILES, RealTriage, split="dev")
    predicted, _ = triage_wuye(service, items)
    return score_triage(items, predicted)


@pytest.mark.parametrize(("metric", "floor"), [
    ("level1_recall", 0.97),
    ("category_accuracy", 0.78),
    ("urgency_accuracy", 0.80),
    ("escalation_recall", 0.85),
    ("escalation_precision", 0.80),
    ("level1_precision", 0.75),
])
def test_triage_on_real_shaped_dev_messages(triage_scores, metric, floor) -> None:
    assert triage_scores[metric] >= floor


def test_everyday_turns_behave(service) -> None:  # type: ignore[no-untyped-def]
    scores, fails = score_turns(service, load_real(TURN_FILES, RealTurn, split="dev"))
    assert scores["behaving"] >= 0.85, fails[:5]
