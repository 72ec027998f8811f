"""Hostile input on the command line and in KB files: a clear message naming the problem and a non-zero
exit, never a traceback; odd-but-valid text is answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import get_settings
from kb.errors import KBValidationError
from kb.load import load_kb

pytestmark = pytest.mark.integration

LONG = "漏" * 100_000


def _batch(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "in.jsonl"
    path.write_bytes(content)
    return str(path)


BAD_ARGS = [
    ("ask-empty", ["ask", ""], "empty"),
    ("ask-whitespace", ["ask", "  \t "], "empty"),
    ("ask-control-only", ["ask", "\x00\x1b\x07"], "empty"),
    ("ask-100k", ["ask", LONG], "limit"),
    ("triage-empty", ["triage", ""], "empty"),
    ("triage-100k", ["triage", LONG], "limit"),
    ("search-empty", ["search", " "], "empty"),
    ("search-100k", ["search", LONG], "limit"),
    ("lint-reply-empty", ["lint-reply", ""], "empty"),
    ("lint-reply-100k", ["lint-reply", LONG], "limit"),
    ("ask-both-modes", ["ask", "物业费", "--batch", "x.jsonl"], "either"),
    ("triage-batch-no-out", ["triage", "--batch", "x.jsonl"], "--out"),
    ("search-top-k-zero", ["search", "物业费", "--top-k", "0"], "top-k"),
    ("ingest-missing-docs", ["ingest", "--docs", "/nonexistent/docs"], "does not exist"),
    ("suggest-unknown-ticket", ["suggest", "--ticket", "GD20260101-999999"], "not found"),
    ("quiz-unknown", ["quiz", "take", "999", "--agent", "agent"], "999"),
    ("chat-unknown-conversation", ["chat", "--conversation", "00000000-0000-0000-0000-000000000000"],
     "not found"),
]


@pytest.mark.parametrize(("args", "names"), [pytest.param(a, n, id=i) for i, a, n in BAD_ARGS])
def test_bad_arguments_fail_with_a_named_problem(cli, args: list[str], names: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(*args, input="物业费怎么交\n\n" if args[0] == "chat" else None)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert names.lower() in result.output.lower(), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


BAD_BATCHES = [
    ("invalid-utf8", b'{"id": 1, "text": "\xff\xfe"}\n', "utf-8"),
    ("not-json", b'{"id": 1, "text": \n', "in.jsonl:1"),
    ("missing-text", b'{"id": 1}\n', "text"),
    ("wrong-type", b'{"id": 1, "text": ["a"]}\n', "text"),
    ("huge-text", ('{"id": 1, "text": "' + "漏" * 30_000 + '"}\n').encode(), "text"),
    ("second-line-bad", b'{"id": 1, "text": "ok"}\n{"id": 2}\n', "in.jsonl:2"),
    ("json-array", b'[1, 2, 3]\n', "in.jsonl:1"),
]


@pytest.mark.parametrize(("content", "names"), [pytest.param(c, n, id=i) for i, c, n in BAD_BATCHES])
def test_bad_batch_files_are_named_and_nothing_is_written(cli, tmp_path: Path, content: bytes,  # type: ignore[no-untyped-def]
                                                          names: str) -> None:
    out = tmp_path / "out.jsonl"
    result = cli("triage", "--batch", _batch(tmp_path, content), "--out", str(out))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert names.lower() in result.output.lower(), result.output
    assert not out.exists()


def test_missing_batch_file_is_named(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("ask", "--batch", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code != 0 and "nope.jsonl" in result.output


def test_odd_but_valid_text_on_the_command_line_is_triaged(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    texts = ["🔥楼道着火了🔥", "廚房水管爆了", "lift stuck 有人被困", "煤气\x00味好大", "Gas smell in kitchen 煤气味"]
    lines = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
    out = tmp_path / "out.jsonl"
    result = cli("triage", "--batch", _batch(tmp_path, lines.encode()), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["urgency"] for r in rows] == [1] * len(texts), rows


KB_BREAKS = [
    ("faq-unknown-field", "content/faq/fees.yaml", "    department: 客服部\n", "    department: 客服部\n    answr: x\n",
     "answr"),
    ("faq-missing-answer", "content/faq/fees.yaml", "    answer: 小区内遛狗必须牵绳。\n", "", "answer"),
    ("faq-wrong-type", "content/faq/fees.yaml", "tags: [宠物]", "tags: 宠物", "tags"),
    ("article-bad-date", "content/policies/POL-FEE-001.md", "effective_from: 2026-01-01", "effective_from: 明年",
     "effective_from"),
    ("article-no-front-matter", "content/policies/POL-FEE-001.md", "---\nid: POL-FEE-001", "id: POL-FEE-001", ""),
    ("rules-bad-level", "rules/urgency.yaml", "level: 4", "level: 5", "level"),
    ("values-unknown-field", "content/values/values.yaml", "sample: true", "sample: true\nsecret: 1", "secret"),
]


@pytest.mark.parametrize(("relpath", "old", "new", "names"),
                         [pytest.param(*k[1:], id=k[0]) for k in KB_BREAKS])
def test_a_broken_kb_file_is_named_by_load_lint_and_ingest(mini_kb_root: Path, cli, monkeypatch,  # type: ignore[no-untyped-def]
                                                          relpath: str, old: str, new: str, names: str) -> None:
    path = mini_kb_root / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture drifted: {old!r} not in {relpath}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KBValidationError) as info:
        load_kb(mini_kb_root)
    assert info.value.path.name == path.name
    assert names in str(info.value)
    monkeypatch.setenv("WUYE_INGEST__KB_ROOT", str(mini_kb_root))
    get_settings.cache_clear()
    for args in (["kb", "lint"], ["ingest"]):
        result = cli(*args)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert path.name in result.output, result.output
