"""The real-shaped test split is frozen: its checksums are in eval/data/real/SHA256SUMS."""

from pathlib import Path

from eval.datasets import (
    QUESTION_FILES,
    REAL,
    TRIAGE_FILES,
    TURN_FILES,
    RealQuestion,
    RealTriage,
    RealTurn,
    load_real,
    split_digests,
    split_of,
)


def _recorded() -> dict[str, str]:
    lines = (REAL / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line.strip())}


def test_the_test_split_has_not_changed() -> None:
    # A failure means a test-split line was edited, added or removed: that data is frozen. Tune on dev only;
    # if the change is deliberate (new data), regenerate SHA256SUMS in its own reviewed commit.
    assert split_digests() == _recorded()


def test_split_is_by_source_page_so_one_page_never_feeds_both() -> None:
    items = load_real(TRIAGE_FILES, RealTriage)
    by_source: dict[str, set[str]] = {}
    for it in items:
        by_source.setdefault(it.source, set()).add(it.split)
    assert all(len(splits) == 1 for splits in by_source.values())
    assert split_of("https://example.org/a", "x") == split_of("https://example.org/a", "y")


def test_real_data_is_large_and_covers_what_the_issue_asks() -> None:
    triage = load_real(TRIAGE_FILES, RealTriage)
    assert len(triage) >= 300
    assert sum(t.urgency == 1 for t in triage) >= 50
    assert sum(t.urgency == 2 for t in triage) >= 50
    assert sum("repeat" in t.flags for t in triage) >= 40
    assert sum("vulnerable" in t.flags for t in triage) >= 20
    assert sum(t.urgency == 4 for t in triage) >= 40
    assert all(t.source.startswith("http") for t in triage)
    assert len(load_real(QUESTION_FILES, RealQuestion)) >= 100
    assert len(load_real(TURN_FILES, RealTurn)) >= 150


def test_precedents_come_from_the_dev_split_only() -> None:
    import json

    test_ids = {t.id for t in load_real(TRIAGE_FILES, RealTriage, split="test")}
    lines = (Path(REAL).parent.parent.parent / "kb" / "rules" / "precedents.jsonl").read_text(encoding="utf-8")
    ids = {json.loads(x)["id"] for x in lines.splitlines() if x.strip()}
    assert not ids & test_ids
