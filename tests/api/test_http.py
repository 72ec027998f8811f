"""Every route: happy path, permission denied, malformed input (real assistant, real SQLite)."""

import json

import pytest

pytestmark = pytest.mark.integration


def _ticket_via_chat(client, headers, text="卫生间水龙头一直滴水，3栋2单元501，王女士13912345678") -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/chat", json={"message": text}, headers=headers)
    assert r.status_code == 200, r.text
    number = r.json()["ticket_number"]
    assert number
    return number


def test_health_and_readiness(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    checks = r.json()["checks"]
    from ingest.embed import build_embedder
    from ingest.settings import IngestSettings

    # the index names the model and the backend it was built with (multilingual-e5-small+onnx-int8 by default)
    assert checks["database"] == "ok" and checks["index"]["model"] == build_embedder(IngestSettings()).model_id
    assert checks["index"]["model"].startswith("multilingual-e5-small")


def test_login_and_me(client, login) -> None:
    h = login("agent")
    assert client.get("/api/auth/me", headers=h).json()["role"] == "agent"


@pytest.mark.parametrize(("body", "status"), [
    pytest.param({"username": "agent", "password": "wrong"}, 401, id="wrong-password"),
    pytest.param({"username": "nobody", "password": "wuye-demo"}, 401, id="unknown-user"),
    pytest.param({"username": "agent"}, 422, id="missing-password"),
    pytest.param({"username": "", "password": "x"}, 422, id="empty-name"),
])
def test_bad_login(client, body, status) -> None:
    r = client.post("/api/auth/login", json=body)
    assert r.status_code == status
    assert "error" in r.json() and "Traceback" not in r.text


def test_unauthenticated_calls_are_refused(client) -> None:
    for method, path in [("post", "/api/chat"), ("get", "/api/tickets"), ("get", "/api/agent/queue"),
                         ("get", "/api/kb/search?q=x"), ("post", "/api/triage"), ("get", "/api/dashboard"),
                         ("get", "/v1/models")]:
        r = client.request(method.upper(), path, json={} if method == "post" else None)
        assert r.status_code == 401, (path, r.status_code)


def test_resident_chat_answers_with_citation(client, login) -> None:
    h = login("resident")
    r = client.post("/api/chat", json={"message": "晚交物业费的滞纳金怎么算"}, headers=h)
    body = r.json()
    assert r.status_code == 200 and not body["handoff"]
    assert any(c["ref"] == "FAQ-RES-018" for c in body["citations"])
    conv = client.get(f"/api/conversations/{body['conversation_id']}", headers=h).json()
    assert conv["turns"][0]["message"] == "晚交物业费的滞纳金怎么算"


def test_resident_chat_burst_pipe_streams_emergency_first(client, login) -> None:
    h = login("resident")
    with client.stream("POST", "/api/chat?stream=true", json={"message": "厨房水管爆了水一直喷"}, headers=h) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    events = [block for block in text.split("\n\n") if block.strip()]
    assert events[0].startswith("event: meta")
    meta = json.loads(events[0].split("data: ", 1)[1])
    assert meta["emergency"] and meta["urgency"] == 1
    done = json.loads(events[-1].split("data: ", 1)[1])
    assert done["ticket_number"]  # the demo resident's profile fills every mandatory field
    assert done["handoff"]


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({}, "message", id="missing"),
    pytest.param({"message": ""}, "message", id="empty"),
    pytest.param({"message": "x" * 5000}, "message", id="too-long"),
    pytest.param({"message": 123}, "message", id="wrong-type"),
    pytest.param({"message": "hi", "conversation_id": "../../etc"}, "conversation_id", id="bad-id"),
    pytest.param({"message": "hi", "extra": 1}, "extra", id="unknown-field"),
])
def test_chat_malformed_body_names_the_field(client, login, body, field) -> None:
    r = client.post("/api/chat", json=body, headers=login("resident"))
    assert r.status_code == 422
    assert field in r.json()["error"]["message"]


