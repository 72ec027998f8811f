"""Callbacks (回访) over HTTP: a resolved ticket is a task with its script; each outcome moves it as the
feedback policy says and reaches the manager's dashboard."""

import pytest

pytestmark = pytest.mark.integration


def _resolved(client, login, text: str) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/chat", json={"message": text}, headers=login("resident"))
    number = r.json()["ticket_number"]
    assert number, r.text
    agent = login("agent")
    for step in [{"to": "dispatched", "assignee": "张师傅"}, {"to": "in_progress"},
                 {"to": "resolved", "photos": ["after.jpg"], "note": "更换阀芯"}]:
        assert client.post(f"/api/tickets/{number}/transition", json=step, headers=agent).status_code == 200
    return number


def test_callback_tasks_and_their_three_outcomes(client, login) -> None:
    satisfied = _resolved(client, login, "卫生间水龙头一直滴水，3栋2单元501，王女士13912345678")
    unsolved = _resolved(client, login, "客厅灯不亮了，3栋2单元501，王女士13912345678")
    unreachable = _resolved(client, login, "阳台地漏堵了，3栋2单元501，王女士13912345678")
    agent = login("agent")
    tasks = {t["ticket_number"]: t for t in client.get("/api/agent/callbacks", headers=agent).json()}
    assert {satisfied, unsolved, unreachable} <= set(tasks)
    task = tasks[satisfied]
    assert task["due_at"] and task["tries"] == 0 and task["script_id"] == "SCR-FOLLOW-001"
    assert satisfied in task["script"] and "小李" in task["script"] and "{" not in task["script"]
    assert client.get("/api/agent/callbacks", headers=login("resident")).status_code == 403

    r = client.post(f"/api/agent/callbacks/{satisfied}", json={"outcome": "satisfied"}, headers=agent)
    assert r.status_code == 422 and "satisfaction" in r.json()["error"]["message"]
    r = client.post(f"/api/agent/callbacks/{satisfied}", json={"outcome": "satisfied", "satisfaction": 5}, headers=agent)
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["satisfaction"] == 5

    r = client.post(f"/api/agent/callbacks/{unsolved}", json={"outcome": "not_solved", "note": "灯还是不亮"},
                    headers=agent)
    assert r.json()["status"] == "reopened"
    conversations = client.get("/api/conversations", headers=login("resident")).json()
    heard = [t["answer"] for c in conversations for t in client.get(f"/api/conversations/{c['id']}",
             headers=login("resident")).json()["turns"] if t["speaker"] == "update"]
    assert any(unsolved in h and "重新打开" in h for h in heard)

    for i in range(1, 4):
        r = client.post(f"/api/agent/callbacks/{unreachable}", json={"outcome": "unreachable"}, headers=agent)
        assert r.status_code == 200
        assert r.json()["status"] == ("resolved" if i < 3 else "closed")  # ops.callback_attempts = 3
    notes = [e["note"] or "" for e in r.json()["events"]]
    assert sum(n.startswith("回访未接通（第") for n in notes) == 3 and any("已改发短信" in n for n in notes)
    assert client.post(f"/api/agent/callbacks/{unreachable}", json={"outcome": "unreachable"},
                       headers=agent).status_code == 409

    d = client.get("/api/dashboard?period=day", headers=login("manager")).json()
    assert d["callbacks"] == {"satisfied": 1, "not_solved": 1, "unreachable": 1} and d["satisfaction"] == 5


def test_the_resident_rates_in_the_chat_and_the_dashboard_counts_it(client, login) -> None:
    resident = login("resident")
    scores = {}
    for text, score in (("卫生间水龙头一直滴水，3栋2单元501，王女士13912345678", "5分，谢谢师傅"),
                        ("客厅灯不亮了，3栋2单元501，王女士13912345678", "2分")):
        r = client.post("/api/chat", json={"message": text}, headers=resident)
        number, conversation = r.json()["ticket_number"], r.json()["conversation_id"]
        agent = login("agent")
        for step in [{"to": "dispatched", "assignee": "张师傅"}, {"to": "in_progress"},
                     {"to": "resolved", "photos": ["after.jpg"], "note": "更换阀芯"}]:
            assert client.post(f"/api/tickets/{number}/transition", json=step, headers=agent).status_code == 200
        turns = client.get(f"/api/conversations/{conversation}", headers=resident).json()["turns"]
        assert "1到5分" in turns[-1]["answer"]  # the resolution update asks for a score
        r = client.post("/api/chat", json={"message": score, "conversation_id": conversation}, headers=resident)
        assert r.status_code == 200 and number in r.json()["reply"], r.text
        scores[number] = r.json()["reply"]
    happy, unhappy = scores
    assert "感谢您的评价（5分）" in scores[happy] and "不关闭" in scores[unhappy]
    agent = login("agent")
    closed = client.get(f"/api/tickets/{happy}", headers=agent).json()
    assert (closed["status"], closed["satisfaction"]) == ("closed", 5)
    assert any("业主在线评价" in (e["note"] or "") and e["actor"] == "业主" for e in closed["events"])
    kept = client.get(f"/api/tickets/{unhappy}", headers=agent).json()
    assert (kept["status"], kept["satisfaction"]) == ("resolved", 2)  # not satisfied: not closed, an agent calls
    tasks = {t["ticket_number"]: t for t in client.get("/api/agent/callbacks", headers=agent).json()}
    assert happy not in tasks and tasks[unhappy]["chat_score"] == 2
    d = client.get("/api/dashboard?period=day", headers=login("manager")).json()
    assert d["chat_ratings"] == {"count": 2, "average": 3.5}
    assert d["callbacks"]["satisfied"] == 1 and d["satisfaction"] == 3.5
