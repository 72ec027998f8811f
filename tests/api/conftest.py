"""An app on a fresh SQLite database with the real assistant, and logged-in clients per role."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings


@pytest.fixture
def app_settings(database_url: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    # quiet hours off: these tests move tickets at the wall clock's time and expect the resident to hear it at
    # once (tests/assistant/test_updates.py holds updates through quiet hours on a controllable clock)
    return Settings(_env_file=None, assistant={"database_url": database_url, "quiet_hours": "off"},
                    api={"sla_monitor": False, "login_rate": "1000/minute", "chat_rate": "1000/minute",
                         "photo_dir": str(tmp_path / "photos")})


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


@pytest.fixture
def cli(monkeypatch, real_index_dir, model_dir, tmp_path):  # type: ignore[no-untyped-def]
    """run(*args) → the `wuye` command in process, on the session's real index and a fresh database."""
    from typer.testing import CliRunner

    from api.cli import app
    from api.settings import get_settings

    monkeypatch.setenv("WUYE_INGEST__INDEX_DIR", str(real_index_dir))
    monkeypatch.setenv("WUYE_INGEST__EMBEDDING_MODEL", str(model_dir))
    monkeypatch.setenv("WUYE_ASSISTANT__DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    yield run
    get_settings.cache_clear()
