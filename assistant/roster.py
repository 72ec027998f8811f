"""The on-call roster in force: the version an admin last saved (in the database), or kb/rules/oncall.yaml until
anyone saves one (version 0).

Why the database and not the kb file: the roster changes every week (leave, shift swaps) and is edited by the
duty manager on the admin page, not reviewed like knowledge; kept in the database it reaches every worker at
once (the pager reads it on each pass, no reload), every save is kept with its author (who changed the roster
when), and two admins editing at once cannot overwrite each other (a save names the version it started from).
The kb file stays the seed a new installation starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from assistant.errors import RosterConflictError, RosterError
from assistant.store import rosters as store
from kb.load import Rules
from kb.schema import OnCall, PagingChannel


@dataclass(frozen=True, slots=True)
class RosterVersion:
    """One version of the roster: 0 is the kb file's."""

    version: int
    roster: OnCall
    author: str | None
    saved_at: datetime | None

    @property
    def source(self) -> str:
        """Where this version lives: ``kb`` (kb/rules/oncall.yaml) or ``database`` (saved by an admin)."""
        return "kb" if self.version == 0 else "database"


def departments(rules: Rules) -> set[str]:
    """Every department a routing rule sends tickets to (the only ones a roster may name)."""
    return {c.department for c in rules.routing.categories} | {
        r.department for c in rules.routing.categories for r in c.routes}


def in_force(session: Session, seed: OnCall) -> RosterVersion:
    """The roster the pager uses now: the newest saved version, else ``seed`` (kb/rules/oncall.yaml)."""
    row = store.newest(session)
    if row is None:
        return RosterVersion(0, seed, None, None)
    return RosterVersion(row.version, OnCall.model_validate(row.roster), row.author, row.created_at)


def check(roster: OnCall, known: set[str]) -> None:
    """What the schema alone cannot tell: a roster that would page nobody for some tickets (a routed department
    without people, no duty manager to escalate to), departments no ticket is routed to, a WeChat Work channel
    without a userid.

    Raises:
        RosterError: Naming the field (``departments.工程布``, ``departments.工程部.1.wecom_user``).
    """
    for name in roster.departments:
        if name not in known:
            raise RosterError(f"departments.{name}", f"no routing rule sends tickets to {name!r}; "
                              f"use one of: {', '.join(sorted(known))}")
    for name in sorted(known - set(roster.departments)):
        raise RosterError(f"departments.{name}", f"nobody is on call for {name}: its level-1 tickets would page "
                          "nobody; list at least one person")
    if roster.duty_manager is None:
        raise RosterError("duty_manager", "a roster needs a duty manager: unacknowledged pages escalate to them")
    people = [("duty_manager", roster.duty_manager)] if roster.duty_manager else []
    people += [(f"departments.{d}.{i}", p) for d, ps in roster.departments.items() for i, p in enumerate(ps)]
    for where, person in people:
        if person is not None and person.channel is PagingChannel.WECOM and not person.wecom_user:
            raise RosterError(f"{where}.wecom_user", f"{person.name} is paged through WeChat Work (channel wecom) "
                              "and needs their WeChat Work userid")


def save(session: Session, roster: OnCall, *, seed: OnCall, known: set[str], author: str, now: datetime,
         base_version: int) -> RosterVersion:
    """Save ``roster`` as the next version, edited from ``base_version``.

    Raises:
        RosterError: A department or person the roster cannot page (see ``check``).
        RosterConflictError: Someone saved another version since ``base_version`` was read.
    """
    check(roster, known)
    current = in_force(session, seed)
    if base_version != current.version or not store.add(
            session, version=current.version + 1, roster=roster.model_dump(mode="json", exclude_none=True),
            author=author, now=now):
        raise RosterConflictError(base_version, current.version)
    return RosterVersion(current.version + 1, roster, author, now)

