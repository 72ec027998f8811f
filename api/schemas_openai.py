"""The OpenAI-compatible shapes: chat-completions requests and responses, the model list, wuye's extra field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import CitationOut
from assistant.service import Reply

MODEL = "wuye-assistant"


class ChatMessage(BaseModel):
    """OpenAI chat message."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (the text parts of a multi-part content)."""
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, list):
            return "".join(str(part.get("text", "")) for part in self.content if isinstance(part, dict))
        return ""


class ChatCompletionIn(BaseModel):
    """OpenAI chat-completions request (the fields we use; others are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(max_length=128)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False


class ModelOut(BaseModel):
    """A model this server offers."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "wuye"


class ModelsOut(BaseModel):
    """The model list."""

    object: Literal["list"] = "list"
    data: list[ModelOut]


class WuyeExtraOut(BaseModel):
    """wuye's extra field of a completion: the sources and the case."""

    citations: list[CitationOut]
    handoff: bool
    emergency: bool
    urgency: int
    category: str

    @classmethod
    def of(cls, reply: Reply) -> WuyeExtraOut:
        """Map a reply."""
        return cls(citations=[CitationOut.of(c) for c in reply.citations], handoff=reply.handoff,
                   emergency=reply.emergency, urgency=int(reply.decision.urgency),
                   category=reply.triage.category.value)


class AssistantMessageOut(BaseModel):
    """The answer as an OpenAI message."""

    role: Literal["assistant"] = "assistant"
    content: str


class ChoiceOut(BaseModel):
    """The one choice of a completion."""

    index: int = 0
    finish_reason: Literal["stop"] = "stop"
    message: AssistantMessageOut


class UsageOut(BaseModel):
    """Characters standing in for tokens (the assistant has no tokenizer of its own)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionOut(BaseModel):
    """An OpenAI chat completion, with ``wuye``: citations and the case."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL
    choices: list[ChoiceOut]
    usage: UsageOut
    wuye: WuyeExtraOut
