"""Answers from retrieved KB entries only, with citations: extractive by default, an optional LLM on top."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from assistant.community import Localized
from assistant.errors import ComposerError
from assistant.types import Hit, Retrieval
from ingest.chunk import Chunk
from ingest.index import KBIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Citation:
    """A KB entry an answer rests on."""

    entry_id: str
    title: str
    clause: str | None
    score: float
    ref: str

    def to_json(self) -> dict[str, str | float | None]:
        """The one JSON shape of a citation: stored with the turn, in the CLI's output and the API's."""
        return {"entry_id": self.entry_id, "title": self.title, "clause": self.clause, "ref": self.ref,
                "score": self.score}


@dataclass(frozen=True, slots=True)
class Answer:
    """A grounded answer, or a hand-off when the KB does not cover the question.

    ``text`` is what the resident reads (no internal ids); the sources are ``citations``.
    """

    text: str
    citations: tuple[Citation, ...]
    handoff: bool
    composer: str


Localize = Callable[[Chunk], Localized]

HANDOFF_TEXT = (
    "抱歉，这个问题我在公司的知识库里没有找到明确的规定，不能凭猜测答复您。"
    "我已为您转接人工客服，工作人员会尽快联系您。"
)


def _citations_for(hit: Hit, index: KBIndex, extra: tuple[str, ...] = ()) -> list[Citation]:
    c = hit.chunk
    own = Citation(c.entry_id, c.title, c.clause, hit.score, hit.citation)
    out = [own]
    for ref in (*c.basis, *extra):  # an FAQ also cites the policy clause it rests on; a community, its own clause
        row = index.by_id.get(ref)
        if row is None:
            row = next((i for key, i in index.by_id.items() if key.startswith(ref + "~")), None)
        if row is not None:
            b = index.chunks[row]
            out.append(Citation(b.entry_id, b.title, b.clause, hit.score, ref))
    return out


def source_line(citations: tuple[Citation, ...]) -> str:
    """One line naming the sources by title, for channels that have no citation cards (CLI, OpenAI endpoint)."""
    refs = []
    for c in citations:
        refs.append(f"《{c.title}》第{c.clause}条" if c.clause else f"《{c.title}》")
    return "依据：" + "；".join(dict.fromkeys(refs))


class ChatModel(Protocol):
    """The slice of LangChain's chat-model interface we use (``invoke`` returning a message)."""

    def invoke(self, input: list[tuple[str, str]]) -> object:  # noqa: A002 - LangChain's name
        """Return a message whose ``content`` is the answer text."""
        ...


class ExtractiveComposer:
    """The best-matching FAQ answer or SOP clause, verbatim, with its citation. No LLM."""

    name = "extractive"

    def __init__(self, index_provider: object) -> None:
        self._index_provider = index_provider

    def _index(self) -> KBIndex:
        index = getattr(self._index_provider, "index", None)
        if not isinstance(index, KBIndex):
            raise ComposerError("retriever has no index loaded")
        return index

    def run(self, retrieval: Retrieval, *, next_steps: str | None = None, localize: Localize | None = None) -> Answer:
        """Compose the answer of one retrieval.

        Args:
            retrieval: Ranked hits and whether the KB covers the question.
            next_steps: A sentence with time limits or next steps to append (from triage/SLA).
            localize: Fills the entry with the resident's community's values (assistant/community.py).

        Returns:
            The answer, or a hand-off when the KB does not cover the question.
        """
        if not retrieval.found or not retrieval.hits:
            return Answer(HANDOFF_TEXT, (), True, self.name)
        top = retrieval.hits[0]
        local = localize(top.chunk) if localize is not None else Localized(top.chunk.text, ())
        citations = tuple(_citations_for(top, self._index(), local.refs))
        body = local.text.strip()
        if top.chunk.kind not in ("faq", "curated") and top.chunk.heading_path:
            body = f"根据《{top.chunk.title}》{top.chunk.heading_path[-1]}：{body}"
        parts = [body]
        if next_steps:
            parts.append(next_steps)
        # the sources travel as citations (cards under the bubble), never as internal ids in the resident's text
        return Answer("\n".join(parts), citations, False, self.name)


_CITE = re.compile(r"\[(\d+)\]")

SYSTEM_PROMPT = (
    "你是示例物业的客服助手。只能依据下面编号的知识库条目回答业主的问题，不得编造任何政策、金额或时限。"
    "每句话后用 [编号] 标注所依据的条目。条目中没有答案时，只回答：NOT_IN_KB。用简体中文，语气礼貌，不超过150字。"
)


class LLMComposer:
    """An optional LangChain chat model writing the answer from the retrieved entries only.

    Falls back to the extractive answer on any model error, timeout, or an answer that cites
    nothing retrieved.
    """

    name = "llm"

    def __init__(self, model: ChatModel, fallback: ExtractiveComposer, *, max_entries: int = 4) -> None:
        self._model = model
        self._fallback = fallback
        self._max_entries = max_entries

    def run(self, retrieval: Retrieval, *, next_steps: str | None = None, question: str = "",
            localize: Localize | None = None) -> Answer:
        """Ask the model; keep only citations of entries it was given."""
        if not retrieval.found or not retrieval.hits or retrieval.hits[0].chunk.kind == "curated":
            # a curated answer is given as written
            return self._fallback.run(retrieval, next_steps=next_steps, localize=localize)
        hits = retrieval.hits[: self._max_entries]
        local = [localize(h.chunk) if localize is not None else Localized(h.chunk.text, ()) for h in hits]
        entries = "\n".join(f"[{i}] {h.citation} {h.chunk.title}：{t.text}"
                            for i, (h, t) in enumerate(zip(hits, local, strict=True), 1))
        try:
            message = self._model.invoke([("system", SYSTEM_PROMPT),
                                          ("human", f"知识库条目：\n{entries}\n\n业主问题：{question}")])
            text = str(getattr(message, "content", "")).strip()
        except Exception as exc:  # noqa: BLE001 - any model failure degrades to the extractive answer
            log.warning("LLM failed (%s: %s); using the extractive answer", type(exc).__name__, exc)
            return self._fallback.run(retrieval, next_steps=next_steps, localize=localize)
        used = sorted({int(n) for n in _CITE.findall(text) if 1 <= int(n) <= len(hits)})
        if "NOT_IN_KB" in text or not used:
            return self._fallback.run(retrieval, next_steps=next_steps, localize=localize)
        index = self._fallback._index()
        citations = tuple(c for n in used for c in _citations_for(hits[n - 1], index, local[n - 1].refs))
        clean = _CITE.sub("", text).strip()
        parts = [clean] + ([next_steps] if next_steps else [])
        return Answer("\n".join(parts), citations, False, self.name)


def make_chat_model(base_url: str, model: str, api_key: str, timeout: float) -> ChatModel:
    """A LangChain ``ChatOpenAI`` for any OpenAI-compatible endpoint (llama.cpp, Ollama, vLLM …)."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(base_url=base_url, model=model, api_key=api_key, timeout=timeout, max_retries=0,
                      temperature=0)
