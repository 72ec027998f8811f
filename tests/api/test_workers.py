"""Scale-out: two `wuye serve` workers sharing one PostgreSQL database and one index directory."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from assistant.store.tables import Lease, Ticket, TicketEvent
from tests.server import REPO, ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

NEW_FAQ = """entries:
  - id: FAQ-TEST-901
    question: 小区里能不能放飞无人机？
    paraphrases: [小区上空可以飞无人机吗, 在楼顶玩航拍飞机行不行, 无人机航拍要跟物业报备吗]
    answer: 为保障高空和住户隐私安全，小区内禁止放飞无人机，如需航拍请提前向物业服务中心报备。
    basis: [POL-PUBLIC-001#2]
    department: 安保部
    tags: [公共区域, 无人机]
"""


@pytest.fixture
def cluster(postgres, real_index_dir: Path, model_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two workers on PostgreSQL with their own copy of the KB and of the index (the test re-ingests)."""
    kb = shutil.copytree(REPO / "kb", tmp_path / "kb")
    index = shutil.copytree(real_index_dir, tmp_path / "index", symlinks=True)
    url = postgres.create_database()
    server = ServerProcess({"WUYE_INGEST__KB_ROOT": str(kb), "WUYE_INGEST__INDEX_DIR": str(index),
                            "WUYE_INGEST__EMBEDDING_MODEL": str(model_dir), "WUYE_ASSISTANT__DATABASE_URL": url,
                            "WUYE_API__INDEX_WATCH_INTERVAL": "0.5", "WUYE_ASSISTANT__SLA_INTERVAL": "1"},
                           workers=2, log=tmp_path / "server.log")
    server.start()
    yield server, kb, url
    server.stop()


def _readiness(base: str, n: int) -> list[dict[str, object]]:
    """``n`` concurrent /readyz calls on fresh connections, so both workers answer some."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: httpx.get(f"{base}/readyz", timeout=30).json(), range(n)))


def test_two_workers_share_numbers_lead_once_and_pick_up_a_reingest(cluster) -> None:  # type: ignore[no-untyped-def]
    server, kb, url = cluster
    headers = {"resident": server.login("resident"), "resident2": server.login("resident2")}

    # 1. tickets created concurrently through both workers: each stored once, numbers unique
    def report(i: int) -> str:
        who = "resident" if i % 2 else "resident2"
        r = httpx.post(f"{server.base}/api/chat", headers=headers[who], timeout=60,
                       json={"message": f"{i % 9 + 1}栋{i % 3 + 1}单元{100 + i}厨房水龙头漏水，麻烦派人修一下"})
        assert r.status_code == 200, r.text
        return str(r.json()["ticket_number"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        numbers = list(pool.map(report, range(36)))
    assert all(numbers) and len(set(numbers)) == 36
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(Ticket.id))) == 36
        assert conn.scalar(select(func.count(func.distinct(Ticket.number)))) == 36
        submitted = (TicketEvent.from_status == "draft") & (TicketEvent.to_status == "submitted")  # not page events
        assert conn.scalar(select(func.count(TicketEvent.id)).where(submitted)) == 36

    # 2. both workers serve; exactly one of them runs the SLA monitor
    states = _readiness(server.base, 40)
    workers = {s["worker"] for s in states}
    assert len(workers) == 2, f"only {workers} answered"
    leaders = {s["worker"] for s in states if s["checks"]["sla_monitor"] == "leader"}  # type: ignore[index]
    assert len(leaders) == 1
    with engine.connect() as conn:
        holders = conn.execute(select(Lease.holder)).scalars().all()
    assert len(holders) == 1 and f":{leaders.pop()}:" in holders[0]

    # 3. a re-ingest through one worker reaches the other without a restart
    old = {s["checks"]["index"]["version"] for s in states}  # type: ignore[index]
    assert len(old) == 1
    (kb / "content" / "faq" / "zz-test.yaml").write_text(NEW_FAQ, encoding="utf-8")
    admin = server.login("admin")
    r = httpx.post(f"{server.base}/api/kb/ingest", headers=admin, timeout=30)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 240
    while True:
        states = _readiness(server.base, 16)
        versions = {s["worker"]: s["checks"]["index"]["version"] for s in states}  # type: ignore[index]
        if len(versions) == 2 and not (set(versions.values()) & old):
            break
        job = httpx.get(f"{server.base}/api/kb/ingest", headers=admin, timeout=30).json()
        assert job["state"] != "failed", job["message"]
        assert time.monotonic() < deadline, f"workers still on the old index: {versions}"
        time.sleep(1)
    resident = headers["resident"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(lambda _: httpx.get(f"{server.base}/api/kb/search", headers=resident, timeout=30,
                                                  params={"q": "小区能放无人机吗"}).json(), range(8)))
    assert all(f["hits"][0]["entry_id"] == "FAQ-TEST-901" for f in found)
    engine.dispose()
