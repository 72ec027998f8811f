"""The quiz calibration set (eval/data/quiz_replies.jsonl): size, coverage, grades and the frozen first test split."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from eval.datasets import DatasetError, QuizReply, load

# SHA-256 of the test items among the first 118 replies (id, scenario, label, reply), frozen when the set grew.
FIRST_TEST_SPLIT = "2d2b1f343a0a8cf8a0fcc9bc6252e9d7b1c33972359c2a185131888e6698d363"


def _first_test_digest() -> str:
    rows = [r for r in load("quiz_replies.jsonl", QuizReply) if r.split == "test" and int(r.id[3:]) <= 118]
    blob = "\n".join(json.dumps([r.id, r.scenario, r.label, r.reply], ensure_ascii=False) for r in rows)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_the_first_test_split_has_not_changed() -> None:
    assert _first_test_digest() == FIRST_TEST_SPLIT


def test_every_scenario_and_class_is_covered(real_kb) -> None:  # type: ignore[no-untyped-def]
    items = load("quiz_replies.jsonl", QuizReply)
    assert len(items) >= 240
    per_scenario = Counter(r.scenario for r in items)
    assert set(per_scenario) == {s.id for s in real_kb.scenarios}
    assert min(per_scenario.values()) >= 8
    labels = Counter(r.label for r in items)
    for label in ("good", "mediocre", "dangerous", "wrong_promise", "contradiction", "salad", "dismissive",
                  "deflecting", "offtopic", "negated"):
        assert labels[label] >= 8 or label == "contradiction" and labels[label] >= 6, label
    test = [r for r in items if r.split == "test"]
    assert 0.35 <= len(test) / len(items) <= 0.5
    assert {r.label for r in test} == set(labels)


@pytest.mark.parametrize(("label", "grade"), [("good", 60), ("dangerous", 45), ("offtopic", 70), ("good", 101)])
def test_a_grade_outside_its_class_is_rejected(tmp_path: Path, label: str, grade: int) -> None:
    row = {"id": "QR-X", "split": "dev", "source": "written", "scenario": "SCN-001", "label": label,
           "grade": grade, "reply": "知道了"}
    (tmp_path / "q.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError):
        load("q.jsonl", QuizReply, folder=tmp_path)
