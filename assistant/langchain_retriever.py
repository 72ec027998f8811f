"""LangChain ``BaseRetriever`` over the hybrid retriever, so any LangChain chain can use the KB."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.retrieve import HybridRetriever
from assistant.types import Filters


class KBRetriever(BaseRetriever):
    """Returns KB hits as LangChain documents; metadata carries the citation and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: HybridRetriever
    top_k: int = 5
    filters: Filters = Filters()
    only_found: bool = True
    """When True, a query the KB does not cover returns no documents (nothing to ground an answer on)."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        result = self.retriever.run(query, top_k=self.top_k, filters=self.filters)
        if self.only_found and not result.found:
            return []
        return [
            Document(
                page_content=hit.chunk.text,
                metadata={
                    "citation": hit.citation,
                    "entry_id": hit.chunk.entry_id,
                    "title": hit.chunk.title,
                    "clause": hit.chunk.clause,
                    "kind": hit.chunk.kind,
                    "score": hit.score,
                    "dense": hit.dense,
                },
            )
            for hit in result.hits
        ]
