"""Dashboard data for managers: the seed's monthly analysis (6.1) per day, week or month."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter

from api.deps import Manager, SessionDep
from assistant.store.analytics import dashboard

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


@router.get("")
def data(session: SessionDep, _: Manager, period: Literal["day", "week", "month"] = "day") -> dict[str, Any]:
    """Tickets by category/urgency/status, SLA compliance, median times, repeat rate, satisfaction."""
    return dashboard(session, period=period, now=datetime.now(UTC))
