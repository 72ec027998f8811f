"""Concurrency and faults against the real server process: 50 concurrent clients, a kill in the middle of
ticket transitions, and the database going away and coming back. SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, selectinload

from assistant.store.tables import DeadlineRow, Ticket, TicketEvent, Turn
from tests.server import ServerProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 50
STEPS = ({"to": "dispatched", "assignee": "张师傅"}, {"to": "in_progress"},
         {"to": "resolved", "note": "更换灯泡，已恢复照明", "photos": ["after.jpg"]})


def _server(url: str, real_index_dir: Path, model_dir: Path, tmp_path: Path, **extra: str) -> ServerProcess:
    return ServerProcess({"WUYE_INGEST__INDEX_DIR": str(real_index_dir), "WUYE_INGEST__EMBEDDING_MODEL": str(model_dir),
                          "WUYE_ASSISTANT__DATABASE_URL": url, "WUYE_ASSISTANT__SLA_INTERVAL": "1", **extra},
                         log=tmp_path / "server.log")


def test_fifty_concurrent_clients_lose_nothing(database_url: str, real_index_dir: Path, model_dir: Path,
                                               tmp_path: Path) -> None:
    server = _server(database_url, real_index_dir, model_dir, tmp_path).start()
    try:
        residents = [server.login("resident"), server.login("resident2")]
        agent = server.login("agent")

        def client(i: int) -> list[int]:
            me = residents[i % 2]
            with httpx.Client(base_url=server.base, timeout=120) as http:
                report = http.post("/api/chat", headers=me,
                                   json={"message": f"{i % 7 + 1}栋{i % 3 + 1}单元{200 + i}室卫生间地漏堵了，水排不下去"})
                question = http.post("/api/chat", headers=me, json={"message": "物业费可以在网上交吗"})
                number = report.json().get("ticket_number") if report.status_code == 200 else None
                moved = http.post(f"/api/tickets/{number}/transition", headers=agent,
                                  json={"to": "dispatched", "assignee": f"师傅{i}"})
                listed = http.get("/api/tickets", headers=me)
                return [report.status_code, question.status_code, moved.status_code, listed.status_code]

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            statuses = [s for r in pool.map(client, range(CLIENTS)) for s in r]
        assert len(statuses) == 4 * CLIENTS
        assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    finally:
        server.stop()
    engine = create_engine(database_url)
    with Session(engine) as s:
        tickets = s.scalars(select(Ticket).options(selectinload(Ticket.events), selectinload(Ticket.deadlines))).all()
        assert len(tickets) == CLIENTS and len({t.number for t in tickets}) == CLIENTS
        for t in tickets:
            moves = [e.to_status for e in sorted(t.events, key=lambda e: e.id) if e.from_status != e.to_status]
            assert moves == ["submitted", "dispatched"]  # (pages to people on call are events without a move)
            assert t.status == "dispatched" and t.deadlines
        assert s.scalar(select(func.count(Turn.id)).where(Turn.speaker != "update")) == 2 * CLIENTS
        assert s.scalar(select(func.count(Turn.id)).where(Turn.speaker == "update")) == CLIENTS  # "dispatched"
    engine.dispose()


def _consistent(url: str) -> dict[str, Any]:
    """Check every ticket against its audit trail; return the deadlines (ticket, key) → due time."""
    engine = create_engine(url)
    with Session(engine) as s:
        tickets = s.scalars(select(Ticket).options(selectinload(Ticket.events), selectinload(Ticket.deadlines))).all()
        for t in tickets:
            events = sorted(t.events, key=lambda e: e.id)
            assert events and events[-1].to_status == t.status, f"{t.number}: status {t.status} vs audit trail"
            for before, after in zip(events, events[1:], strict=False):
                assert after.from_status == before.to_status, f"{t.number}: broken audit chain"
            reached = {e.to_status for e in events}
            for d in t.deadlines:
                if d.met_at is not None:
                    assert d.met_by in reached, f"{t.number}: {d.key} met without reaching {d.met_by}"
        due = {(d.ticket_id, d.key): d.due_at for d in s.scalars(select(DeadlineRow))}
        n_events = s.scalar(select(func.count(TicketEvent.id)))
    engine.dispose()
    return {"due": due, "tickets": len(tickets), "events": n_events}


def test_killed_mid_transition_the_database_stays_consistent_and_the_monitor_resumes(
        database_url: str, real_index_dir: Path, model_dir: Path, tmp_path: Path) -> None:
    server = _server(database_url, real_index_dir, model_dir, tmp_path).start()
    try:
        _kill_and_restart(server, database_url)
    finally:
        server.kill()


def _kill_and_restart(server: ServerProcess, database_url: str) -> None:
    agent = server.login("agent")
    numbers = []
    for i in range(12):
        r = httpx.post(f"{server.base}/api/tickets", headers=agent, timeout=60,
                       json={"resident_name": f"住户{i}", "phone": f"1391234{i:04d}", "address": f"6栋2单元{300 + i}室",
                             "description": "客厅吊灯不亮了"})
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    before = _consistent(database_url)

    stop = threading.Event()
    done: list[int] = []

    def work(number: str) -> None:
        with httpx.Client(base_url=server.base, headers=agent, timeout=30) as http:
            for step in STEPS:
                if stop.is_set():
                    return
                try:
                    if http.post(f"/api/tickets/{number}/transition", json=step).status_code == 200:
                        done.append(1)
                except httpx.HTTPError:
                    return  # the server died under us

    threads = [threading.Thread(target=work, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    time.sleep(0.4)
    server.kill()  # SIGKILL while transitions are in flight
    stop.set()
    for t in threads:
        t.join(timeout=60)

    after = _consistent(database_url)
    assert after["tickets"] == 12
    assert {k: after["due"].get(k) for k in before["due"]} == before["due"]  # no deadline lost or moved
    assert after["events"] >= before["events"] + len(done)  # every acknowledged transition was kept

    server.start()  # restart on the same database
    state = server.wait_ready()
    deadline = time.monotonic() + 60
    while state["checks"]["sla_monitor"] != "leader":  # type: ignore[index]
        assert time.monotonic() < deadline, "the SLA monitor did not resume after the restart"
        time.sleep(1)
        state = server.wait_ready()
    for number in numbers:  # every ticket can still be driven to the end
        detail = httpx.get(f"{server.base}/api/tickets/{number}", headers=agent, timeout=30).json()
        order = ["submitted", "dispatched", "in_progress", "resolved"]
        for body in STEPS[order.index(detail["status"]):]:
            r = httpx.post(f"{server.base}/api/tickets/{number}/transition", headers=agent, json=body, timeout=30)
            assert r.status_code == 200, r.text
    server.stop()
    final = _consistent(database_url)
    assert {k: final["due"].get(k) for k in before["due"]} == before["due"]
    assert len(final["due"]) > len(before["due"])  # resolving started the callback clocks


@pytest.mark.postgres
def test_database_outage_fails_fast_with_503_and_recovers(real_index_dir: Path, model_dir: Path, tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    from tests.pg import PostgresServer

    pg = PostgresServer().init()  # its own cluster: this test stops it
    try:
        server = _server(pg.create_database(), real_index_dir, model_dir, tmp_path).start()
        request.addfinalizer(server.kill)
        resident = server.login("resident")
        ask = {"message": "物业费怎么交"}
        assert httpx.post(f"{server.base}/api/chat", headers=resident, json=ask, timeout=30).status_code == 200

        pg.stop()
        ready = httpx.get(f"{server.base}/readyz", timeout=30)
        assert ready.status_code == 503 and "unreachable" in ready.json()["checks"]["database"]
        for _ in range(3):
            r = httpx.post(f"{server.base}/api/chat", headers=resident, json=ask, timeout=15)
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "database_unavailable"
        assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200  # alive, just not ready

        pg.start()
        server.wait_ready(timeout=60)
        r = httpx.post(f"{server.base}/api/chat", headers=resident, json=ask, timeout=30)
        assert r.status_code == 200 and r.json()["reply"]
        server.stop()
    finally:
        pg.destroy()


class PageReceiver:
    """A webhook endpoint on a real local HTTP server: checks the HMAC signature and records every page it gets."""

    def __init__(self, key: str) -> None:
        self.pages: list[dict[str, Any]] = []
        app = FastAPI()

        @app.post("/pages")
        async def page(request: Request) -> JSONResponse:
            raw = await request.body()
            expected = "sha256=" + hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(request.headers.get("X-Wuye-Signature", ""), expected):
                return JSONResponse({"error": "bad signature"}, status_code=403)
            self.pages.append(json.loads(raw))
            return JSONResponse({"ok": True})

        port = free_port()
        self.url = f"http://127.0.0.1:{port}/pages"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def who(self, number: str) -> list[str]:
        return [p["person"] for p in self.pages if p["ticket"] == number]

    def wait_for(self, number: str, count: int, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.who(number)) < count:
            assert time.monotonic() < deadline, f"pages for {number} so far: {self.who(number)}"
            time.sleep(0.3)
        return self.who(number)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


def test_killed_mid_escalation_the_restarted_server_resumes_the_paging_once(real_index_dir: Path, model_dir: Path,
                                                                           tmp_path: Path) -> None:
    """A level-1 page goes out, nobody acknowledges, the server is SIGKILLed before the next round: the restarted
    server (same SQLite file) sends the next round at its time, once, and never sends the first one again."""
    receiver = PageReceiver("hook-key")
    server = _server(f"sqlite:///{tmp_path / 'paging.db'}", real_index_dir, model_dir, tmp_path,
                     WUYE_ASSISTANT__NOTIFY__WEBHOOK_URL=receiver.url,
                     WUYE_ASSISTANT__NOTIFY__WEBHOOK_SECRET="hook-key").start()
    try:
        admin = server.login("admin")
        current = httpx.get(f"{server.base}/api/admin/oncall", headers=admin, timeout=30).json()
        people = [{"name": "甲工", "phone": "13900000101", "channel": "webhook"},
                  {"name": "乙工", "phone": "13900000102", "channel": "webhook"}]
        roster = {"ack_minutes": 1, "duty_manager": {"name": "丙经理", "phone": "13900000109", "channel": "webhook"},
                  "departments": {d: people for d in current["roster"]["departments"]}}
        r = httpx.put(f"{server.base}/api/admin/oncall", headers=admin, timeout=30,
                      json={"base_version": current["version"], "roster": roster})
        assert r.status_code == 200, r.text
        r = httpx.post(f"{server.base}/api/chat", headers=server.login("resident"), timeout=60,
                       json={"message": "家里燃气味很大，6栋1单元302，周敏13877776666"})
        number = r.json()["ticket_number"]
        assert number and r.json()["urgency"] == 1, r.text
        assert receiver.wait_for(number, 1, timeout=30) == ["甲工"]  # round 1, at once
        filed = time.monotonic()

        server.kill()  # SIGKILL: round 2 (the backup and the manager) is due a minute after round 1
        server.start()  # same database; the new process takes the monitor's lease once the old one expires
        assert receiver.who(number).count("甲工") == 1  # the restart did not send round 1 again
        paged = receiver.wait_for(number, 3, timeout=120)
        assert time.monotonic() - filed >= 55  # not before its time
        time.sleep(5)  # five more passes of the monitor
        assert receiver.who(number) == paged and paged[0] == "甲工" and sorted(paged[1:]) == ["丙经理", "乙工"]
        agent = server.login("agent")
        pages = httpx.get(f"{server.base}/api/agent/pages", headers=agent, timeout=30).json()
        assert sorted((p["attempt"], p["person"], p["delivered"]) for p in pages if p["ticket_number"] == number) == [
            (1, "甲工", True), (2, "丙经理", True), (2, "乙工", True)]
        assert httpx.post(f"{server.base}/api/agent/pages/{number}/ack", headers=agent,
                          timeout=30).json()["acknowledged"] == 3
    finally:
        server.kill()
        receiver.close()
