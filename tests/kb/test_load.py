from pathlib import Path

import pytest

from kb.errors import KBValidationError
from kb.load import load_kb, parse_clauses


def test_mini_kb_loads_with_values_filled_in(mini_kb_root: Path) -> None:
    kb = load_kb(mini_kb_root)
    assert [a.meta.id for a in kb.articles] == ["POL-FEE-001", "POL-FEE-OLD-001"]
    faq = {e.id: e for e in kb.faqs}
    assert faq["FAQ-FEE-001"].answer == "住宅物业服务费为2.8元/平方米·月。"
    assert "示例物业在管" in kb.clause_index()["POL-FEE-001#1"].text


def test_clauses_keep_numbers_and_heading_path() -> None:
    body = "# T\n\n## 1 总则\n甲。\n\n## 2 标准\n### 2.1 住宅\n乙。\n```\n## 9 不是条款\n```\n## 3 其他\n丙。"
    clauses = parse_clauses("POL-X-001", "标题", body)
    assert [(c.ref, c.heading_path, c.text) for c in clauses] == [
        ("POL-X-001#1", ("标题", "1 总则"), "甲。"),
        ("POL-X-001#2", ("标题", "2 标准"), ""),
        ("POL-X-001#2.1", ("标题", "2 标准", "2.1 住宅"), "乙。\n```\n## 9 不是条款\n```"),
        ("POL-X-001#3", ("标题", "3 其他"), "丙。"),
    ]


@pytest.mark.parametrize(
    ("relpath", "old", "new", "field", "reason"),
    [
        pytest.param("content/faq/fees.yaml", "department: 客服部", "departmnet: 客服部", "entries.0.departmnet",
                     "Extra inputs are not permitted", id="misspelled-faq-key"),
        pytest.param("content/faq/fees.yaml", "paraphrases: [物业费咋收的, 一个月物业费多少钱, 物業費怎麼算]",
                     "paraphrases: [物业费咋收的]", "entries.0.paraphrases", "at least 3", id="too-few-paraphrases"),
        pytest.param("content/faq/fees.yaml", "basis: [POL-FEE-001#2.1]", "basis: [第二条]", "entries.0.basis.0",
                     "pattern", id="bad-clause-ref"),
        pytest.param("content/policies/POL-FEE-001.md", "type: policy", "type: memo", "type",
                     "policy", id="unknown-article-type"),
        pytest.param("content/policies/POL-FEE-001.md", "effective_from: 2026-01-01",
                     "effective_from: 2026-01-01\neffective_to: 2025-01-01", "",
                     "before effective_from", id="window-reversed"),
        pytest.param("content/faq/fees.yaml", "{{fee.rate}}。\n    basis: [POL-FEE-001#2.1]",
                     "{{fee.rat}}。\n    basis: [POL-FEE-001#2.1]", "entries.0.answer", "unknown value", id="unknown-value"),
        pytest.param("content/faq/fees.yaml", "id: FAQ-FEE-002", "id: FAQ-FEE-001", "entries.1.id",
                     "already used", id="duplicate-id"),
        pytest.param("content/faq/fees.yaml", "entries:", "entries: [", "", "invalid YAML", id="broken-yaml"),
        pytest.param("content/policies/POL-FEE-001.md", "## 3 滞纳金", "## 2 滞纳金", "body",
                     "clause numbers used twice", id="duplicate-clause"),
    ],
)
def test_malformed_file_names_file_and_field(mini_kb_root: Path, relpath: str, old: str, new: str,
                                             field: str, reason: str) -> None:
    path = mini_kb_root / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KBValidationError, match=reason) as info:
        load_kb(mini_kb_root)
    assert info.value.path.name == path.name
    assert field in info.value.field


def test_invalid_utf8_is_named(mini_kb_root: Path) -> None:
    path = mini_kb_root / "content" / "faq" / "fees.yaml"
    path.write_bytes(path.read_bytes() + b"\xff\xfe bad")
    with pytest.raises(KBValidationError, match="not valid UTF-8"):
        load_kb(mini_kb_root)


