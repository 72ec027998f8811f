"""Hit test: what retrieval returns for a question (each hit's dense, BM25 and fused scores) and what the assistant
would do with it, and why — for an admin checking the KB, never stored."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.conversation import Reply
from assistant.service import AssistantService
from assistant.turn import TurnKind
from assistant.types import Filters, ResidentProfile, Retrieval


@dataclass(frozen=True, slots=True)
class HitTest:
    """One question through retrieval and through the whole assistant (as a new conversation)."""

    query: str
    community: str | None
    retrieval: Retrieval
    reply: Reply
    decision: str
    why: str


def _decision(reply: Reply) -> str:
    kind = reply.kind
    if kind is TurnKind.EMERGENCY:
        return "emergency"
    if kind in (TurnKind.REPORT, TurnKind.COMPLAINT):
        return "report"
    if kind is TurnKind.CHITCHAT:
        return "out_of_scope"
    if kind is TurnKind.QUESTION:
        if reply.answered:
            curated = reply.retrieval is not None and reply.retrieval.hits and \
                reply.retrieval.hits[0].chunk.kind == "curated"
            return "curated_answer" if curated else "answer"
        return "not_found"
    return kind.value


def hit_test(service: AssistantService, text: str, *, community: str | None = None, top_k: int = 10) -> HitTest:
    """Retrieve for ``text`` (scoped to ``community`` like a resident of it) and run it through the assistant.

    Args:
        service: The warmed assistant.
        text: The question.
        community: Answer as a resident of this community (None: a resident without one).
        top_k: Hits to show.
    """
    retrieval = service.retriever.run(text, top_k=top_k, filters=Filters(community=community, scoped=True))
    reply = service.handle(text, profile=ResidentProfile(community=community))
    decision = _decision(reply)
    if decision in ("answer", "curated_answer", "not_found") and reply.retrieval is not None:
        why = reply.retrieval.reason
    elif decision in ("emergency", "report"):
        why = "triage: " + "; ".join(f"{r.rule}: {r.detail}" for r in reply.triage.reasons[:4])
    elif decision == "out_of_scope":
        why = f"not about the property ({retrieval.reason})"
    else:
        why = f"an everyday turn ({decision}), answered before any retrieval"
    return HitTest(text, community, retrieval, reply, decision, why)
