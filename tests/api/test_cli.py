"""The `wuye` command line, in-process, against the real model and the session's real index."""

import json
from pathlib import Path

import pytest

from api.settings import get_settings

pytestmark = pytest.mark.integration


def test_search_json(cli) -> None:
    result = cli("search", "电梯坏了有人被困怎么办", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["found"]
    hit = data["hits"][0]
    assert set(hit) >= {"entry_id", "citation", "title", "clause", "snippet", "score"}
    assert any(h["citation"] in ("FAQ-OPS-066", "EP-LIFT-001#1") for h in data["hits"][:3])


def test_search_batch_keeps_ids(cli, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    src.write_text('{"id": "a", "text": "装修押金多少"}\n{"id": 7, "text": "门禁卡丢了"}\n', encoding="utf-8")
    result = cli("search", "--batch", str(src), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", 7]
    assert all(r["hits"] for r in rows)


def test_ask_json_answer_with_citations(cli) -> None:
    result = cli("ask", "装修押金什么时候退？", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert not data["handoff"]
    assert data["citations"] and {"entry_id", "title", "clause", "score"} <= set(data["citations"][0])


def test_ask_outside_kb_hands_off(cli) -> None:
    data = json.loads(cli("ask", "明天会下雨吗", "--json").stdout)
    assert not data["answered"] and data["citations"] == [] and data["kind"] == "chitchat"
    data = json.loads(cli("ask", "二手房过户要交多少契税", "--json").stdout)
    assert not data["answered"] and data["handoff"] and data["citations"] == []


def test_triage_batch(cli, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    lines = [
        {"id": "t1", "text": "厨房水管爆了，水一直往外喷"},
        {"id": "t2", "text": "卧室灯坏了", "resident": {"vulnerable": True}},
        {"id": "t3", "text": "物业费怎么交"},
    ]
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    result = cli("triage", "--batch", str(src), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    keys = {"category", "urgency", "department", "escalate", "escalation_reasons", "deadlines", "missing_fields",
            "reply"}
    assert all(keys <= set(r) for r in rows.values())
    assert (rows["t1"]["urgency"], rows["t1"]["escalate"], rows["t1"]["department"]) == (1, True, "工程部")
    assert rows["t1"]["deadlines"][0]["minutes"] == 15 or any(d["minutes"] == 30 for d in rows["t1"]["deadlines"])
    assert (rows["t2"]["urgency"], rows["t2"]["escalate"]) == (2, True)
    assert (rows["t3"]["category"], rows["t3"]["urgency"], rows["t3"]["escalate"]) == ("费用", 4, False)
    assert "resident_name" in rows["t1"]["missing_fields"]


@pytest.mark.parametrize(("content", "message"), [
    pytest.param('{"id": 1}\n', "in.jsonl:1: text: Field required", id="missing-text"),
    pytest.param('{"id": 1, "text": "a"}\nnot json\n', "in.jsonl:2", id="not-json"),
    pytest.param('{"id": 1, "text": "a", "resident": {"vip": true}}\n', "resident.vip", id="unknown-profile-key"),
])
def test_bad_batch_line_is_named(cli, tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(content, encoding="utf-8")
    result = cli("triage", "--batch", str(src), "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_chat_in_the_terminal_opens_a_ticket(cli) -> None:
    result = cli("chat", input="楼道灯坏了\n3栋2单元502\n王女士 13912345678\n\n")
    assert result.exit_code == 0, result.output
    assert "工单号：GD" in result.output


def test_kb_lint_passes_on_the_shipped_kb(cli) -> None:
    result = cli("kb", "lint")
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    assert "faq=" in result.output


def test_missing_index_names_the_fix(cli, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WUYE_INGEST__INDEX_DIR", str(tmp_path / "none"))
    get_settings.cache_clear()
    result = cli("search", "物业费")
    assert result.exit_code == 1
    assert "wuye ingest" in result.output
    assert "Traceback" not in result.output


def test_ingest_company_documents_and_search_them(cli, monkeypatch, tmp_path: Path, real_index_dir) -> None:
    import shutil

    shutil.copytree(real_index_dir, tmp_path / "index", symlinks=True)  # incremental: only the new file embeds
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "泳池开放.md").write_text("# 泳池开放规定\n\n## 开放时间\n\n小区恒温泳池每天早上六点至晚上九点开放，周一闭池换水。\n",
                                     encoding="utf-8")
    monkeypatch.setenv("WUYE_INGEST__INDEX_DIR", str(tmp_path / "index"))
    get_settings.cache_clear()
    result = cli("ingest", "--docs", str(docs))
    assert result.exit_code == 0, result.output
    assert "chunks" in result.output
    assert "embedded 1," in result.output
    data = json.loads(cli("search", "游泳池几点开门", "--json", "--kind", "document").stdout)
    assert data["hits"][0]["title"] == "泳池开放规定"


@pytest.mark.parametrize(("text", "code", "expect"), [
    pytest.param("这个我不清楚，你找别人吧", 1, "banned:不清楚", id="banned"),
    pytest.param("这个不 归 我 管", 1, "banned:不归我管", id="spaced-variant"),
    pytest.param("您好，跟您确认一下：3栋2单元501卫生间漏水，我们承诺24小时内处理。", 0, "ok", id="good"),
])
def test_lint_reply(cli, text: str, code: int, expect: str) -> None:
    result = cli("lint-reply", text)
    assert result.exit_code == code
    assert expect in result.output


def test_lint_reply_shows_the_unsafe_advice_first_with_its_clause(cli) -> None:
    text = "请立即拨打119，赶紧坐电梯下楼，或者打开门从楼道冲出去"
    result = cli("lint-reply", text, "--situation", "emergency")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("MND-FIRE-LIFT at 11–14「坐电梯」")
    assert lines[1].startswith("   依据 EP-FIRE-001#1：") and "不要乘坐电梯" in lines[1]
    assert "MND-FIRE-HOT-DOOR" in result.output
    assert result.output.index("MND-FIRE-HOT-DOOR") < result.output.index("missing:repeat_key_info")
    data = json.loads(cli("lint-reply", text, "--situation", "emergency", "--json").stdout)
    assert not data["ok"]
    assert [f["kind"] for f in data["findings"]][:2] == ["unsafe", "unsafe"]
    assert text[data["findings"][0]["start"]:data["findings"][0]["end"]] == "坐电梯"
    safe = cli("lint-reply", "您好，跟您确认一下5栋702：请立即拨打119，千万不要坐电梯，楼道有烟别开门，我们30分钟内到场。",
               "--situation", "emergency")
    assert safe.exit_code == 0, safe.output


def test_lint_reply_checks_the_promised_time_against_the_level(cli) -> None:
    result = cli("lint-reply", "您好，跟您确认一下：8栋602爆管，我们24小时内上门。", "--urgency", "1")
    assert result.exit_code == 1
    assert "promise at" in result.output and "「24小时」" in result.output


def test_suggest_for_a_stored_ticket(cli) -> None:
    chat = cli("chat", input="卫生间水龙头一直滴水\n3栋2单元501 王女士 13912345678\n\n")
    number = chat.output.split("工单号：")[1].split()[0]
    result = cli("suggest", "--ticket", number, "--agent", "客服 小李", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and all(r["lint_ok"] for r in rows) and number in "".join(r["text"] for r in rows)
    assert {r["style"] for r in rows} == {"short", "warm", "full"} and "小李" in "".join(r["text"] for r in rows)
    missing = cli("suggest", "--ticket", "GD-none")
    assert missing.exit_code == 1 and "not found" in missing.output


@pytest.mark.parametrize(("what", "message"), [
    pytest.param("model", "wuye model prepare", id="missing-model"),
    pytest.param("onnx", "model_int8.onnx not found", id="missing-int8-onnx-file"),
    pytest.param("index", "wuye ingest", id="missing-index"),
    pytest.param("corrupt", "corrupted", id="corrupted-index"),
])
def test_serve_refuses_to_start_without_model_or_index(cli, monkeypatch, tmp_path: Path, real_index_dir, model_dir,
                                                       what: str, message: str) -> None:
    import shutil

    if what == "model":
        monkeypatch.setenv("WUYE_INGEST__EMBEDDING_MODEL", str(tmp_path / "no-model"))
    elif what == "onnx":  # a prepared folder whose int8 file is gone: the default backend cannot run
        folder = tmp_path / model_dir.name
        folder.mkdir()
        for item in model_dir.iterdir():
            if item.name != "onnx":
                (folder / item.name).symlink_to(item)
        monkeypatch.setenv("WUYE_INGEST__EMBEDDING_MODEL", str(folder))
    elif what == "index":
        monkeypatch.setenv("WUYE_INGEST__INDEX_DIR", str(tmp_path / "no-index"))
    else:
        shutil.copytree(real_index_dir, tmp_path / "index", symlinks=True)
        target = (tmp_path / "index" / "current").resolve()
        (tmp_path / "index" / "current").unlink()
        broken = tmp_path / "index" / "versions" / "broken"
        shutil.copytree(target, broken)
        (broken / "faiss.index").write_bytes(b"garbage")
        (tmp_path / "index" / "current").symlink_to(broken)
        monkeypatch.setenv("WUYE_INGEST__INDEX_DIR", str(tmp_path / "index"))
    get_settings.cache_clear()
    result = cli("serve", "--port", "1")
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_kb_gaps_groups_what_the_terminal_chat_could_not_answer(cli) -> None:
    empty = json.loads(cli("kb", "gaps", "--json").output)
    assert (empty["questions"], empty["cluster_count"], empty["clusters"]) == (0, 0, [])
    cli("chat", input="小区游泳池夏天几点开门\n\n")
    cli("chat", input="小区的游泳池什么时候开放\n\n")
    cli("chat", input="小区里有没有自习室\n\n")
    report = json.loads(cli("kb", "gaps", "--json").output)
    assert (report["questions"], report["cluster_count"]) == (3, 2)
    first = report["clusters"][0]
    assert set(first["examples"]) == {"小区的游泳池什么时候开放", "小区游泳池夏天几点开门"}
    assert first["kinds"] == {"not_found": 2} and first["draft"]["answer"] == "" and first["nearest"]
    text = cli("kb", "gaps", "--top", "1").output
    assert "3 questions in 2 clusters" in text and "#1 2 次" in text and "#2" not in text and "why: " in text