def test_staff_cannot_use_resident_chat(client, login) -> None:
    assert client.post("/api/chat", json={"message": "hi"}, headers=login("agent")).status_code == 403


def test_residents_see_only_their_own_tickets(client, login) -> None:
    r1 = login("resident")
    number = _ticket_via_chat(client, r1)
    assert client.get(f"/api/tickets/{number}", headers=r1).status_code == 200
    r2 = login("resident2")
    assert client.get(f"/api/tickets/{number}", headers=r2).status_code == 404
    assert client.get("/api/tickets", headers=r2).json() == []
    conv = client.get("/api/conversations", headers=r1).json()[0]["id"]
    assert client.get(f"/api/conversations/{conv}", headers=r2).status_code == 404


def test_ticket_lifecycle_over_http(client, login) -> None:
    number = _ticket_via_chat(client, login("resident"))
    agent = login("agent")
    detail = client.get(f"/api/tickets/{number}", headers=agent).json()
    assert detail["deadlines"] and detail["seconds_left"] > 0
    r = client.post(f"/api/tickets/{number}/transition", json={"to": "resolved"}, headers=agent)
    assert r.status_code == 409 and "cannot move" in r.json()["error"]["message"]
    r = client.post(f"/api/tickets/{number}/transition", json={"to": "dispatched"}, headers=agent)
    assert r.status_code == 409 and "assignee" in r.json()["error"]["message"]
    assert client.post(f"/api/tickets/{number}/assign", json={"assignee": "李师傅"}, headers=agent).json()["assignee"] == "李师傅"
    assert client.post(f"/api/tickets/{number}/assign", json={"assignee": ""}, headers=agent).status_code == 422
    assert client.post(f"/api/tickets/{number}/assign", json={"assignee": "x"},
                       headers=login("resident")).status_code == 403
    for step in [{"to": "dispatched", "assignee": "张师傅"}, {"to": "in_progress"},
                 {"to": "resolved", "photos": ["after.jpg"], "note": "更换阀芯"},
                 {"to": "callback_done", "note": "业主满意"}]:
        r = client.post(f"/api/tickets/{number}/transition", json=step, headers=agent)
        assert r.status_code == 200, r.text
    events = r.json()["events"]
    assert [e["to_status"] for e in events] == ["submitted", "dispatched", "in_progress", "resolved", "callback_done"]
    assert any(d["key"] == "callback_repair" for d in r.json()["deadlines"])
    resident = login("resident")
    assert client.post(f"/api/tickets/{number}/rating", json={"score": 5}, headers=resident).json()["satisfaction"] == 5
    assert client.post(f"/api/tickets/{number}/rating", json={"score": 9}, headers=resident).status_code == 422
    assert client.post(f"/api/tickets/{number}/transition", json={"to": "closed"}, headers=resident).status_code == 403


def test_agent_creates_ticket_with_null_check(client, login) -> None:
    agent = login("agent")
    r = client.post("/api/tickets", json={"resident_name": "李先生", "description": "楼道灯坏了"}, headers=agent)
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == ["phone", "address"]
    r = client.post("/api/tickets", json={"resident_name": "李先生", "phone": "13600001111", "address": "5栋1203室",
                                          "description": "楼道灯坏了"}, headers=agent)
    assert r.status_code == 201 and r.json()["department"] == "维修组"
    assert client.post("/api/tickets", json={}, headers=login("resident")).status_code == 403


def test_queue_is_ordered_by_time_left(client, login) -> None:
    res = login("resident")
    _ticket_via_chat(client, res, "卧室灯坏了")  # level 3, 24 h
    urgent = _ticket_via_chat(client, res, "家里停电了，一点电都没有")  # level 2, 2 h
    queue = client.get("/api/agent/queue", headers=login("agent")).json()
    assert queue[0]["number"] == urgent
    assert [q["seconds_left"] for q in queue] == sorted(q["seconds_left"] for q in queue)
    assert client.get("/api/agent/queue", headers=res).status_code == 403


