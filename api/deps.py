"""FastAPI dependencies: the database session, the current user, the assistant (read from app.state)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.security import Role, TokenError, key_hash, read_token
from assistant.service import AssistantService
from assistant.store import accounts
from assistant.updates import ResidentUpdates

# Commits run on their own threads: request threads may all be busy, and the commit that ends a
# transaction must never wait behind them for a thread.
_commit_threads = anyio.CapacityLimiter(64)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: commit on success, roll back on any error.

    On SQLite (one writer at a time) requests take turns at ``app.state.write_gate`` *before* they get a
    thread, so no thread sleeps on the database lock while the request holding it waits for a thread to
    validate its response or commit (the classic thread-pool starvation deadlock). PostgreSQL has no gate.
    """
    gate: anyio.Semaphore | None = request.app.state.write_gate
    if gate is not None:
        await gate.acquire()
    session: Session = request.app.state.sessions()
    try:
        yield session
    except BaseException:
        await anyio.to_thread.run_sync(session.rollback, limiter=_commit_threads)
        raise
    else:
        await anyio.to_thread.run_sync(session.commit, limiter=_commit_threads)
    finally:
        await anyio.to_thread.run_sync(session.close, limiter=_commit_threads)
        if gate is not None:
            gate.release()


def get_updates(request: Request) -> ResidentUpdates:
    """What residents are told without asking (quiet hours applied), built by the lifespan."""
    updates: ResidentUpdates = request.app.state.updates
    return updates


def get_assistant(request: Request) -> AssistantService:
    """The warmed assistant built by the lifespan."""
    service: AssistantService = request.app.state.assistant
    return service


# scope="function": commit before the response is sent, so a client never sees 200 for a write that a
# crash could still lose (the default "request" scope would commit after sending)
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
AssistantDep = Annotated[AssistantService, Depends(get_assistant)]
UpdatesDep = Annotated[ResidentUpdates, Depends(get_updates)]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a logged-in user or an API key."""

    user_id: int | None
    role: Role
    name: str
    resident_id: int | None = None
    username: str = ""

    @property
    def is_staff(self) -> bool:
        """Anyone but a resident."""
        return self.role is not Role.RESIDENT


def _token_from(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get("wuye_token")


def current_principal(request: Request) -> Principal:
    """Authenticate by ``Authorization: Bearer <token>``, the login cookie, or ``X-API-Key``.

    Raises:
        ApiError: 401 when no valid credential is given.
    """
    with request.app.state.read_sessions() as session:  # a short read: never holds SQLite's write lock
        return _authenticate(request, session)


def _authenticate(request: Request, session: Session) -> Principal:
    raw_key = request.headers.get("x-api-key")
    if raw_key:
        key = accounts.api_key(session, key_hash=key_hash(raw_key))
        if key is None:
            raise ApiError(401, "invalid or revoked API key", code="unauthorized")
        return Principal(None, Role(key.role), f"key:{key.name}", username=f"key:{key.name}")
    token = _token_from(request)
    if not token:
        raise ApiError(401, "log in first (Authorization: Bearer <token>) or send X-API-Key", code="unauthorized")
    try:
        claims = read_token(token, secret=request.app.state.settings.api.secret_key.get_secret_value())
    except TokenError as exc:
        raise ApiError(401, str(exc), code="unauthorized") from exc
    user = accounts.user_by_id(session, user_id=int(claims["sub"]))
    if user is None:
        raise ApiError(401, "account disabled or removed", code="unauthorized")
    return Principal(user.id, Role(user.role), user.display_name or user.username, user.resident_id, user.username)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only the given roles (403 otherwise)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ApiError(403, f"this needs one of the roles: {allowed}", code="forbidden")
        return principal

    return check


Staff = Annotated[Principal, Depends(require(Role.AGENT, Role.MANAGER, Role.ADMIN))]
Resident = Annotated[Principal, Depends(require(Role.RESIDENT))]
Manager = Annotated[Principal, Depends(require(Role.MANAGER, Role.ADMIN))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Trainer = Annotated[Principal, Depends(require(Role.TRAINER, Role.MANAGER, Role.ADMIN))]
Agent = Annotated[Principal, Depends(require(Role.AGENT))]
