"""Dashboard data for managers: the seed's monthly analysis (6.1) per day, week or month."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter

from api.deps import Manager, SessionDep
from api.schemas_tickets import DashboardOut
from assistant.store.analytics import dashboard

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


@router.get("", response_model=DashboardOut)
def data(session: SessionDep, _: Manager, period: Literal["day", "week", "month"] = "day") -> DashboardOut:
    """Tickets by category/urgency/status, SLA compliance, median times, repeat rate, satisfaction."""
    return DashboardOut.model_validate(dashboard(session, period=period, now=datetime.now(UTC)))
