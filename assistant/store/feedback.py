"""The SQL of the KB improvement loop: answer votes (赞/踩), gaps (questions the KB failed on) and agent corrections.

Functions take the session first and keywords after; they flush, never commit (the request owns the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.errors import CorrectionError, TurnNotFoundError
from assistant.store.tables import AnswerVote, Conversation, Correction, Gap, Turn


class CorrectionStatus(StrEnum):
    """Where an agent's correction stands: waiting for an admin, approved (a curated entry), or rejected."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def add_gap(session: Session, *, kind: str, question: str, conversation_id: str | None, turn_id: int | None,
            now: datetime, community: str | None = None, note: str | None = None,
            detail: dict[str, Any] | None = None, vector: bytes | None = None, model_id: str | None = None) -> Gap:
    """Record a question the KB failed on; a second record of the same kind for the same turn updates the first."""
    gap = None
    if turn_id is not None:
        gap = session.scalars(select(Gap).where(Gap.turn_id == turn_id, Gap.kind == kind)).first()
    if gap is None:
        gap = Gap(kind=kind, turn_id=turn_id, conversation_id=conversation_id, created_at=now)
        session.add(gap)
    gap.question = question
    gap.community = community
    gap.note = note
    gap.detail = detail or {}
    gap.vector = vector
    gap.model_id = model_id
    session.flush()
    return gap


def gaps(session: Session, *, since: datetime | None = None, kinds: Sequence[str] = (),
         limit: int = 50_000) -> list[Gap]:
    """Recorded gaps, newest first (at most ``limit``)."""
    stmt = select(Gap).order_by(Gap.created_at.desc(), Gap.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(Gap.created_at >= since)
    if kinds:
        stmt = stmt.where(Gap.kind.in_(tuple(kinds)))
    return list(session.scalars(stmt).all())


def store_vectors(session: Session, *, vectors: dict[int, bytes], model_id: str) -> None:
    """Keep the embeddings computed for gaps that had none (or one from another model)."""
    for gap_id, blob in vectors.items():
        gap = session.get(Gap, gap_id)
        if gap is not None:
            gap.vector, gap.model_id = blob, model_id
    session.flush()


def answer_turn(session: Session, *, turn_id: int, resident_id: int | None) -> Turn:
    """The assistant's answer ``turn_id`` in one of the caller's conversations.

    Raises:
        TurnNotFoundError: No such answer, or it belongs to another resident (the two look alike).
    """
    turn = session.get(Turn, turn_id)
    if turn is None or turn.speaker != "assistant":
        raise TurnNotFoundError(turn_id)
    conv = session.get(Conversation, turn.conversation_id)
    if conv is None or conv.resident_id != resident_id:
        raise TurnNotFoundError(turn_id)
    return turn


def vote(session: Session, *, turn: Turn, resident_id: int | None, vote: str, reason: str | None,
         now: datetime) -> AnswerVote:
    """Store (or replace) the resident's vote on an answer."""
    row = session.scalars(select(AnswerVote).where(AnswerVote.turn_id == turn.id)).first()
    if row is None:
        row = AnswerVote(turn_id=turn.id, conversation_id=turn.conversation_id, resident_id=resident_id)
        session.add(row)
    row.vote = vote
    row.reason = reason or None
    row.entries = sorted({str(c.get("entry_id")) for c in (turn.citations or []) if c.get("entry_id")})
    row.created_at = now
    if vote != "down":  # a 踩 changed into a 赞 is no longer a gap
        for gap in session.scalars(select(Gap).where(Gap.turn_id == turn.id, Gap.kind == "downvote")).all():
            session.delete(gap)
    session.flush()
    return row


def vote_counts(session: Session) -> list[tuple[str, int, int, datetime]]:
    """(entry id, 赞, 踩, last vote) for every entry an answer with a vote cited, most 踩 first."""
    counts: dict[str, list[Any]] = {}
    for row in session.scalars(select(AnswerVote)).all():
        for entry in row.entries or []:
            c = counts.setdefault(entry, [0, 0, row.created_at])
            c[0 if row.vote == "up" else 1] += 1
            c[2] = max(c[2], row.created_at)
    out = [(k, int(v[0]), int(v[1]), v[2]) for k, v in counts.items()]
    return sorted(out, key=lambda x: (-x[2], -x[1], x[0]))


def down_reasons(session: Session, *, entry_id: str, limit: int = 5) -> list[str]:
    """The latest reasons residents gave when they voted down an answer citing ``entry_id``."""
    rows = session.scalars(select(AnswerVote).where(AnswerVote.vote == "down", AnswerVote.reason.is_not(None))
                           .order_by(AnswerVote.id.desc()).limit(500)).all()
    return [r.reason for r in rows if entry_id in (r.entries or []) and r.reason][:limit]


def add_correction(session: Session, *, conversation_id: str | None, turn_id: int | None, question: str,
                   original: str, answer: str, agent: str, now: datetime) -> Correction:
    """An agent's corrected answer, pending an admin's review."""
    row = Correction(conversation_id=conversation_id, turn_id=turn_id, question=question, original=original,
                     answer=answer, agent=agent, status=CorrectionStatus.PENDING.value, created_at=now)
    session.add(row)
    session.flush()
    return row


def corrections(session: Session, *, status: CorrectionStatus | None = None, limit: int = 200) -> list[Correction]:
    """Corrections, newest first."""
    stmt = select(Correction).order_by(Correction.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(Correction.status == CorrectionStatus(status).value)
    return list(session.scalars(stmt).all())


def get_correction(session: Session, *, correction_id: int) -> Correction:
    """One correction.

    Raises:
        CorrectionError: No such correction.
    """
    row = session.get(Correction, correction_id)
    if row is None:
        raise CorrectionError(f"correction {correction_id} not found", status=404)
    return row


def review(session: Session, *, correction: Correction, status: CorrectionStatus, reviewer: str, now: datetime,
           entry_id: str | None = None, note: str | None = None) -> Correction:
    """Approve or reject a pending correction.

    Raises:
        CorrectionError: It was already reviewed.
    """
    if correction.status != CorrectionStatus.PENDING:
        raise CorrectionError(f"correction {correction.id} was already {correction.status}", status=409)
    correction.status, correction.reviewer, correction.reviewed_at = status.value, reviewer, now
    correction.entry_id, correction.review_note = entry_id, note
    session.flush()
    return correction


def gap_count(session: Session) -> int:
    """How many gaps are recorded."""
    return int(session.scalar(select(func.count()).select_from(Gap)) or 0)
