"""OpenAI-compatible chat completions, so the official client and existing chat front-ends can talk to wuye."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import AssistantDep, PrincipalDep
from api.errors import ApiError
from api.schemas import ChatCompletionIn
from assistant.service import ConversationState

router = APIRouter(prefix="/v1", tags=["openai"])
MODEL = "wuye-assistant"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


@router.get("/models")
def models(_: PrincipalDep) -> dict[str, Any]:
    """The one model this server offers."""
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "wuye"}]}


@router.post("/chat/completions", response_model=None)
def completions(body: ChatCompletionIn, assistant: AssistantDep, _: PrincipalDep) -> Any:
    """Answer the last user message (the previous one resolves follow-ups); citations in text and in ``wuye``."""
    users = [_text(m.content) for m in body.messages if m.role == "user"]
    users = [u for u in users if u.strip()]
    if not users:
        raise ApiError(422, "messages: at least one non-empty user message is needed", code="invalid_request")
    if len(users[-1]) > 4000:
        raise ApiError(422, "messages: the last user message is longer than 4000 characters", code="invalid_request")
    state = ConversationState(last_question=users[-2]) if len(users) > 1 else ConversationState()
    reply = assistant.handle(users[-1], state=state)
    extra = {"citations": [{"entry_id": c.entry_id, "title": c.title, "clause": c.clause, "ref": c.ref}
                           for c in reply.citations],
             "handoff": reply.handoff, "emergency": reply.emergency, "urgency": int(reply.decision.urgency),
             "category": reply.triage.category.value}
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if not body.stream:
        return {"id": cid, "object": "chat.completion", "created": created, "model": MODEL,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply.text}}],
                "usage": {"prompt_tokens": len(users[-1]), "completion_tokens": len(reply.text),
                          "total_tokens": len(users[-1]) + len(reply.text)},
                "wuye": extra}

    def chunks() -> Iterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
            payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **more}
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for line in reply.text.split("\n"):
            yield chunk({"content": line + "\n"})
        yield chunk({}, "stop", wuye=extra)
        yield "data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")
