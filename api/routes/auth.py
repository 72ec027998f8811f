"""Login: password → token (rate-limited per address and user name)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import PrincipalDep, SessionDep
from api.errors import ApiError
from api.schemas import LoginIn, MeOut, TokenOut
from api.security import issue_token, verify_password
from assistant.store import accounts

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> TokenOut:
    """Exchange a user name and password for a bearer token (also set as an HttpOnly cookie for the pages)."""
    settings = request.app.state.settings.api
    client = request.client.host if request.client else "unknown"
    if not request.app.state.limiter.hit(settings.login_rate, "login", client, body.username):
        raise ApiError(429, "too many login attempts; wait a minute", code="rate_limited")
    user = accounts.user_by_name(session, username=body.username)
    if not verify_password(body.password, user.password_hash if user else None) or user is None:
        raise ApiError(401, "wrong user name or password", code="unauthorized")
    token = issue_token(user_id=user.id, role=user.role, secret=settings.secret_key.get_secret_value(),
                        minutes=settings.token_minutes)
    response.set_cookie("wuye_token", token, httponly=True, samesite="strict", max_age=settings.token_minutes * 60)
    return TokenOut(access_token=token, role=user.role, display_name=user.display_name or user.username,
                    expires_in=settings.token_minutes * 60)


@router.post("/logout", status_code=204, response_model=None)
def logout(response: Response) -> None:
    """Forget the login cookie (no body)."""
    response.delete_cookie("wuye_token")


@router.get("/me", response_model=MeOut)
def me(principal: PrincipalDep) -> MeOut:
    """Who the caller is."""
    return MeOut(name=principal.name, role=principal.role.value, resident_id=principal.resident_id)
