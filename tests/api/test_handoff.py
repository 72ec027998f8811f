"""A live person on request: the resident asks, an agent joins from the console, messages go both ways, the
assistant stays silent meanwhile, and the agent hands the conversation back (real assistant, real SQLite)."""

import pytest

pytestmark = pytest.mark.integration


def test_resident_asks_for_a_person_and_an_agent_takes_over(client, login) -> None:  # type: ignore[no-untyped-def]
    resident, agent = login("resident"), login("agent")
    r = client.post("/api/chat", json={"message": "我要找人工"}, headers=resident).json()
    conv = r["conversation_id"]
    assert r["kind"] == "person" and r["agent"] in ("waiting", "callback") and r["handoff"]

    waiting = client.get("/api/agent/conversations", headers=agent).json()
    assert any(c["id"] == conv and c["turns"][0]["message"] == "我要找人工" for c in waiting)

    # an agent must join before writing
    assert client.post(f"/api/agent/conversations/{conv}/messages", json={"text": "您好"}, headers=agent).status_code == 409
    joined = client.post(f"/api/agent/conversations/{conv}/join", headers=agent).json()
    assert joined["agent"] == "joined" and joined["agent_user"]

    r = client.post(f"/api/agent/conversations/{conv}/messages", json={"text": "您好，我是客服小王，请问有什么可以帮您？"},
                    headers=agent)
    assert r.status_code == 200 and r.json()["speaker"] == "agent"
    seen = client.get(f"/api/conversations/{conv}", headers=resident).json()
    assert seen["agent"] == "joined" and seen["turns"][-1]["speaker"] == "agent"
    assert "客服小王" in seen["turns"][-1]["answer"]

    # while the agent holds the conversation the assistant stays silent (no FAQ, no ticket)
    r = client.post("/api/chat", json={"message": "物业费多少钱一平", "conversation_id": conv}, headers=resident).json()
    assert r["reply"] == "" and r["agent"] == "joined" and not r["citations"]
    transcript = client.get("/api/agent/conversations", headers=agent).json()
    assert any(t["message"] == "物业费多少钱一平" for c in transcript if c["id"] == conv for t in c["turns"])

    # a banned deflecting phrase never reaches the resident
    r = client.post(f"/api/agent/conversations/{conv}/messages", json={"text": "这个不归我管"}, headers=agent)
    assert r.status_code == 422 and "banned_phrase" in r.text

    back = client.post(f"/api/agent/conversations/{conv}/release", json={"close": False}, headers=agent).json()
    assert back["agent"] == "none"
    r = client.post("/api/chat", json={"message": "物业费多少钱一平", "conversation_id": conv}, headers=resident).json()
    assert r["answered"] and r["citations"] and r["agent"] == "none"


def test_an_emergency_still_gets_the_safety_script_while_an_agent_holds_the_chat(client, login) -> None:  # type: ignore[no-untyped-def]
    resident, agent = login("resident"), login("agent")
    conv = client.post("/api/chat", json={"message": "转人工"}, headers=resident).json()["conversation_id"]
    client.post(f"/api/agent/conversations/{conv}/join", headers=agent)
    r = client.post("/api/chat", json={"message": "厨房水管爆了，水一直往外喷！", "conversation_id": conv},
                    headers=resident).json()
    assert r["emergency"] and "总阀" in r["reply"]


def test_residents_cannot_use_the_console(client, login) -> None:  # type: ignore[no-untyped-def]
    resident = login("resident")
    assert client.get("/api/agent/conversations", headers=resident).status_code == 403
    assert client.post("/api/agent/conversations/x/join", headers=resident).status_code == 403


def test_status_query_names_the_residents_own_ticket_from_the_store(client, login) -> None:  # type: ignore[no-untyped-def]
    resident = login("resident")
    first = client.post("/api/chat", json={"message": "客厅灯不亮了，3栋2单元501，王芳13800138000"}, headers=resident).json()
    number = first["ticket_number"]
    assert number
    r = client.post("/api/chat", json={"message": "我的工单呢"}, headers=resident).json()  # a new conversation
    assert r["kind"] == "status" and number in r["reply"] and "已受理" in r["reply"]
