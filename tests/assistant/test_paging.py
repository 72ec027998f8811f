"""On-call paging on a real database: who is paged, when the next round goes out, acknowledgement, restarts,
several workers, and the HTTP notifiers against a local stand-in of the providers."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from sqlalchemy import select

from assistant.monitor import SlaMonitor
from assistant.notify import NotifyError, PageMessage, WebhookNotifier, WeComNotifier, notifiers
from assistant.paging import Pager
from assistant.settings import NotifySettings
from assistant.sla import deadlines_for
from assistant.store import pages as store
from assistant.store import repository as repo
from assistant.store.tables import Page, TicketEvent
from assistant.tickets import TicketStatus
from kb.schema import Category, OnCall, Urgency
from tests.server import free_port

ZONE = ZoneInfo("Asia/Shanghai")  # the ManualClock starts at 17:00 local: the day shift is on duty


class Recorder:
    """A console-channel notifier that remembers what it was asked to send (and can fail on demand)."""

    channel = "console"

    def __init__(self) -> None:
        self.sent: list[PageMessage] = []
        self.fail = False

    def send(self, message: PageMessage) -> None:
        if self.fail:
            raise NotifyError("console: stand-in failure")
        self.sent.append(message)


def _ticket(sessions, rules, now, *, urgency=Urgency.LEVEL_1, department="工程部") -> str:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        t = repo.create_ticket(
            s, actor="assistant", now=now,
            deadlines=deadlines_for(rules, urgency=urgency, category=Category.ENGINEERING, kinds=(), created_at=now),
            resident_name="王女士", phone="13912345678", address="3栋2单元501室", description="厨房水管爆了，水喷得到处都是",
            category=Category.ENGINEERING.value, urgency=int(urgency), department=department, route="水电")
        return t.number or ""


def _pager(sessions, real_kb, clock, recorder):  # type: ignore[no-untyped-def]
    return Pager(sessions, real_kb.rules.oncall, {"console": recorder}, zone=ZONE, clock=clock)


def _paged(sessions) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return [(p.attempt, p.person) for p in s.scalars(select(Page).order_by(Page.id))]


def test_level1_pages_the_engineer_on_duty_then_the_next_person_and_the_manager_until_acknowledged(
        sessions, real_kb, clock) -> None:
    number = _ticket(sessions, real_kb.rules, clock())
    recorder = Recorder()
    pager = _pager(sessions, real_kb, clock, recorder)
    assert pager.run_once().written == 1
    assert _paged(sessions) == [(1, "李工（白班）")]
    assert number in recorder.sent[0].text and "5分钟内" in recorder.sent[0].text
    clock.advance(minutes=4, seconds=59)
    assert pager.run_once().written == 0  # still inside the five minutes to acknowledge
    clock.advance(seconds=1)
    assert pager.run_once().written == 2  # nobody answered: the backup and the duty manager
    assert _paged(sessions)[1:] == [(2, "赵工（后备）"), (2, "周经理（值班经理）")]
    clock.advance(minutes=5)
    pager.run_once()
    assert _paged(sessions)[3:] == [(3, "王工（夜班）"), (3, "周经理（值班经理）")]
    with sessions.begin() as s:
        assert store.acknowledge(s, ticket=repo.get_ticket(s, number=number), by="李工", now=clock()) == 5
    clock.advance(minutes=30)
    assert pager.run_once().written == 0
    with sessions() as s:
        notes = [e.note or "" for e in repo.get_ticket(s, number=number).events]
    assert sum("呼叫" in n and "第" in n for n in notes) == 5
    assert any("李工已确认呼叫" in n for n in notes)


def test_night_shift_is_paged_at_night(sessions, real_kb, clock) -> None:
    clock.advance(hours=6)  # 23:00 local
    _ticket(sessions, real_kb.rules, clock())
    _pager(sessions, real_kb, clock, Recorder()).run_once()
    assert _paged(sessions) == [(1, "王工（夜班）")]


def test_a_restarted_server_carries_on_and_pages_each_round_once(sessions, real_kb, clock) -> None:
    _ticket(sessions, real_kb.rules, clock())
    _pager(sessions, real_kb, clock, Recorder()).run_once()
    clock.advance(minutes=6)
    restarted = [_pager(sessions, real_kb, clock, Recorder()) for _ in range(2)]  # state lives in the database
    assert [p.run_once().written for p in restarted] == [2, 0]
    assert [a for a, _ in _paged(sessions)] == [1, 2, 2]


def test_a_page_written_but_not_sent_before_a_crash_is_sent_by_the_next_pass(sessions, real_kb, clock) -> None:
    number = _ticket(sessions, real_kb.rules, clock())
    with sessions.begin() as s:
        t = repo.get_ticket(s, number=number)
        store.add(s, ticket=t, attempt=1, person="李工（白班）", phone="13900000001", channel="console", address=None,
                  reason="level1", message="x", now=clock())  # the worker died here, before sending
    recorder = Recorder()
    result = _pager(sessions, real_kb, clock, recorder).run_once()
    assert (result.written, result.delivered) == (0, 1)
    assert [m.person for m in recorder.sent] == ["李工（白班）"]


def test_a_failed_delivery_is_recorded_and_the_next_round_still_goes_out(sessions, real_kb, clock) -> None:
    _ticket(sessions, real_kb.rules, clock())
    recorder = Recorder()
    recorder.fail = True
    pager = _pager(sessions, real_kb, clock, recorder)
    assert pager.run_once().failed == 1
    with sessions() as s:
        page = s.scalars(select(Page)).one()
        assert page.delivered is False and "stand-in failure" in (page.error or "")
    recorder.fail = False
    clock.advance(minutes=5)
    assert pager.run_once().delivered == 2


def test_two_workers_page_once(sessions, real_kb, clock) -> None:
    _ticket(sessions, real_kb.rules, clock())
    recorders = [Recorder() for _ in range(3)]
    workers = [SlaMonitor(sessions, real_kb.rules, clock=clock, interval=5,
                          pager=_pager(sessions, real_kb, clock, r)) for r in recorders]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda w: w.tick(), workers))
    assert _paged(sessions) == [(1, "李工（白班）")]
    assert sum(len(r.sent) for r in recorders) == 1


def test_a_resolved_ticket_is_not_paged_and_a_breached_one_is(sessions, real_kb, clock) -> None:
    number = _ticket(sessions, real_kb.rules, clock())
    with sessions.begin() as s:
        repo.transition(s, number=number, target=TicketStatus.DISPATCHED, actor="a", now=clock(), assignee="李工")
        repo.transition(s, number=number, target=TicketStatus.IN_PROGRESS, actor="a", now=clock())
        repo.transition(s, number=number, target=TicketStatus.RESOLVED, actor="a", now=clock(), note="已关阀更换管段",
                        photos=["a" * 64])
    late = _ticket(sessions, real_kb.rules, clock(), urgency=Urgency.LEVEL_3, department="安保部")
    monitor = SlaMonitor(sessions, real_kb.rules, clock=clock, pager=_pager(sessions, real_kb, clock, Recorder()))
    assert monitor.run_once().pages == 0  # level 3, not yet late
    clock.advance(hours=25)
    assert monitor.run_once().pages == 1  # its 24-hour deadline breached: the guard on duty (18:00) is paged
    with sessions() as s:
        pages = s.scalars(select(Page)).all()
        assert [(p.ticket.number, p.reason, p.person) for p in pages] == [(late, "breach", "孙队长（白班）")]


def test_an_sla_warning_pages_the_person_on_duty_until_the_clock_stops(sessions, real_kb, clock) -> None:
    number = _ticket(sessions, real_kb.rules, clock(), urgency=Urgency.LEVEL_3)  # a 24-hour clock, warned at 80 %
    recorder = Recorder()
    monitor = SlaMonitor(sessions, real_kb.rules, clock=clock, pager=_pager(sessions, real_kb, clock, recorder))
    clock.advance(hours=19)  # 79 %: nothing yet
    assert (monitor.run_once().warnings, _paged(sessions)) == (0, [])
    clock.advance(minutes=15)  # 80 % (12:15 local the next day): the warning pages the engineer on duty
    result = monitor.run_once()
    assert (result.warnings, result.breaches, result.pages) == (1, 0, 1)
    assert _paged(sessions) == [(1, "李工（白班）")]
    assert recorder.sent[0].text.startswith(f"【即将超时工单】{number}")
    with sessions() as s:
        assert [p.reason for p in s.scalars(select(Page))] == ["warning"]
    clock.advance(minutes=5)  # nobody acknowledged: the backup and the duty manager, like any page
    assert monitor.run_once().pages == 2
    with sessions.begin() as s:
        for to, extra in ((TicketStatus.DISPATCHED, {"assignee": "李工"}), (TicketStatus.IN_PROGRESS, {}),
                          (TicketStatus.RESOLVED, {"note": "已修好", "photos": ["a" * 64]})):
            repo.transition(s, number=number, target=to, actor="a", now=clock(), **extra)  # type: ignore[arg-type]
    clock.advance(minutes=5)
    assert monitor.run_once().pages == 0  # the clock stopped: no more rounds


def test_roster_rejects_an_empty_department_and_a_bad_phone() -> None:
    with pytest.raises(ValueError, match="nobody on the roster"):
        OnCall.model_validate({"departments": {"工程部": []}})
    with pytest.raises(ValueError, match="phone"):
        OnCall.model_validate({"departments": {"工程部": [{"name": "李工", "phone": "12345"}]}})
    with pytest.raises(ValueError, match="hours"):
        OnCall.model_validate({"departments": {"工程部": [{"name": "李工", "phone": "13900000001",
                                                         "hours": "8点-20点"}]}})


# ---------------------------------------------------------------- providers, against a local stand-in

class StandIn:
    """WeChat Work's gettoken and message/send, and a webhook receiver, on a real local HTTP server.

    It checks the request format as the real services do and records what it accepted.
    """

    def __init__(self, *, secret: str, webhook_key: str) -> None:
        self.messages: list[dict] = []
        self.hooks: list[dict] = []
        self.tokens_issued = 0
        app = FastAPI()

        @app.get("/cgi-bin/gettoken")
        def gettoken(corpid: str, corpsecret: str) -> dict:
            if corpid != "ww-test-corp" or corpsecret != secret:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            self.tokens_issued += 1
            return {"errcode": 0, "errmsg": "ok", "access_token": f"tok-{self.tokens_issued}", "expires_in": 7200}

        @app.post("/cgi-bin/message/send")
        async def send(request: Request, access_token: str) -> dict:
            if access_token != f"tok-{self.tokens_issued}":
                return {"errcode": 42001, "errmsg": "access_token expired"}
            body = await request.json()
            if body.get("msgtype") != "text" or not body.get("touser") or not isinstance(body.get("agentid"), int) \
                    or not body.get("text", {}).get("content"):
                return {"errcode": 40008, "errmsg": "invalid message type"}
            self.messages.append(body)
            return {"errcode": 0, "errmsg": "ok"}

        @app.post("/hook")
        async def hook(request: Request) -> JSONResponse:
            raw = await request.body()
            expected = "sha256=" + hmac.new(webhook_key.encode(), raw, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(request.headers.get("X-Wuye-Signature", ""), expected):
                return JSONResponse({"error": "bad signature"}, status_code=403)
            self.hooks.append(json.loads(raw))
            return JSONResponse({"ok": True})

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


MESSAGE = PageMessage(7, "GD20261127-000001", "李工（白班）", "13900000001", "ligong", "【一级（人身安全）工单】…")


def test_wecom_application_message_reaches_the_stand_in_and_renews_an_expired_token(caplog) -> None:
    with StandIn(secret="s3cret-app", webhook_key="k") as api:
        settings = NotifySettings(wecom_base_url=api.base, wecom_corp_id="ww-test-corp", wecom_agent_id=1000002,
                                  wecom_secret=SecretStr("s3cret-app"))
        wecom = notifiers(settings)["wecom"]
        wecom.send(MESSAGE)
        assert api.messages[-1] == {"touser": "ligong", "msgtype": "text", "agentid": 1000002,
                                    "text": {"content": MESSAGE.text}}
        api.tokens_issued += 1  # the provider rotated the token: the next send gets 42001 and fetches a new one
        wecom.send(MESSAGE)
        assert len(api.messages) == 2


def test_wecom_with_a_wrong_secret_fails_without_leaking_it(caplog) -> None:
    with StandIn(secret="right-secret", webhook_key="k") as api:
        settings = NotifySettings(wecom_base_url=api.base, wecom_corp_id="ww-test-corp", wecom_agent_id=1,
                                  wecom_secret=SecretStr("wrong-secret-value"))
        with caplog.at_level(logging.DEBUG), pytest.raises(NotifyError) as err:
            WeComNotifier(settings, __import__("httpx").Client(timeout=5)).send(MESSAGE)
        assert "40001" in str(err.value)
        assert "wrong-secret-value" not in str(err.value) and "wrong-secret-value" not in caplog.text


def test_webhook_is_signed_and_a_wrong_key_is_refused() -> None:
    import httpx

    with StandIn(secret="x", webhook_key="hook-key") as api:
        good = NotifySettings(webhook_url=f"{api.base}/hook", webhook_secret=SecretStr("hook-key"))
        WebhookNotifier(good, httpx.Client(timeout=5)).send(MESSAGE)
        assert api.hooks[-1]["ticket"] == MESSAGE.ticket and api.hooks[-1]["person"] == MESSAGE.person
        bad = NotifySettings(webhook_url=f"{api.base}/hook", webhook_secret=SecretStr("other"))
        with pytest.raises(NotifyError, match="HTTP 403"):
            WebhookNotifier(bad, httpx.Client(timeout=5)).send(MESSAGE)


def test_a_page_through_wecom_end_to_end(sessions, real_kb, clock) -> None:
    roster = OnCall.model_validate({"ack_minutes": 5, "departments": {"工程部": [
        {"name": "李工", "phone": "13900000001", "channel": "wecom", "wecom_user": "ligong"}]}})
    _ticket(sessions, real_kb.rules, clock())
    with StandIn(secret="app-secret", webhook_key="k") as api:
        settings = NotifySettings(wecom_base_url=api.base, wecom_corp_id="ww-test-corp", wecom_agent_id=1000002,
                                  wecom_secret=SecretStr("app-secret"))
        result = Pager(sessions, roster, notifiers(settings), zone=ZONE, clock=clock).run_once()
        assert (result.written, result.delivered) == (1, 1)
        assert api.messages[0]["touser"] == "ligong" and "一级" in api.messages[0]["text"]["content"]
    with sessions() as s:
        assert s.scalars(select(TicketEvent).where(TicketEvent.actor == "pager")).one().note.startswith("呼叫李工")