def test_missing_rule_file_is_named(mini_kb_root: Path) -> None:
    (mini_kb_root / "rules" / "routing.yaml").unlink()
    with pytest.raises(KBValidationError, match="routing.yaml: rule file is missing"):
        load_kb(mini_kb_root)


def test_lint_names_a_missing_chat_script(mini_kb_root) -> None:  # type: ignore[no-untyped-def]
    from kb.lint import lint
    from kb.load import load_kb

    (mini_kb_root / "content" / "scripts" / "chat.yaml").unlink()
    (mini_kb_root / "content" / "scripts").rmdir()
    report = lint(load_kb(mini_kb_root))
    missing = {f.entry for f in report.errors if f.code == "missing-chat-script"}
    assert {"greeting", "report_ack", "agent_waiting"} <= missing


@pytest.mark.parametrize(("old", "new", "field", "reason"), [
    pytest.param("(?:坐|做|乘|搭|乘坐|搭乘|使用|用|走|进|上)(?:个|一下|下|着)?(?:电梯", "(?:坐|乘(?:电梯",
                 "must_not_do.0.patterns", "not a valid regular expression", id="bad-regex"),
    pytest.param("    unless: [室外,", "    unless: ['(室外',", "must_not_do", "not a valid regular expression",
                 id="bad-unless-regex"),
    pytest.param("  - id: MND-FIRE-LIFT\n    plan: EP-FIRE-001\n", "  - id: MND-FIRE-LIFT\n    plan: EP-FIRE-001\n    hazard: x\n",
                 "must_not_do.0", "Extra inputs", id="unknown-key"),
    pytest.param("    basis: [EP-FIRE-001#2]\n\n  - id: MND-FIRE-JUMP", "    basis: [EP-FIRE-001]\n\n  - id: MND-FIRE-JUMP",
                 "must_not_do.1.basis.0", "pattern", id="malformed-clause-ref"),
])
def test_a_malformed_advice_file_names_the_file_and_field(mini_kb_root: Path, old: str, new: str, field: str,
                                                          reason: str) -> None:
    path = mini_kb_root / "rules" / "advice.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KBValidationError, match=reason) as info:
        load_kb(mini_kb_root)
    assert info.value.path.name == "advice.yaml"
    assert field in info.value.field


def test_lint_rejects_an_advice_clause_or_item_that_does_not_exist(kb_root: Path, tmp_path: Path) -> None:
    import shutil

    from kb.lint import lint

    root = tmp_path / "kb"
    shutil.copytree(kb_root / "content", root / "content")
    shutil.copytree(kb_root / "rules", root / "rules")
    advice = root / "rules" / "advice.yaml"
    advice.write_text(advice.read_text(encoding="utf-8").replace("basis: [EP-FIRE-001#2]\n", "basis: [EP-FIRE-001#99]\n", 1),
                      encoding="utf-8")
    typical = root / "content" / "scenarios" / "typical.yaml"
    typical.write_text(typical.read_text(encoding="utf-8").replace("MND-LIFT-CLIMB]", "MND-LIFT-CLIMBING]", 1),
                       encoding="utf-8")
    errors = lint(load_kb(root)).errors
    assert [(f.code, f.path, f.entry) for f in errors if f.code in ("missing-clause", "unknown-advice-item")] == [
        ("missing-clause", "kb/rules/advice.yaml", "MND-FIRE-HOT-DOOR"),
        ("unknown-advice-item", "kb/content/scenarios/typical.yaml", "SCN-005"),
    ]
    assert any("EP-FIRE-001#99" in f.message for f in errors)
    assert lint(load_kb(kb_root)).errors == ()


def test_a_malformed_ask_pattern_names_the_file_and_the_ask(kb_root: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "kb"
    shutil.copytree(kb_root / "content", root / "content")
    shutil.copytree(kb_root / "rules", root / "rules")
    path = root / "rules" / "dictionary.yaml"
    text = path.read_text(encoding="utf-8")
    assert "    question: '几点(?!了)'" in text
    path.write_text(text.replace("    question: '几点(?!了)'", "    question: '几点(?!了'", 1), encoding="utf-8")
    with pytest.raises(KBValidationError, match="a time of day: question pattern .* not a valid regular expression"):
        load_kb(root)
