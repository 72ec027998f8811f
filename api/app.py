"""create_app(settings): the HTTP server's composition root. The lifespan builds and warms everything once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api import errors
from api.routes import (
    agent,
    auth,
    callbacks,
    chat,
    curation,
    dashboard,
    health,
    kb,
    oncall,
    openai,
    pages,
    photos,
    quiz,
    roster,
    tickets,
    triage,
    wecom,
)
from api.security import RateLimiter, hash_password, key_hash
from api.settings import Settings
from assistant.channel import ChannelAdapter
from assistant.courier import Courier
from assistant.monitor import SlaMonitor
from assistant.notify import notifiers
from assistant.paging import Pager
from assistant.photos import PhotoStore
from assistant.privacy import install_log_masking
from assistant.reindex import IngestJob
from assistant.retrieve import IndexWatcher
from assistant.service import AssistantService
from assistant.sla import local_zone
from assistant.store import accounts
from assistant.store.db import make_engine, make_sessionmaker, migrate, reader, serialize_startup
from assistant.updates import ResidentUpdates, quiet_hours
from assistant.wecom import WeComApi, WeComKf

log = logging.getLogger("wuye.api")
STATIC = Path(__file__).resolve().parent / "web" / "static"


def _limit_threads(n: int) -> None:
    """Cap the math threads of this worker so N workers do not oversubscribe the cores."""
    import faiss
    import torch

    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)


def create_app(settings: Settings, *, assistant: AssistantService | None = None) -> FastAPI:
    """Build the application.

    Args:
        settings: The composed settings (validated; production refuses default secrets at construction).
        assistant: A prebuilt assistant (tests); by default one is built from the settings and warmed.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.api.torch_threads:
            _limit_threads(settings.api.torch_threads)
        db = settings.assistant
        engine = make_engine(db.database_url, pool_size=db.db_pool_size, max_overflow=db.db_max_overflow,
                             pool_timeout=db.db_pool_timeout)
        migrate(engine)
        sessions = make_sessionmaker(engine)
        read_sessions = make_sessionmaker(reader(engine))
        service = assistant or AssistantService.from_settings(settings.ingest, settings.assistant)
        service.warm_up()
        if settings.api.mode == "development":
            with sessions.begin() as session:
                serialize_startup(session)
                password = settings.api.demo_password.get_secret_value()
                accounts.ensure_demo(session, password_hash=hash_password(password),
                                     api_key_hash=key_hash(settings.api.demo_api_key.get_secret_value()),
                                     communities=tuple(c.meta.id for c in service.kb.communities))
        pager = Pager(sessions, service.rules.oncall, notifiers(settings.assistant.notify),
                      zone=local_zone(service.kb.values),
                      clock=lambda: datetime.now(UTC))
        channels: dict[str, ChannelAdapter] = {}
        wecom_settings = settings.api.wecom
        if wecom_settings.enabled:  # one client and one cached token per worker, shared with the callback route
            app.state.wecom_kf = channels["wecom"] = WeComKf(WeComApi(
                corp_id=wecom_settings.corp_id, secret=wecom_settings.secret, base_url=wecom_settings.base_url,
                client=httpx.Client(timeout=wecom_settings.timeout)))
        courier = Courier(sessions, channels, clock=lambda: datetime.now(UTC))
        monitor = SlaMonitor(sessions, service.rules, interval=settings.assistant.sla_interval, pager=pager,
                             courier=courier)
        if settings.api.sla_monitor:
            monitor.start()
        watcher = IndexWatcher(service.retriever, interval=settings.api.index_watch_interval)
        watcher.start()
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = sessions
        app.state.read_sessions = read_sessions
        app.state.write_gate = anyio.Semaphore(1) if engine.dialect.name == "sqlite" else None
        app.state.assistant = service
        app.state.monitor = monitor
        app.state.updates = ResidentUpdates(service, quiet=quiet_hours(service.kb.values,
                                                                       settings.assistant.quiet_hours))
        app.state.limiter = RateLimiter()
        app.state.ingest_job = IngestJob()
        app.state.photos = PhotoStore(settings.api.photo_dir, max_bytes=settings.api.photo_max_mb * 1024 * 1024)
        try:
            yield
        finally:
            watcher.stop()
            monitor.stop()
            engine.dispose()

    app = FastAPI(title="wuye — 物业客服知识库助手", version="0.1.0", lifespan=lifespan,
                  description="Resident chat with cited answers, tickets with SLA clocks, agent assist, "
                              "knowledge search and an OpenAI-compatible endpoint.")
    errors.install(app)
    install_log_masking()
    if settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"])

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        raw = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
        if b"%00" in raw or b"\x00" in raw:
            return errors.json_error(400, "bad_request", "the request URL contains a NUL character")
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers.setdefault("Content-Security-Policy",
                                        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                        "script-src 'self'; frame-ancestors 'none'")
        return response

    for module in (health, auth, chat, tickets, photos, agent, oncall, callbacks, wecom, kb, curation, roster, triage,
                   dashboard, quiz, openai, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
