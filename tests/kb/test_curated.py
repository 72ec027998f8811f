"""Curated FAQ entries written to the KB: validated and linted before the file changes, ids numbered in turn."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kb.curated import CURATED_FILE, add_curated, next_id
from kb.errors import KBValidationError
from kb.lint import lint
from kb.load import load_kb
from kb.schema import Curated, FaqEntry


def _entry(entry_id: str, question: str, answer: str = "泳池夏季每天9:00-21:00开放。") -> FaqEntry:
    return FaqEntry(id=entry_id, question=question, answer=answer, department="客服部", tags=["客服核定"],
                    curated=Curated(correction=1, agent="客服 小李", approved_by="系统管理员",
                                    approved_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC)))


def test_entries_are_added_in_turn_and_load_back(mini_kb_root: Path) -> None:
    assert next_id(mini_kb_root) == "FAQ-CUR-001"
    add_curated(mini_kb_root, _entry("FAQ-CUR-001", "小区游泳池几点开门？"))
    assert next_id(mini_kb_root) == "FAQ-CUR-002"
    add_curated(mini_kb_root, _entry("FAQ-CUR-002", "小区里有自习室吗？", "小区会所二楼设有共享自习室。"))
    kb = load_kb(mini_kb_root)
    curated = [e for e in kb.faqs if e.curated is not None]
    assert [(e.id, e.question) for e in curated] == [("FAQ-CUR-001", "小区游泳池几点开门？"),
                                                     ("FAQ-CUR-002", "小区里有自习室吗？")]
    assert curated[0].curated.approved_by == "系统管理员"
    assert not [f for f in lint(kb).errors if f.entry.startswith("FAQ-CUR")]


@pytest.mark.parametrize(("entry", "problem"), [
    pytest.param(_entry("FAQ-FEE-001", "小区游泳池几点开门？"), "already used", id="id-taken"),
    pytest.param(_entry("FAQ-CUR-009", "物业费多少钱一平？"), "duplicate-question", id="question-taken"),
])
def test_an_entry_the_kb_refuses_leaves_the_file_unchanged(mini_kb_root: Path, entry: FaqEntry, problem: str) -> None:
    path = mini_kb_root / CURATED_FILE
    with pytest.raises(KBValidationError, match=problem):
        add_curated(mini_kb_root, entry)
    assert not path.exists()
    add_curated(mini_kb_root, _entry("FAQ-CUR-001", "小区游泳池几点开门？"))
    before = path.read_bytes()
    with pytest.raises(KBValidationError, match=problem):
        add_curated(mini_kb_root, entry)
    assert path.read_bytes() == before


def test_an_authored_entry_needs_paraphrases_and_a_basis_a_curated_one_does_not() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        FaqEntry(id="FAQ-X-001", question="问？", answer="答。", department="客服部", tags=["t"], basis=["POL-X-001#1"])
    with pytest.raises(ValueError, match="at least 1 clause"):
        FaqEntry(id="FAQ-X-001", question="问？", answer="答。", department="客服部", tags=["t"],
                 paraphrases=["a", "b", "c"])
    assert _entry("FAQ-CUR-001", "问？").paraphrases == []


def test_only_curated_entries_are_written_there(mini_kb_root: Path) -> None:
    authored = FaqEntry(id="FAQ-X-001", question="问？", answer="答。", department="客服部", tags=["t"],
                        paraphrases=["a", "b", "c"], basis=["POL-FEE-001#1"])
    with pytest.raises(KBValidationError, match="only curated"):
        add_curated(mini_kb_root, authored)
