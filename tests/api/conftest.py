"""An app on a fresh SQLite database with the real assistant, and logged-in clients per role."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    return Settings(_env_file=None, assistant={"database_url": database_url},
                    api={"sla_monitor": False, "login_rate": "1000/minute", "chat_rate": "1000/minute"})


@pytest.fixture
def app(app_settings: Settings, service):  # type: ignore[no-untyped-def]
    return create_app(app_settings, assistant=service)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def login(client: TestClient):  # type: ignore[no-untyped-def]
    """login("agent") → headers with that demo user's bearer token."""

    def _login(username: str) -> dict[str, str]:
        r = client.post("/api/auth/login", json={"username": username, "password": "wuye-demo"})
        assert r.status_code == 200, r.text
        client.cookies.clear()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return _login
