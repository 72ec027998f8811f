"""The on-call roster on the admin page: who is paged, by which channel, in which hours, per department."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import Admin, AssistantDep, SessionDep
from api.schemas import RosterIn, RosterOut
from assistant import roster
from assistant.errors import RosterConflictError, RosterError
from assistant.service import AssistantService
from kb.schema import PagingChannel

router = APIRouter(prefix="/api/admin/oncall", tags=["admin"])


def _out(version: roster.RosterVersion, assistant: AssistantService) -> RosterOut:
    return RosterOut(version=version.version, source=version.source, author=version.author,
                     saved_at=version.saved_at, roster=version.roster,
                     departments=sorted(roster.departments(assistant.rules)), channels=[c.value for c in PagingChannel])


@router.get("", response_model=RosterOut)
def current(session: SessionDep, assistant: AssistantDep, _: Admin) -> RosterOut:
    """The roster the pager uses now (the last saved version, else kb/rules/oncall.yaml as version 0)."""
    return _out(roster.in_force(session, assistant.rules.oncall), assistant)


@router.put("", response_model=RosterOut)
def save(body: RosterIn, session: SessionDep, assistant: AssistantDep, principal: Admin) -> RosterOut:
    """Put a new roster in force from the next paging pass. 422 names the bad field (a phone, hours, an unknown
    department, a WeChat Work person without a userid); 409 when someone saved since ``base_version``."""
    try:
        saved = roster.save(session, body.roster, seed=assistant.rules.oncall,
                            known=roster.departments(assistant.rules), author=principal.name, now=datetime.now(UTC),
                            base_version=body.base_version)
    except RosterConflictError:
        raise
    except RosterError as exc:  # name the field as the request body spells it, like the schema's own 422s
        raise RosterError(f"roster.{exc.field}", exc.problem) from exc
    return _out(saved, assistant)
