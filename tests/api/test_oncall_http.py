"""Pages over HTTP: a level-1 chat report pages the department on duty; staff list and acknowledge pages."""

import pytest

pytestmark = pytest.mark.integration


def test_level1_report_is_paged_listed_for_staff_and_acknowledged(client, app, login) -> None:
    resident = login("resident")
    r = client.post("/api/chat", json={"message": "家里燃气味很大，6栋1单元302，周敏13877776666"}, headers=resident)
    assert r.status_code == 200, r.text
    number, urgency = r.json()["ticket_number"], r.json()["urgency"]
    assert number and urgency == 1
    assert app.state.monitor.run_once().pages >= 1   # (the server runs this pass at once, woken by the report)
    agent = login("agent")
    pages = [p for p in client.get("/api/agent/pages", headers=agent).json() if p["ticket_number"] == number]
    engineers = {p.name for p in app.state.assistant.rules.oncall.departments["工程部"]}
    assert len(pages) == 1 and pages[0]["person"] in engineers and pages[0]["attempt"] == 1
    assert pages[0]["reason"] == "level1" and pages[0]["delivered"] is True
    assert client.get("/api/agent/pages", headers=resident).status_code == 403
    ack = client.post(f"/api/agent/pages/{number}/ack", headers=agent)
    assert ack.status_code == 200 and ack.json()["acknowledged"] == 1
    assert client.post(f"/api/agent/pages/{number}/ack", headers=agent).json()["acknowledged"] == 0
    assert client.post("/api/agent/pages/GD20990101-000001/ack", headers=agent).status_code == 404
    assert not [p for p in client.get("/api/agent/pages", headers=agent).json() if p["ticket_number"] == number]
    events = client.get(f"/api/tickets/{number}", headers=agent).json()["events"]
    assert any("已确认呼叫" in (e["note"] or "") for e in events)
