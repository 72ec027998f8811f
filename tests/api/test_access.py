"""Every route against every role: anonymous callers get 401, wrong roles 403, and the matrix below is the
product's access policy written down by hand (not read back from the code), so a loosened route fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.conftest import write_mini_kb

pytestmark = pytest.mark.integration

ROLES = ("anon", "resident", "agent", "trainer", "manager", "admin", "api-key")
EVERYONE = frozenset(ROLES) - {"anon"}
STAFF = frozenset({"agent", "manager", "admin", "api-key"})  # the demo API key has the agent role
TRAINERS = frozenset({"trainer", "manager", "admin"})

# (method, path, body, roles admitted)
ROUTES: list[tuple[str, str, dict[str, Any] | None, frozenset[str]]] = [
    ("get", "/api/auth/me", None, EVERYONE),
    ("post", "/api/chat", {"message": "物业费多少钱"}, frozenset({"resident"})),
    ("get", "/api/conversations", None, EVERYONE),
    ("get", "/api/conversations/00000000-0000-0000-0000-000000000000", None, EVERYONE),
    ("get", "/api/tickets", None, EVERYONE),
    ("get", "/api/tickets/GD20260101-000001", None, EVERYONE),
    ("post", "/api/tickets", {}, STAFF),
    ("post", "/api/tickets/GD20260101-000001/transition", {"to": "dispatched"}, STAFF),
    ("post", "/api/tickets/GD20260101-000001/assign", {"assignee": "李师傅"}, STAFF),
    ("post", "/api/tickets/GD20260101-000001/rating", {"score": 5}, frozenset({"resident"})),
    ("get", "/api/agent/queue", None, STAFF),
    ("get", "/api/agent/conversations", None, STAFF),
    ("post", "/api/agent/conversations/00000000-0000-0000-0000-000000000000/join", None, STAFF),
    ("post", "/api/agent/conversations/00000000-0000-0000-0000-000000000000/messages", {"text": "您好"}, STAFF),
    ("post", "/api/agent/conversations/00000000-0000-0000-0000-000000000000/release", {"close": False}, STAFF),
    ("post", "/api/tickets/GD20260101-000001/photos", None, EVERYONE),
    ("get", "/api/photos/" + "0" * 64, None, EVERYONE),
    ("post", "/api/agent/suggest", {"draft": "您好"}, STAFF),
    ("get", "/api/agent/pages", None, STAFF),
    ("post", "/api/agent/pages/GD20260101-000001/ack", None, STAFF),
    ("get", "/api/agent/callbacks", None, STAFF),
    ("post", "/api/agent/callbacks/GD20260101-000001", {"outcome": "unreachable"}, STAFF),
    ("post", "/api/agent/lint", {"text": "这个不归我管"}, STAFF | TRAINERS),
    ("post", "/api/triage", {"text": "电梯困人了"}, EVERYONE),
    ("get", "/api/kb/search?q=物业费", None, EVERYONE),
    ("get", "/api/kb/entries/POL-FEE-001", None, EVERYONE),
    ("post", "/api/kb/ingest", None, frozenset({"admin"})),
    ("get", "/api/kb/ingest", None, frozenset({"admin"})),
    ("post", "/api/kb/documents", None, frozenset({"admin"})),
    ("get", "/api/admin/oncall", None, frozenset({"admin"})),
    ("put", "/api/admin/oncall", {"base_version": 0, "roster": {"departments": {}}}, frozenset({"admin"})),
    ("get", "/api/dashboard", None, frozenset({"manager", "admin"})),
    ("get", "/api/quiz/scenarios", None, TRAINERS),
    ("post", "/api/quiz", {"title": "t", "count": 1, "assignees": ["agent"]}, TRAINERS),
    ("get", "/api/quiz", None, STAFF | TRAINERS),
    ("get", "/api/quiz/1", None, frozenset({"agent", "api-key"})),
    ("post", "/api/quiz/1/answers", {}, frozenset({"agent", "api-key"})),
    ("get", "/api/quiz/results/all", None, TRAINERS),
    ("post", "/api/chat/turns/999999/vote", {"vote": "down", "reason": "没用"}, frozenset({"resident"})),
    ("get", "/api/kb/votes", None, frozenset({"admin"})),
    ("get", "/api/kb/gaps", None, frozenset({"admin"})),
    ("post", "/api/agent/corrections", {"turn_id": 999999, "answer": "正确的答复是这样的"}, STAFF),
    ("get", "/api/kb/corrections", None, frozenset({"admin"})),
    ("post", "/api/kb/corrections/999999/approve", {}, frozenset({"admin"})),
    ("post", "/api/kb/corrections/999999/reject", {}, frozenset({"admin"})),
    ("get", "/api/kb/hittest?q=物业费", None, frozenset({"admin"})),
    ("get", "/api/kb/communities", None, EVERYONE),
    ("get", "/v1/models", None, EVERYONE),
    ("post", "/v1/chat/completions", {"model": "wuye", "messages": [{"role": "user", "content": "物业费"}]}, EVERYONE),
]


@pytest.fixture(scope="module")
def callers(tmp_path_factory: pytest.TempPathFactory, service) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("access")
    settings = Settings(_env_file=None, assistant={"database_url": f"sqlite:///{tmp / 'a.db'}"},
                        ingest={"upload_dir": tmp / "docs", "index_dir": tmp / "index",  # the admin's ingest
                                "kb_root": write_mini_kb(tmp / "kb")},                    # builds a tiny index
                        api={"sla_monitor": False, "login_rate": "10000/minute", "chat_rate": "10000/minute"})
    with TestClient(create_app(settings, assistant=service), raise_server_exceptions=False) as client:
        headers: dict[str, dict[str, str]] = {"anon": {}, "api-key": {"X-API-Key": "wuye-demo-key"}}
        for user in ("resident", "agent", "trainer", "manager", "admin"):
            r = client.post("/api/auth/login", json={"username": user, "password": "wuye-demo"})
            headers[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        client.cookies.clear()
        yield client, headers


@pytest.mark.parametrize(("method", "path", "body", "admitted"),
                         [pytest.param(*r, id=f"{r[0]} {r[1]}") for r in ROUTES])
def test_every_route_enforces_its_roles(callers, method: str, path: str, body: dict[str, Any] | None,  # type: ignore[no-untyped-def]
                                        admitted: frozenset[str]) -> None:
    client, headers = callers
    seen = {}
    for role in ROLES:
        kwargs: dict[str, Any] = {"headers": headers[role]}
        if body is not None:
            kwargs["json"] = body
        r = getattr(client, method)(path, **kwargs)
        seen[role] = r.status_code
        assert r.status_code != 500, f"{role}: {r.text[:300]}"
        if role == "anon":
            assert r.status_code == 401, f"anonymous got {r.status_code}"
        elif role in admitted:
            assert r.status_code not in (401, 403), f"{role} refused: {r.text[:200]}"
        else:
            assert r.status_code == 403, f"{role} got {r.status_code}: {r.text[:200]}"
    if path == "/api/kb/ingest" and method == "post":
        # wait for the admin's background ingest to finish so it cannot outlive the module
        import time

        for _ in range(600):
            if client.get(path, headers=headers["admin"]).json()["state"] != "running":
                break
            time.sleep(0.5)


def test_every_api_route_is_in_the_matrix(callers) -> None:  # type: ignore[no-untyped-def]
    """A new route must be added above with its roles, or this fails."""
    client, _ = callers
    # the WeChat Work callback is authenticated by WeChat Work's signature, not a login (tests/api/test_wecom.py)
    public = {"/healthz", "/readyz", "/api/auth/login", "/api/auth/logout", "/api/channels/wecom/callback"}
    listed = {p.split("?")[0] for _, p, _, _ in ROUTES}
    import re

    def matches(template: str) -> bool:
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        return any(re.fullmatch(pattern, p) for p in listed)

    spec = client.get("/openapi.json").json()["paths"]
    missing = [p for p in spec if (p.startswith(("/api", "/v1")) and p not in public and not matches(p))]
    assert not missing, f"routes without an access rule in the matrix: {missing}"
