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
from api.schemas import MAX_MESSAGE
from api.schemas_openai import (
    MODEL,
    AssistantMessageOut,
    ChatCompletionIn,
    ChatCompletionOut,
    ChoiceOut,
    ModelOut,
    ModelsOut,
    UsageOut,
    WuyeExtraOut,
)
from assistant.service import ConversationState

router = APIRouter(prefix="/v1", tags=["openai"])


@router.get("/models", response_model=ModelsOut)
def models(_: PrincipalDep) -> ModelsOut:
    """The one model this server offers."""
    return ModelsOut(data=[ModelOut(id=MODEL)])


@router.post("/chat/completions", response_model=ChatCompletionOut,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "The completion, or its chunks as server-sent events with stream=true"}})
def completions(body: ChatCompletionIn, assistant: AssistantDep,
                _: PrincipalDep) -> ChatCompletionOut | StreamingResponse:
    """Answer the last user message (the previous one resolves follow-ups); citations in text and in ``wuye``."""
    users = [text for m in body.messages if m.role == "user" and (text := m.text()).strip()]
    if not users:
        raise ApiError(422, "messages: at least one non-empty user message is needed", code="invalid_request")
    if len(users[-1]) > MAX_MESSAGE:
        raise ApiError(422, f"messages: the last user message is longer than {MAX_MESSAGE} characters",
                       code="invalid_request")
    state = ConversationState(last_question=users[-2]) if len(users) > 1 else ConversationState()
    reply = assistant.handle(users[-1], state=state)
    extra = WuyeExtraOut.of(reply)
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if not body.stream:
        return ChatCompletionOut(
            id=cid, created=created, choices=[ChoiceOut(message=AssistantMessageOut(content=reply.text))],
            usage=UsageOut(prompt_tokens=len(users[-1]), completion_tokens=len(reply.text),
                           total_tokens=len(users[-1]) + len(reply.text)),
            wuye=extra)

    def chunks() -> Iterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
            payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **more}
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for line in reply.text.split("\n"):
            yield chunk({"content": line + "\n"})
        yield chunk({}, "stop", wuye=extra.model_dump(mode="json"))
        yield "data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")
