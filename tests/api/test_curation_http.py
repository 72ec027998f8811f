"""The KB improvement loop over HTTP, on a copy of the real KB and index: a gap, an agent's correction, an admin's
approval written to the KB and ingested, the next resident getting it; votes, the gap report, the hit test and the
communities."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from kb.lint import lint
from kb.load import load_kb

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
MISSING = "小区游泳池夏天几点开门"
ANSWER = "小区游泳池夏季（6月至9月）每天9:00-21:00开放，每周一上午清洁消毒暂停开放。"


@pytest.fixture
def loop(tmp_path: Path, real_index_dir: Path, real_embedder, model_dir: Path):  # type: ignore[no-untyped-def]
    """(client, login, kb_root): an app whose KB and index are copies it may change."""
    from assistant.precedents import Precedents, load_precedents
    from assistant.retrieve import HybridRetriever
    from assistant.service import AssistantService
    from assistant.settings import RetrievalSettings

    kb_root = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb_root, ignore=shutil.ignore_patterns("curated.yaml", "*.lock"))
    live = (real_index_dir / "current").resolve()
    index_dir = tmp_path / "index"
    shutil.copytree(live, index_dir / "versions" / live.name)
    (index_dir / "current").symlink_to(Path("versions") / live.name)
    settings = Settings(_env_file=None, assistant={"database_url": f"sqlite:///{tmp_path / 'loop.db'}"},
                        ingest={"kb_root": kb_root, "index_dir": index_dir, "embedding_model": str(model_dir),
                                "upload_dir": None},
                        api={"sla_monitor": False, "login_rate": "1000/minute", "chat_rate": "1000/minute",
                             "index_watch_interval": 0})
    kb = load_kb(kb_root)
    retriever = HybridRetriever(RetrievalSettings(), real_embedder, index_dir)
    service = AssistantService(kb, retriever, precedents=Precedents(
        load_precedents(kb_root / "rules" / "precedents.jsonl"), real_embedder, k=7))
    with TestClient(create_app(settings, assistant=service)) as client:
        def login(user: str) -> dict[str, str]:
            r = client.post("/api/auth/login", json={"username": user, "password": "wuye-demo"})
            client.cookies.clear()
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        yield client, login, kb_root


def _wait_for_ingest(client: TestClient, admin: dict[str, str]) -> dict[str, object]:
    for _ in range(600):
        status = client.get("/api/kb/ingest", headers=admin).json()
        if status["state"] in ("done", "failed"):
            return dict(status)
        time.sleep(0.5)
    raise AssertionError("ingest did not finish")


def test_an_approved_correction_answers_the_next_resident_as_written(loop) -> None:  # type: ignore[no-untyped-def]
    client, login, kb_root = loop
    resident, agent, admin = login("resident"), login("agent"), login("admin")
    asked = client.post("/api/chat", json={"message": MISSING}, headers=resident).json()
    assert not asked["answered"] and asked["agent"] in ("waiting", "callback")
    waiting = client.get("/api/agent/conversations", headers=agent).json()
    turn = next(t for c in waiting for t in c["turns"] if t["message"] == MISSING)
    r = client.post("/api/agent/corrections", json={"turn_id": turn["id"], "answer": ANSWER}, headers=agent)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    pending = client.get("/api/kb/corrections?status=pending", headers=admin).json()
    assert [(c["question"], c["answer"]) for c in pending] == [(MISSING, ANSWER)]

    r = client.post(f"/api/kb/corrections/{pending[0]['id']}/approve", json={"paraphrases": ["泳池几点开放"]},
                    headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["entry_id"] == "FAQ-CUR-001" and r.json()["ingest"] in ("running", "queued")
    status = _wait_for_ingest(client, admin)
    assert status["state"] == "done", status
    report = status["report"]
    assert report["added"] == ["FAQ-CUR-001"] and report["embedded"] <= 5  # incremental: only the new entry
    kb = load_kb(kb_root)
    entry = next(e for e in kb.faqs if e.id == "FAQ-CUR-001")
    assert (entry.question, entry.answer, entry.curated.approved_by) == (MISSING, ANSWER, "系统管理员")
    assert not lint(kb).errors

    again = client.post("/api/chat", json={"message": MISSING}, headers=login("resident2")).json()
    assert again["answered"] and again["reply"] == ANSWER
    assert again["citations"][0]["entry_id"] == "FAQ-CUR-001"
    detail = client.get("/api/kb/entries/FAQ-CUR-001", headers=resident).json()
    assert (detail["kind"], detail["answer"]) == ("curated", ANSWER)
    twice = client.post(f"/api/kb/corrections/{pending[0]['id']}/approve", json={}, headers=admin)
    assert twice.status_code == 409


@pytest.mark.parametrize(("body", "problem"), [
    pytest.param({"answer": "   "}, "answer", id="blank-answer"),
    pytest.param({"question": "高层住宅的物业费收费标准是多少？"}, "duplicate", id="question-the-kb-already-has"),
    pytest.param({"tags": [""]}, "tags", id="empty-tag"),
])
def test_an_approval_the_kb_refuses_names_the_problem_and_writes_nothing(loop, body, problem: str) -> None:  # type: ignore[no-untyped-def]
    client, login, kb_root = loop
    resident, agent, admin = login("resident"), login("agent"), login("admin")
    asked = client.post("/api/chat", json={"message": MISSING}, headers=resident).json()
    turn = client.get(f"/api/conversations/{asked['conversation_id']}", headers=resident).json()["turns"][-1]
    cid = client.post("/api/agent/corrections", json={"turn_id": turn["id"], "answer": ANSWER}, headers=agent).json()["id"]
    r = client.post(f"/api/kb/corrections/{cid}/approve", json=body, headers=admin)
    assert r.status_code == 422 and problem in r.json()["error"]["message"], r.text
    assert not (kb_root / "content" / "faq" / "curated.yaml").exists()
    assert client.get("/api/kb/corrections?status=pending", headers=admin).json()[0]["id"] == cid
    rejected = client.post(f"/api/kb/corrections/{cid}/reject", json={"note": "答案需核实"}, headers=admin).json()
    assert (rejected["status"], rejected["review_note"]) == ("rejected", "答案需核实")


def test_votes_reach_the_admin_and_a_downvote_reason_the_gap_report(loop) -> None:  # type: ignore[no-untyped-def]
    client, login, _ = loop
    resident, admin = login("resident"), login("admin")
    answered = client.post("/api/chat", json={"message": "晚交物业费的滞纳金怎么算"}, headers=resident).json()
    assert answered["answered"]
    r = client.post(f"/api/chat/turns/{answered['turn_id']}/vote", json={"vote": "down", "reason": "没说最多收多少"},
                    headers=resident)
    assert r.status_code == 200 and "FAQ-RES-018" in r.json()["entries"]
    other = client.post(f"/api/chat/turns/{answered['turn_id']}/vote", json={"vote": "up"},
                        headers=login("resident2"))
    assert other.status_code == 404  # someone else's answer
    votes = {v["entry_id"]: v for v in client.get("/api/kb/votes", headers=admin).json()}
    assert (votes["FAQ-RES-018"]["up"], votes["FAQ-RES-018"]["down"]) == (0, 1)
    assert votes["FAQ-RES-018"]["reasons"] == ["没说最多收多少"]
    report = client.get("/api/kb/gaps", headers=admin).json()
    assert report["questions"] == 1
    (cluster,) = report["clusters"]
    assert cluster["kinds"] == {"downvote": 1} and cluster["notes"] == ["没说最多收多少"]
    assert cluster["examples"] == ["晚交物业费的滞纳金怎么算"] and cluster["draft"]["answer"] == ""
    assert cluster["nearest"][0]["entry_id"] and cluster["why"]


def test_the_hit_test_explains_a_not_found_and_a_community_answer(loop) -> None:  # type: ignore[no-untyped-def]
    client, login, _ = loop
    admin = login("admin")
    miss = client.get("/api/kb/hittest", params={"q": "小区里有没有自习室"}, headers=admin).json()
    assert (miss["decision"], miss["found"], miss["answered"]) == ("not_found", False, False)
    assert "below the floor" in miss["why"] and miss["thresholds"]["min_score"] == 0.91
    assert miss["hits"] and all({"dense", "bm25", "score"} <= set(h) for h in miss["hits"])
    assert miss["hits"][0]["score"] >= miss["hits"][-1]["score"]
    fee = client.get("/api/kb/hittest", params={"q": "物业费多少钱一平", "community": "CM-FLW"}, headers=admin).json()
    assert fee["decision"] == "answer" and "2.50元" in fee["reply"] and "≥" in fee["why"]
    assert not any(h["community"] == "CM-LHY" for h in fee["hits"])
    bad = client.get("/api/kb/hittest", params={"q": "物业费", "community": "CM-NOPE"}, headers=admin)
    assert bad.status_code == 422 and "CM-NOPE" in bad.json()["error"]["message"]
    assert client.get("/api/kb/hittest", params={"q": "物业费"}, headers=login("agent")).status_code == 403


def test_the_agent_sees_which_community_a_ticket_is_from(loop) -> None:  # type: ignore[no-untyped-def]
    client, login, _ = loop
    filed = client.post("/api/chat", json={"message": "卧室的灯不亮了，3栋2单元501，王女士13912345678"},
                        headers=login("resident")).json()
    assert filed["ticket_number"], filed
    ticket = client.get(f"/api/tickets/{filed['ticket_number']}", headers=login("agent")).json()
    assert ticket["community"] == "CM-FLW"  # the demo resident lives in 枫林湾, resident2 in 绿荷苑
    names = {c["id"]: c["name"] for c in client.get("/api/kb/communities", headers=login("agent")).json()}
    assert names == {"CM-LHY": "绿荷苑", "CM-FLW": "枫林湾"}


@pytest.mark.parametrize(("who", "method", "path", "body", "field"), [
    pytest.param("resident", "post", "/api/chat/turns/99999999999/vote", {"vote": "up"}, "turn_id", id="huge-turn-id"),
    pytest.param("resident", "post", "/api/chat/turns/1/vote", {"vote": "meh"}, "vote", id="unknown-vote"),
    pytest.param("resident", "post", "/api/chat/turns/1/vote", {"vote": "down", "reason": "长" * 501}, "reason",
                 id="reason-too-long"),
    pytest.param("agent", "post", "/api/agent/corrections", {"turn_id": 0, "answer": "正确答复如下"}, "turn_id",
                 id="turn-zero"),
    pytest.param("agent", "post", "/api/agent/corrections", {"turn_id": 1, "answer": "  "}, "answer",
                 id="blank-correction"),
    pytest.param("admin", "post", "/api/kb/corrections/99999999999/approve", {}, "correction_id", id="huge-id"),
    pytest.param("admin", "get", "/api/kb/hittest?q=", None, "q", id="empty-question"),
    pytest.param("admin", "get", "/api/kb/hittest?q=" + "问" * 501, None, "q", id="question-too-long"),
    pytest.param("admin", "get", "/api/kb/gaps?top=0", None, "top", id="no-clusters"),
])
def test_bad_input_to_the_loop_is_a_422_naming_the_field(client, login, who: str, method: str, path: str,  # type: ignore[no-untyped-def]
                                                         body: dict[str, object] | None, field: str) -> None:
    kwargs: dict[str, object] = {"headers": login(who)}
    if body is not None:
        kwargs["json"] = body
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]["message"]


def test_an_answer_that_does_not_exist_or_is_not_an_answer_is_a_404(client, login) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/chat/turns/424242/vote", json={"vote": "up"}, headers=login("resident")).status_code == 404
    r = client.post("/api/agent/corrections", json={"turn_id": 424242, "answer": "正确答复如下"}, headers=login("agent"))
    assert r.status_code == 404 and "not the assistant's answer" in r.json()["error"]["message"]
    r = client.post("/api/kb/corrections/424242/reject", json={}, headers=login("admin"))
    assert r.status_code == 404 and "424242" in r.json()["error"]["message"]
