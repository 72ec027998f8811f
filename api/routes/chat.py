"""Resident chat: JSON or server-sent events, conversation history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import AssistantDep, PrincipalDep, Resident, SessionDep
from api.errors import ApiError
from api.schemas import ChatIn, ChatOut, ConversationOut
from assistant.desk import handle_turn
from assistant.store import repository as repo

router = APIRouter(prefix="/api", tags=["resident"])


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


@router.post("/chat", response_model=ChatOut)
def chat(body: ChatIn, request: Request, session: SessionDep, assistant: AssistantDep, principal: Resident,
         background: BackgroundTasks,
         stream: bool = Query(False, description="Answer as server-sent events")) -> ChatOut | StreamingResponse:
    """Send a message; get the answer (with citations), the ticket as it fills in, or a hand-off.

    With ``stream=true`` the reply comes as server-sent events: ``meta`` (triage, emergency flag — first,
    so an emergency banner shows at once), then ``delta`` chunks of text, then ``done`` with the full reply.
    """
    api = request.app.state.settings.api
    if not request.app.state.limiter.hit(api.chat_rate, "chat", str(principal.user_id)):
        raise ApiError(429, "too many messages; wait a minute", code="rate_limited")
    reply, turn = handle_turn(session, assistant, text=body.message, conversation_id=body.conversation_id,
                              resident_id=principal.resident_id, actor=principal.name)
    out = ChatOut.from_reply(reply, turn.conversation_id, turn.id, datetime.now(UTC))
    if out.urgency == 1 and out.ticket_number:
        background.add_task(request.app.state.monitor.poke)  # after the commit: page the person on call now
    if not stream:
        return out

    def events() -> Iterator[str]:
        yield _sse("meta", {"conversation_id": out.conversation_id, "emergency": out.emergency,
                            "handoff": out.handoff, "urgency": out.urgency, "category": out.category})
        for line in out.reply.split("\n"):
            yield _sse("delta", {"text": line + "\n"})
        yield _sse("done", out.model_dump(mode="json"))

    return StreamingResponse(events(), media_type="text/event-stream")


def _own(principal: PrincipalDep) -> int | None:
    """Whose conversations the caller sees: staff everyone's (None), a resident only their own."""
    return None if principal.is_staff else (principal.resident_id or -1)


@router.get("/conversations", response_model=list[ConversationOut])
def my_conversations(session: SessionDep, principal: PrincipalDep) -> list[ConversationOut]:
    """The caller's conversations (residents see only their own; staff see the latest 50)."""
    return [ConversationOut.of(c) for c in repo.conversations(session, resident_id=_own(principal))]


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
def conversation(conversation_id: str, session: SessionDep, principal: PrincipalDep) -> ConversationOut:
    """One conversation with its turns; someone else's looks absent (404)."""
    return ConversationOut.of(repo.conversation_of(session, conversation_id=conversation_id,
                                                   resident_id=_own(principal)))
