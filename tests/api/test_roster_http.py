"""The on-call roster over HTTP: an admin reads the roster in force, edits it, and the pager pages from the edit;
a bad value is a 422 naming its field, a stale edit a 409, and nothing half-saved."""

from __future__ import annotations

import copy
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def _roster(client, headers) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.get("/api/admin/oncall", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_kb_roster_is_in_force_until_an_admin_saves_one(client, login, app) -> None:
    body = _roster(client, login("admin"))
    assert (body["version"], body["source"], body["author"]) == (0, "kb", None)
    kb = app.state.assistant.rules.oncall
    assert body["roster"] == kb.model_dump(mode="json")
    assert {"工程部", "安保部", "客服部"} <= set(body["departments"]) and body["channels"] == [
        "console", "wecom", "sms", "webhook"]


def _edit(roster: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``roster`` with the value at a dotted path (``departments.工程部.0.phone``) replaced."""
    out = copy.deepcopy(roster)
    *parents, last = path.split(".")
    node: Any = out
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


DELETE = object()


@pytest.mark.parametrize(("path", "value", "field", "says"), [
    pytest.param("departments.工程部.0.phone", "1390000001", "roster.departments.工程部.0.phone", "pattern",
                 id="phone-10-digits"),
    pytest.param("departments.工程部.0.hours", "8点-20点", "roster.departments.工程部.0.hours", "pattern",
                 id="hours-in-words"),
    pytest.param("departments.工程部.0.hours", "20:00-24:00", "roster.departments.工程部.0.hours", "pattern",
                 id="hour-24"),
    pytest.param("departments.工程部.0.name", "   ", "roster.departments.工程部.0.name", "at least 1",
                 id="blank-name"),
    pytest.param("departments.工程部.0.channel", "phone", "roster.departments.工程部.0.channel", "console",
                 id="unknown-channel"),
    pytest.param("departments.工程部.0.channel", "wecom", "roster.departments.工程部.0.wecom_user", "userid",
                 id="wecom-without-userid"),
    pytest.param("departments.工程布", [{"name": "李工", "phone": "13900000001"}], "roster.departments.工程布",
                 "no routing rule", id="misspelt-department"),
    pytest.param("departments.维修组", [], "roster.departments", "nobody on the roster", id="empty-department"),
    pytest.param("departments.维修组", DELETE, "roster.departments.维修组", "page nobody", id="missing-department"),
    pytest.param("duty_manager", None, "roster.duty_manager", "needs a duty manager", id="no-duty-manager"),
    pytest.param("ack_minutes", 0, "roster.ack_minutes", "greater than or equal to 1", id="ack-zero"),
    pytest.param("ack_minutes", 90, "roster.ack_minutes", "less than or equal to 60", id="ack-too-long"),
    pytest.param("duty_manager.phone", "010-12345678", "roster.duty_manager.phone", "pattern", id="manager-landline"),
    pytest.param("departments.工程部.0.pager", "x", "roster.departments.工程部.0.pager", "Extra inputs",
                 id="unknown-key"),
])
def test_a_bad_roster_is_refused_naming_the_field_and_nothing_is_saved(client, login, path: str, value: Any,  # type: ignore[no-untyped-def]
                                                                       field: str, says: str) -> None:
    admin = login("admin")
    before = _roster(client, admin)
    r = client.put("/api/admin/oncall", headers=admin,
                   json={"base_version": before["version"], "roster": _edit(before["roster"], path, value)})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["message"].startswith(f"{field}:") and says in error["message"], error
    assert error["fields"][0]["field"] == field
    assert _roster(client, admin)["version"] == before["version"]


def test_an_admin_edits_the_roster_and_the_pager_pages_from_it(client, login, app) -> None:
    admin = login("admin")
    before = _roster(client, admin)
    roster = before["roster"]
    roster["ack_minutes"] = 3
    roster["departments"]["工程部"] = [
        {"name": "新来的周工", "phone": "13911112222", "channel": "console"},  # on duty around the clock
        *roster["departments"]["工程部"]]
    r = client.put("/api/admin/oncall", headers=admin, json={"base_version": 0, "roster": roster})
    assert r.status_code == 200, r.text
    saved = r.json()
    assert (saved["version"], saved["source"], saved["author"]) == (1, "database", "系统管理员")
    assert _roster(client, admin) == saved
    # a second edit from the same starting version would silently undo the first: refused
    stale = client.put("/api/admin/oncall", headers=admin, json={"base_version": 0, "roster": before["roster"]})
    assert stale.status_code == 409 and "version 1" in stale.json()["error"]["message"]
    assert _roster(client, admin)["version"] == 1
    # not for anyone else
    assert client.put("/api/admin/oncall", headers=login("manager"),
                      json={"base_version": 1, "roster": roster}).status_code == 403

    r = client.post("/api/chat", json={"message": "家里燃气味很大，6栋1单元302，周敏13877776666"},
                    headers=login("resident"))
    number = r.json()["ticket_number"]
    assert number and r.json()["urgency"] == 1
    app.state.monitor.run_once()
    pages = [p for p in client.get("/api/agent/pages", headers=login("agent")).json() if p["ticket_number"] == number]
    assert [p["person"] for p in pages] == ["新来的周工"]
    assert "3分钟内" in pages[0]["message"]