def test_filters_and_overdue(client, login) -> None:
    _ticket_via_chat(client, login("resident"))
    agent = login("agent")
    assert len(client.get("/api/tickets?category=工程&status=submitted", headers=agent).json()) == 1
    assert client.get("/api/tickets?category=保洁", headers=agent).json() == []
    assert client.get("/api/tickets?overdue=true", headers=agent).json() == []
    assert client.get("/api/tickets?urgency=9", headers=agent).status_code == 422
    assert client.get("/api/tickets?status=flying", headers=agent).status_code == 422


def test_suggest_and_lint(client, login) -> None:
    number = _ticket_via_chat(client, login("resident"))
    agent = login("agent")
    r = client.post("/api/agent/suggest", json={"ticket_number": number, "draft": "这个不归我管"}, headers=agent)
    body = r.json()
    assert r.status_code == 200 and len(body["suggestions"]) == 3
    assert all(s["lint"]["ok"] for s in body["suggestions"])
    assert number in "".join(s["text"] for s in body["suggestions"]) and body["suggestions"][0]["basis"]
    assert {s["style"] for s in body["suggestions"]} == {"short", "warm", "full"}
    assert "小李" in "".join(s["text"] for s in body["suggestions"])  # the signed-in agent (客服 小李)
    assert not any("{" in s["text"] or "我是。" in s["text"] for s in body["suggestions"])
    assert not body["draft_lint"]["ok"]
    r = client.post("/api/agent/lint", json={"text": "我也不知道，你找别人吧"}, headers=agent)
    assert {f["rule"] for f in r.json()["findings"]} >= {"banned:不知道", "banned:找别人"}
    gas = "您好，可以先开抽油烟机通风，再开灯看看，我也不知道哪里漏的"
    r = client.post("/api/agent/lint", json={"text": gas, "context": "家里一股煤气味"}, headers=agent)
    body = r.json()
    assert r.status_code == 200 and not body["ok"]
    assert [f["kind"] for f in body["findings"]][:2] == ["unsafe", "unsafe"]
    first = body["findings"][0]
    assert (first["rule"], gas[first["start"]:first["end"]]) == ("MND-GAS-SWITCH", "开抽油烟机")
    assert first["quote"].startswith("EP-GAS-001#1：") and first["sentence"]
    safe = client.post("/api/agent/lint", json={"text": "您好，千万别开抽油烟机，也别开灯，关阀开窗后到室外",
                                                "context": "家里一股煤气味"}, headers=agent).json()
    assert [f["kind"] for f in safe["findings"] if f["kind"] in ("unsafe", "wrong_promise", "contradiction")] == []
    assert client.post("/api/agent/suggest", json={}, headers=agent).status_code == 422
    assert client.post("/api/agent/suggest", json={"ticket_number": "GD-nope"}, headers=agent).status_code == 404


def test_kb_search_entry_and_ingest_permissions(client, login) -> None:
    agent = login("agent")
    r = client.get("/api/kb/search", params={"q": "装修押金多少"}, headers=agent)
    assert r.status_code == 200 and r.json()["hits"]
    e = client.get(f"/api/kb/entries/{r.json()['hits'][0]['entry_id']}", headers=agent)
    assert e.status_code == 200 and e.json()["title"]
    assert client.get("/api/kb/entries/NOPE-001", headers=agent).status_code == 404
    assert client.get("/api/kb/search", params={"q": ""}, headers=agent).status_code == 422
    assert client.post("/api/kb/ingest", headers=agent).status_code == 403
    assert client.get("/api/kb/ingest", headers=login("admin")).json()["state"] == "idle"


def test_triage_endpoint_matches_the_cli_shape(client, login) -> None:
    r = client.post("/api/triage", json={"text": "楼上扔东西下来差点砸到人"}, headers=login("agent"))
    body = r.json()
    assert (body["urgency"], body["escalate"], body["department"]) == (1, True, "安保部")
    assert {"escalation_reasons", "deadlines", "missing_fields", "reply"} <= set(body)
    assert client.post("/api/triage", json={"text": ["a"]}, headers=login("agent")).status_code == 422


