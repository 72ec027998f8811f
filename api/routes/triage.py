"""Triage over HTTP: the same result as `wuye triage`."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AssistantDep, PrincipalDep
from api.schemas_knowledge import TriageIn, TriageOut
from assistant.desk import case_deadlines
from assistant.types import ResidentProfile

router = APIRouter(prefix="/api", tags=["triage"])


@router.post("/triage", response_model=TriageOut)
def triage(body: TriageIn, assistant: AssistantDep, _: PrincipalDep) -> TriageOut:
    """Category, urgency, department, escalation, deadlines, missing fields and the reply for one message."""
    reply = assistant.handle(body.text, profile=ResidentProfile(vulnerable=True) if body.vulnerable else None)
    return TriageOut.of(reply, case_deadlines(assistant, reply))
