"""Passwords (argon2 via pwdlib), login tokens (JWT), API keys and rate limits."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pwdlib import PasswordHash


class Role(StrEnum):
    """Who a user is; each route names the roles it admits."""

    RESIDENT = "resident"
    AGENT = "agent"
    TRAINER = "trainer"
    MANAGER = "manager"
    ADMIN = "admin"


_hasher = PasswordHash.recommended()
# Verifying against a fixed hash when the user does not exist keeps the response time the same,
# so login timing does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def hash_password(password: str) -> str:
    """Argon2 hash of a password."""
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """True when the password matches; constant work whether or not the user exists."""
    if hashed is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, hashed)


def issue_token(*, user_id: int, role: str, secret: str, minutes: int, now: datetime | None = None) -> str:
    """A signed token carrying the user id, role and expiry."""
    now = now or datetime.now(UTC)
    payload = {"sub": str(user_id), "role": role, "iat": int(now.timestamp()),
               "exp": int((now + timedelta(minutes=minutes)).timestamp())}
    return jwt.encode(payload, secret, algorithm="HS256")


class TokenError(Exception):
    """A token is missing, malformed, forged or expired."""


def read_token(token: str, *, secret: str) -> dict[str, Any]:
    """The token's claims.

    Raises:
        TokenError: Expired, forged or malformed.
    """
    try:
        return jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token expired; log in again") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("invalid token") from exc


def key_hash(key: str) -> str:
    """SHA-256 of an API key (keys are random, so a fast hash is enough)."""
    return hashlib.sha256(key.encode()).hexdigest()


class RateLimiter:
    """Moving-window limits per key (in memory, per process)."""

    def __init__(self) -> None:
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)

    def hit(self, rate: str, *keys: str) -> bool:
        """Count one hit; False when the limit is exceeded."""
        return bool(self._limiter.hit(parse(rate), *keys))

    def reset(self) -> None:
        """Forget every count (tests)."""
        self._storage.reset()
