"""Triage over HTTP: the same result as `wuye triage`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AssistantDep, PrincipalDep
from api.schemas import TriageIn
from assistant.sla import deadlines_for
from assistant.types import ResidentProfile

router = APIRouter(prefix="/api", tags=["triage"])


def triage_json(service: Any, reply: Any) -> dict[str, Any]:
    """The triage fields of a reply (shared with the CLI)."""
    deadlines = reply.deadlines or tuple(deadlines_for(
        service.rules, urgency=reply.decision.urgency, category=reply.triage.category,
        kinds=reply.decision.kinds, created_at=service.clock()))
    return {
        "category": reply.triage.category.value,
        "urgency": int(reply.decision.urgency),
        "department": reply.triage.department,
        "route": reply.triage.route,
        "intent": reply.intent.value,
        "escalate": reply.decision.escalate,
        "escalation_reasons": [f"{r.rule}: {r.detail}" for r in reply.decision.reasons],
        "reasons": [f"{r.rule}: {r.detail}" for r in reply.triage.reasons],
        "notify": list(reply.decision.notify),
        "deadlines": [{"key": d.key, "label": d.label, "minutes": d.minutes, "due": d.due.isoformat()}
                      for d in deadlines],
        "missing_fields": list(reply.missing),
        "other_issues": [{"text": i.text, "category": i.category.value, "urgency": int(i.urgency)}
                         for i in reply.triage.issues[1:]],
        "reply": reply.text,
    }


@router.post("/triage")
def triage(body: TriageIn, assistant: AssistantDep, _: PrincipalDep) -> dict[str, Any]:
    """Category, urgency, department, escalation, deadlines, missing fields and the reply for one message."""
    profile = ResidentProfile(vulnerable=True) if body.vulnerable else None
    return triage_json(assistant, assistant.handle(body.text, profile=profile))
