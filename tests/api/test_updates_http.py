"""Proactive updates: when an agent moves a resident's ticket, the resident hears it in their own conversation."""

import pytest

pytestmark = pytest.mark.integration


def test_dispatch_work_and_resolution_are_posted_into_the_residents_conversation(client, login) -> None:
    resident = login("resident")
    r = client.post("/api/chat", json={"message": "卫生间水龙头一直滴水，3栋2单元501，王女士13912345678"},
                    headers=resident)
    body = r.json()
    number, conversation = body["ticket_number"], body["conversation_id"]
    assert number
    agent = login("agent")
    for step in [{"to": "dispatched", "assignee": "张师傅"}, {"to": "in_progress"},
                 {"to": "resolved", "photos": ["after.jpg"], "note": "更换了水龙头阀芯。"}]:
        assert client.post(f"/api/tickets/{number}/transition", json=step, headers=agent).status_code == 200
    turns = client.get(f"/api/conversations/{conversation}", headers=login("resident")).json()["turns"]
    updates = [t["answer"] for t in turns if t["speaker"] == "update"]
    assert len(updates) == 3
    dispatched, working, resolved = updates
    assert number in dispatched and "张师傅" in dispatched and "预计" in dispatched and "前处理好" in dispatched
    assert "张师傅已到场" in working
    assert "更换了水龙头阀芯" in resolved and "。。" not in resolved and "回访" in resolved


def test_a_ticket_filed_at_the_desk_has_no_conversation_to_post_into(client, login) -> None:
    agent = login("agent")
    r = client.post("/api/tickets", headers=agent, json={
        "resident_name": "赵敏", "phone": "13955556666", "address": "7栋1单元702", "description": "客厅灯不亮了"})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    r = client.post(f"/api/tickets/{number}/transition", json={"to": "dispatched", "assignee": "李师傅"}, headers=agent)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["assignee"]) == ("dispatched", "李师傅")
    assert [e["to_status"] for e in r.json()["events"]] == ["submitted", "dispatched"]
    # nobody was told: the ticket has no conversation, so no update turn was written anywhere
    conversations = client.get("/api/conversations", headers=agent).json()
    assert not [t for c in conversations for t in c["turns"] if t["speaker"] == "update" and number in t["answer"]]
