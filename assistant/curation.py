"""The KB improvement loop against the store: gaps recorded with each turn, 赞/踩 on answers, agent corrections,
and the gap report read back from what was recorded.

Every function writes in the caller's session (the caller commits), so a vote or a correction is stored with
its gap or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from sqlalchemy.orm import Session

from assistant.conversation import Reply
from assistant.errors import CorrectionError
from assistant.gaps import GapItem, GapKind, GapReport, GapReporter, Snapshot, gap_of, vector_bytes, vector_of
from assistant.retrieve import HybridRetriever
from assistant.store import feedback
from assistant.store.tables import AnswerVote, Correction, Turn
from assistant.turn import TurnKind
from kb.curated import add_curated, next_id
from kb.errors import KBValidationError
from kb.schema import Curated, FaqEntry


def _vector(retriever: HybridRetriever, text: str) -> tuple[bytes, str]:
    return vector_bytes(retriever.query_vector(text)), retriever.embedder.model_id


def record_turn(session: Session, retriever: HybridRetriever, *, reply: Reply, turn: Turn,
                previous: Sequence[Turn], community: str | None, now: datetime) -> GapKind | None:
    """Record the gap a stored turn shows, if any: a question not found, or a person asked for after an answer.

    Args:
        session: The turn's transaction.
        retriever: The retriever that answered (its embedder has the question's vector cached).
        reply: The assistant's reply to the turn.
        turn: The stored turn.
        previous: The conversation's earlier turns, oldest first.
        community: The resident's community, if any.
        now: The turn's time.
    """
    kind = gap_of(reply)
    if kind is not None and reply.retrieval is not None:
        blob, model = _vector(retriever, turn.message)
        feedback.add_gap(session, kind=kind.value, question=turn.message, conversation_id=turn.conversation_id,
                         turn_id=turn.id, now=now, community=community, detail=Snapshot.of(reply.retrieval).to_json(),
                         vector=blob, model_id=model)
        return kind
    if reply.kind is TurnKind.PERSON:
        asked = [t for t in previous if t.speaker == "assistant" and t.message and t.intent == "question"]
        last = asked[-1] if asked else None
        if last is not None and last.citations and previous and previous[-1].id == last.id:
            # answered from the KB, and the very next message asks for a person: the answer did not do
            blob, model = _vector(retriever, last.message)
            cited = "、".join(str(c.get("ref")) for c in last.citations)
            detail = {"reason": f"answered with {cited}, then the resident asked for a person", "best_dense": 0.0,
                      "found": True, "nearest": [{"ref": r.get("id"), "dense": r.get("dense"), "score": r.get("score")}
                                                 for r in (last.retrieved or [])[:3]]}
            feedback.add_gap(session, kind=GapKind.HANDOFF.value, question=last.message,
                             conversation_id=last.conversation_id, turn_id=last.id, now=now, community=community,
                             detail=detail, vector=blob, model_id=model)
            return GapKind.HANDOFF
    return None


def vote(session: Session, retriever: HybridRetriever, *, turn_id: int, resident_id: int | None, up: bool,
         reason: str | None, community: str | None, now: datetime) -> AnswerVote:
    """Store a resident's 赞 or 踩 on one of their answers; a 踩 is also a gap (with the reason they gave).

    Raises:
        TurnNotFoundError: The answer is not in one of the resident's conversations.
    """
    turn = feedback.answer_turn(session, turn_id=turn_id, resident_id=resident_id)
    row = feedback.vote(session, turn=turn, resident_id=resident_id, vote="up" if up else "down", reason=reason,
                        now=now)
    if not up and turn.message:
        retrieval = retriever.run(turn.message, top_k=3)
        blob, model = _vector(retriever, turn.message)
        detail = Snapshot.of(retrieval).to_json()
        detail["answer"] = turn.answer[:500]
        detail["cited"] = [c.get("ref") for c in turn.citations or []]
        feedback.add_gap(session, kind=GapKind.DOWNVOTE.value, question=turn.message,
                         conversation_id=turn.conversation_id, turn_id=turn.id, now=now, community=community,
                         note=reason or None, detail=detail, vector=blob, model_id=model)
    return row


def correct(session: Session, retriever: HybridRetriever, *, turn_id: int, answer: str, agent: str,
            now: datetime) -> Correction:
    """An agent's correction of the assistant's answer to a resident's question: pending review, and a gap.

    Raises:
        CorrectionError: The turn is not an assistant's answer to a resident's message.
    """
    turn = session.get(Turn, turn_id)
    if turn is None or turn.speaker != "assistant" or not turn.message.strip():
        raise CorrectionError(f"turn {turn_id} is not the assistant's answer to a resident's question", status=404)
    row = feedback.add_correction(session, conversation_id=turn.conversation_id, turn_id=turn.id,
                                  question=turn.message, original=turn.answer, answer=answer, agent=agent, now=now)
    retrieval = retriever.run(turn.message, top_k=3)
    blob, model = _vector(retriever, turn.message)
    feedback.add_gap(session, kind=GapKind.CORRECTION.value, question=turn.message,
                     conversation_id=turn.conversation_id, turn_id=turn.id, now=now, note=answer,
                     detail={**Snapshot.of(retrieval).to_json(), "correction": row.id}, vector=blob, model_id=model)
    return row


def gap_report(session: Session, reporter: GapReporter, *, now: datetime, top: int | None = None) -> GapReport:
    """The gap report over the recorded gaps of the last ``window_days`` (at most ``max_questions``, newest first).

    Gaps stored without a vector, or with one from another model, are embedded now and their vectors kept.
    """
    s = reporter.settings
    rows = feedback.gaps(session, since=now - timedelta(days=s.window_days), limit=s.max_questions)
    retriever = reporter.retriever
    model, dim = retriever.embedder.model_id, retriever.embedder.dimension
    vectors: list[np.ndarray | None] = [vector_of(r.vector, dim) if r.vector and r.model_id == model else None
                                        for r in rows]
    missing = [i for i, v in enumerate(vectors) if v is None]
    if missing:
        fresh = reporter.embed([rows[i].question for i in missing])
        for j, i in enumerate(missing):
            vectors[i] = fresh[j]
        feedback.store_vectors(session, vectors={rows[i].id: vector_bytes(fresh[j]) for j, i in enumerate(missing)},
                               model_id=model)
    items = [GapItem(r.id, GapKind(r.kind), r.question, r.created_at, r.note, str((r.detail or {}).get("reason", "")),
                     r.community) for r in rows]
    matrix = np.stack([v for v in vectors if v is not None]).astype(np.float32) if rows else np.zeros((0, dim),
                                                                                                          dtype=np.float32)
    return reporter.run(items, matrix, now=now, top=top)


@dataclass(frozen=True, slots=True)
class Edits:
    """What an admin changed before approving a correction (empty: keep the agent's)."""

    question: str | None = None
    answer: str | None = None
    paraphrases: tuple[str, ...] = ()
    department: str | None = None
    tags: tuple[str, ...] = ()


def approve(session: Session, retriever: HybridRetriever, kb_root: Path, *, correction_id: int, reviewer: str,
            now: datetime, edits: Edits | None = None) -> tuple[Correction, Path]:
    """Approve a correction: write it as a curated FAQ entry of the KB (validated and linted), mark it approved.

    The caller makes it live with an incremental ingest (``assistant.reindex.IngestJob.request``).

    Raises:
        CorrectionError: No such correction (404), already reviewed (409), or the entry is refused by the KB's
            schema or lint (422, naming the problem); nothing is written then.
    """
    edits = edits or Edits()
    row = feedback.get_correction(session, correction_id=correction_id)
    if row.status != feedback.CorrectionStatus.PENDING:
        raise CorrectionError(f"correction {row.id} was already {row.status}", status=409)
    question = (edits.question or row.question).strip()
    nearest = retriever.run(question, top_k=3).hits
    department = edits.department or next((h.chunk.department for h in nearest if h.chunk.department), "客服部")
    tags = list(edits.tags) or list(dict.fromkeys(["客服核定", *(t for h in nearest[:1] for t in h.chunk.tags[:2])]))
    try:
        entry = FaqEntry(id=next_id(kb_root), question=question, paraphrases=list(edits.paraphrases),
                         answer=(edits.answer or row.answer).strip(), department=department, tags=tags,
                         curated=Curated(correction=row.id, agent=row.agent, approved_by=reviewer, approved_at=now))
        path = add_curated(kb_root, entry)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise CorrectionError(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}") from exc
    except KBValidationError as exc:
        raise CorrectionError(f"the KB refuses the entry: {exc.reason}") from exc
    feedback.review(session, correction=row, status=feedback.CorrectionStatus.APPROVED, reviewer=reviewer, now=now,
                    entry_id=entry.id)
    return row, path


def reject(session: Session, *, correction_id: int, reviewer: str, now: datetime, note: str | None) -> Correction:
    """Reject a correction (kept, with the admin's note).

    Raises:
        CorrectionError: No such correction (404) or already reviewed (409).
    """
    row = feedback.get_correction(session, correction_id=correction_id)
    return feedback.review(session, correction=row, status=feedback.CorrectionStatus.REJECTED, reviewer=reviewer,
                           now=now, note=note)