def test_dashboard_for_managers_only(client, login) -> None:
    _ticket_via_chat(client, login("resident"))
    d = client.get("/api/dashboard?period=week", headers=login("manager")).json()
    assert d["total"] == 1 and d["by_category"] == {"工程": 1}
    assert client.get("/api/dashboard", headers=login("agent")).status_code == 403
    assert client.get("/api/dashboard?period=year", headers=login("manager")).status_code == 422


def test_api_key_and_revocation(client, app) -> None:
    from datetime import UTC, datetime

    from assistant.store import accounts

    h = {"X-API-Key": "wuye-demo-key"}
    assert client.get("/v1/models", headers=h).json()["data"][0]["id"] == "wuye-assistant"
    assert client.get("/v1/models", headers={"X-API-Key": "forged"}).status_code == 401
    with app.state.sessions.begin() as s:
        accounts.revoke_api_key(s, name="demo", now=datetime.now(UTC))
    assert client.get("/v1/models", headers=h).status_code == 401


def test_expired_token_is_refused(client, app) -> None:
    from datetime import UTC, datetime, timedelta

    from api.security import issue_token

    old = issue_token(user_id=1, role="admin", secret="dev-only-change-me-not-a-secret-0000", minutes=1,
                      now=datetime.now(UTC) - timedelta(hours=2))
    r = client.get("/api/auth/me", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_login_is_rate_limited(app_settings, service) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = app_settings.model_copy(update={"api": app_settings.api.model_copy(update={"login_rate": "3/minute"})})
    with TestClient(create_app(settings, assistant=service)) as c:
        codes = [c.post("/api/auth/login", json={"username": "agent", "password": "bad"}).status_code
                 for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_production_refuses_default_secret() -> None:
    from pydantic import ValidationError

    from api.settings import Settings

    with pytest.raises(ValidationError, match="production mode refuses"):
        Settings(_env_file=None, api={"mode": "production"})
    Settings(_env_file=None, api={"mode": "production", "secret_key": "x" * 40})


def test_pages_render_with_security_headers(client) -> None:
    for path in ["/", "/login", "/chat", "/agent", "/trainer", "/manager", "/admin"]:
        r = client.get(path)
        assert r.status_code == 200 and "<html" in r.text
        assert r.headers["x-frame-options"] == "DENY" and "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/vendor/chart.umd.min.js").status_code == 200


def test_quiz_created_assigned_taken_graded(client, login) -> None:
    trainer = login("trainer")
    bank = client.get("/api/quiz/scenarios", headers=trainer).json()
    assert len(bank) >= 20
    q = client.post("/api/quiz", json={"title": "月考", "scenario_ids": [bank[0]["id"]], "assignees": ["agent"]},
                    headers=trainer).json()
    agent = login("agent")
    assert [x["id"] for x in client.get("/api/quiz", headers=agent).json()] == [q["id"]]
    taken = client.get(f"/api/quiz/{q['id']}", headers=agent).json()
    assert "expected" not in taken["scenarios"][0]  # the answers are never shown to the agent
    exp = bank[0]["expected"]
    r = client.post(f"/api/quiz/{q['id']}/answers", headers=agent, json={
        "scenario_id": bank[0]["id"], "category": exp["category"], "urgency": exp["urgency"],
        "department": exp["department"], "time_limit_minutes": exp["time_limit_minutes"],
        "reply": "这个不归我管，你找别人吧", "seconds": 42})
    grade = r.json()
    assert r.status_code == 200 and grade["score"] <= 30 and grade["violations"]
    results = client.get("/api/quiz/results/all", headers=trainer).json()
    assert results["agents"]["agent"][0]["score"] == grade["score"]
    assert client.post("/api/quiz", json={"title": "x", "scenario_ids": ["SCN-NOPE"], "assignees": ["agent"]},
                       headers=trainer).status_code == 422
    assert client.post("/api/quiz", json={"title": "x", "count": 1, "assignees": ["agent"]},
                       headers=agent).status_code == 403
    assert client.get(f"/api/quiz/{q['id']}", headers=login("resident")).status_code == 403
