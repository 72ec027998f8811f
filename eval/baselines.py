"""Baselines measured in the same run: BM25 only, dense only, a plain LangChain build, keyword-only triage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.retrieve import HybridRetriever
from assistant.types import Filters, RetrievalMode
from ingest.chunk import Chunk
from kb.load import Rules
from kb.schema import Category


@dataclass(frozen=True, slots=True)
class Ranked:
    """A baseline's ranked entry ids for one query, and the text it would answer with."""

    ids: tuple[str, ...]
    answer: str
    found: bool


class RetrieverMode:
    """The project's own index queried with one signal only (``dense`` or ``bm25``)."""

    def __init__(self, retriever: HybridRetriever, mode: RetrievalMode) -> None:
        self.name = f"{mode.value}-only"
        self._retriever = retriever
        self._mode = mode

    def run(self, text: str, k: int = 10) -> Ranked:
        """Rank with one signal; answer with the top chunk."""
        # the company's KB, as a resident of no community sees it (communities' own documents left out, like wuye's)
        r = self._retriever.run(text, top_k=k, mode=self._mode, filters=Filters(scoped=True))
        found = r.found if self._mode is RetrievalMode.DENSE else bool(r.hits)
        answer = r.hits[0].chunk.text if r.hits else ""
        return Ranked(tuple(h.citation for h in r.hits), answer, found)


class PlainLangChain:
    """The obvious build: the same model through HuggingFaceEmbeddings + LangChain FAISS, top-1 answer."""

    name = "plain-langchain"

    def __init__(self, model_path: Path, chunks: list[Chunk]) -> None:
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings

        embeddings = HuggingFaceEmbeddings(model_name=str(model_path), model_kwargs={"device": "cpu"},
                                           encode_kwargs={"normalize_embeddings": True})
        docs = [Document(page_content=f"{c.title}\n{c.text}", metadata={"id": c.chunk_id.split("~")[0],
                                                                         "text": c.text}) for c in chunks]
        self.store = FAISS.from_documents(docs, embeddings)

    def run(self, text: str, k: int = 10) -> Ranked:
        """``similarity_search`` top-k; it always answers (no notion of 'not in the KB')."""
        docs = self.store.similarity_search(text, k=k)
        ids = tuple(dict.fromkeys(d.metadata["id"] for d in docs))
        return Ranked(ids, docs[0].metadata["text"] if docs else "", bool(docs))


@dataclass(frozen=True, slots=True)
class KeywordTriage:
    """Keyword rules only: first matching cue wins, no normalisation, no segmentation, no escalation policy."""

    category: str
    urgency: int
    department: str
    escalate: bool


class KeywordTriager:
    """The obvious triage: scan the cue lists in file order."""

    name = "keyword-rules"

    def __init__(self, rules: Rules) -> None:
        self._rules = rules

    def run(self, text: str) -> KeywordTriage:
        """Classify with the first cue found."""
        urgency = next((int(lv.level) for lv in sorted(self._rules.urgency.levels, key=lambda x: x.level)
                        if any(c in text for c in lv.cues)), None)
        cat = next((c for c in self._rules.routing.categories if any(x in text for x in c.cues)), None)
        category = cat.category if cat else Category.ENQUIRY
        department = cat.department if cat else "客服部"
        if urgency is None:
            urgency = int(cat.default_urgency) if cat else 4
        return KeywordTriage(category.value, urgency, department, urgency == 1)
