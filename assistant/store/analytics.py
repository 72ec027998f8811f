"""Monthly-analysis figures (seed 6.1) from the ticket tables: volumes, SLA compliance, times, repeats, satisfaction."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant.store.tables import Ticket

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}


def dashboard(session: Session, *, period: str, now: datetime, buckets: int = 12) -> dict[str, Any]:
    """Aggregates over the last ``buckets`` periods.

    Returns:
        Totals by category/urgency/status, SLA compliance, median response and resolution minutes,
        repeat-complaint rate, average satisfaction, and a per-period series of ticket counts.
    """
    span = PERIODS[period]
    since = now - span * buckets
    tickets = session.scalars(
        select(Ticket).options(selectinload(Ticket.events), selectinload(Ticket.deadlines))
        .where(Ticket.created_at >= since, Ticket.number.is_not(None))
    ).all()
    by_category = Counter(t.category for t in tickets)
    by_urgency = Counter(str(t.urgency) for t in tickets)
    by_status = Counter(t.status for t in tickets)
    closed_clocks = [d for t in tickets for d in t.deadlines if d.met_at is not None or d.due_at < now]
    met = [d for d in closed_clocks if d.met_at is not None and d.met_at <= d.due_at]
    response, resolution = [], []
    for t in tickets:
        dispatched = next((e.at for e in t.events if e.to_status == "in_progress"), None)
        if dispatched:
            response.append((dispatched - t.created_at).total_seconds() / 60)
        if t.resolved_at:
            resolution.append((t.resolved_at - t.created_at).total_seconds() / 60)
    repeats = sum(1 for t in tickets if t.related)
    rated = [t.satisfaction for t in tickets if t.satisfaction is not None]
    notes = [[e.note or "" for e in t.events] for t in tickets]
    callbacks = {  # POL-FEEDBACK-001: satisfied and closed, not solved and reopened, unreachable and closed
        "satisfied": sum(any(n.startswith("回访完成") for n in ns) for ns in notes),
        "not_solved": sum(any(n.startswith("回访：问题未解决") for n in ns) for ns in notes),
        "unreachable": sum(any(n.startswith("回访未接通：") for n in ns) for ns in notes),
    }
    chat_scores = [t.satisfaction for t, ns in zip(tickets, notes, strict=True)
                   if t.satisfaction is not None and any("业主在线评价" in n for n in ns)]
    series: dict[str, int] = defaultdict(int)
    for i in range(buckets):
        start = since + span * i
        series[start.strftime("%m-%d" if period != "month" else "%Y-%m")] = 0
    for t in tickets:
        idx = min(buckets - 1, int((t.created_at - since) / span))
        start = since + span * idx
        series[start.strftime("%m-%d" if period != "month" else "%Y-%m")] += 1
    return {
        "period": period,
        "since": since.isoformat(),
        "total": len(tickets),
        "by_category": dict(by_category),
        "by_urgency": dict(by_urgency),
        "by_status": dict(by_status),
        "sla_compliance": (len(met) / len(closed_clocks)) if closed_clocks else None,
        "median_response_minutes": median(response) if response else None,
        "median_resolution_minutes": median(resolution) if resolution else None,
        "repeat_complaint_rate": repeats / len(tickets) if tickets else None,
        "satisfaction": sum(rated) / len(rated) if rated else None,
        "callbacks": callbacks,
        "chat_ratings": {"count": len(chat_scores),  # scores residents gave in the chat after the resolution update
                         "average": sum(chat_scores) / len(chat_scores) if chat_scores else None},
        "series": dict(series),
    }
