"""Regression gate: a fixed, evenly spread subset of the dev split must stay above these thresholds.

The full eval (both splits, with the baselines) is `make eval`; this keeps `make test` honest.
"""

from pathlib import Path

import pytest

from eval.report import write_reports
from eval.run import run_eval

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def gate(service, model_dir):  # type: ignore[no-untyped-def]
    return run_eval(service, split="dev", model_path=model_dir, baselines=False, limit=60)


def test_level_1_is_never_missed(gate) -> None:
    assert gate.triage["wuye"]["level1_recall"] == 1.0


@pytest.mark.parametrize(("section", "system", "metric", "floor"), [
    ("retrieval", "wuye (hybrid)", "recall@3", 0.90),
    ("answers", "wuye (hybrid)", "accuracy", 0.65),
    ("answers", "wuye (hybrid)", "abstention_recall", 0.70),
    ("triage", "wuye", "category_accuracy", 0.80),
    ("triage", "wuye", "urgency_accuracy", 0.80),
    ("triage", "wuye", "department_accuracy", 0.78),
    ("triage", "wuye", "escalation_recall", 0.85),
])
def test_metric_stays_above_its_floor(gate, section, system, metric, floor) -> None:
    assert getattr(gate, section)[system][metric] >= floor


def test_project_beats_the_keyword_triage_baseline(gate) -> None:
    assert gate.triage["wuye"]["urgency_accuracy"] > gate.triage["keyword-rules"]["urgency_accuracy"]
    assert gate.triage["wuye"]["level1_recall"] > gate.triage["keyword-rules"]["level1_recall"]


def test_dialogues_end_in_correct_tickets(gate) -> None:
    assert gate.dialogues["completion_rate"] >= 0.85
    assert gate.dialogues["ticket_correct_rate"] >= 0.65


def test_reports_are_written_with_plots_and_personal_data_masked(gate, tmp_path: Path) -> None:
    import re

    gate.failures.setdefault("triage", []).append({"text": "王先生 13812345678 住3栋2单元501"})
    paths = write_reports(gate, tmp_path)
    for p in paths.values():
        body = p.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\d.])1[3-9]\d{9}(?!\d)", body), p
        assert "3栋2单元501" not in body
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 3
    assert "wuye (hybrid)" in paths["md"].read_text(encoding="utf-8")
    assert paths["json"].stat().st_size > 1000


def test_quiz_grader_caps_every_dangerous_reply_and_spares_safe_negations(gate) -> None:
    """eval/data/quiz_replies.jsonl (dev): every dangerous reply below 40 and flagged; no negated wording flagged;
    the scores ranked like the trainer's numeric grades; replies that answer nothing below the pass mark."""
    q = gate.quiz
    assert q["n"] >= 50
    assert q["dangerous_capped_below_40"] == 1.0
    assert q["dangerous_flagged"] == 1.0
    assert q["negated_not_flagged"] == 1.0
    assert q["spearman"] >= 0.85  # with the trainer's grades (0–100)
    assert q["spearman_class"] >= 0.80  # with the trainer's class order
    assert q["per_class"]["good"]["min"] >= 80
    for label in ("dismissive", "deflecting", "offtopic"):
        assert q["per_class"][label]["max"] < 60, label
