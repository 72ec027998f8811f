"""Liveness and readiness."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.schemas import HealthOut, ReadyOut
from assistant.store.db import reader

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut()


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut, "description": "Not ready"}})
def readyz(request: Request) -> JSONResponse:
    """Index loaded, database reachable, and the model the index was built with (503 when not ready)."""
    state = request.app.state
    checks: dict[str, object] = {}
    ok = True
    try:
        index = state.assistant.retriever.index
        checks["index"] = {"version": index.version, "chunks": index.manifest.n_chunks,
                           "model": index.manifest.model_id, "dimension": index.manifest.dimension,
                           "index_type": index.manifest.index_type.value}
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure as not ready
        ok = False
        checks["index"] = f"not loaded: {exc}"
    try:
        with reader(state.engine).connect() as conn:  # never waits for SQLite's write lock
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        if state.settings.api.sla_monitor:
            checks["sla_monitor"] = "leader" if state.monitor.is_leader() else "standby"
    except SQLAlchemyError as exc:
        ok = False
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
    body = ReadyOut(status="ready" if ok else "not ready", worker=os.getpid(), checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ok else 503)
