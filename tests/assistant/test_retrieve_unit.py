"""Hybrid retrieval on the mini KB with the fake embedder: fusion, filters, expiry, floor."""

from datetime import date

import pytest

from assistant.errors import RetrievalError
from assistant.langchain_retriever import KBRetriever
from assistant.retrieve import HybridRetriever
from assistant.settings import RetrievalSettings
from assistant.types import Filters, RetrievalMode
from ingest.chunk import kb_chunks
from ingest.index import IndexBuilder
from ingest.settings import IngestSettings
from ingest.tokens import Lexicon, Segmenter
from kb.load import load_kb
from tests.conftest import write_mini_kb
from tests.fakes import FakeEmbedder


@pytest.fixture(scope="module")
def mini_retriever(tmp_path_factory: pytest.TempPathFactory) -> HybridRetriever:
    """Read-only: built once for the module."""
    tmp_path = tmp_path_factory.mktemp("mini")
    mini_kb_root = write_mini_kb(tmp_path / "kb")
    index_dir = tmp_path / "index"
    settings = IngestSettings(kb_root=mini_kb_root, index_dir=index_dir, progress=False)
    lexicon = Lexicon(terms=("滞纳金", "物业费"), synonyms={"物业费": ("管理费", "物管费")})
    IndexBuilder(settings, FakeEmbedder(), Segmenter(lexicon)).run(kb_chunks(load_kb(mini_kb_root), 400))
    r = HybridRetriever(RetrievalSettings(min_score=0.3), FakeEmbedder(), index_dir)
    r.warm_up()
    return r


def test_hybrid_ranks_the_matching_faq_first(mini_retriever: HybridRetriever) -> None:
    result = mini_retriever.run("晚交物业费的滞纳金怎么算", today=date(2026, 6, 1))
    assert result.found
    assert result.hits[0].citation == "FAQ-FEE-002"
    assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1))


def test_synonyms_reach_bm25(mini_retriever: HybridRetriever) -> None:
    result = mini_retriever.run("管理费", mode="bm25", today=date(2026, 6, 1))
    assert result.hits and all("物业费" in h.chunk.search_text for h in result.hits)


def test_expired_entries_are_never_returned(mini_retriever: HybridRetriever) -> None:
    query = "住宅物业服务费每月每平方米一元五角"
    now = mini_retriever.run(query, top_k=10, today=date(2026, 6, 1))
    assert "POL-FEE-OLD-001" not in {h.chunk.entry_id for h in now.hits}
    back_then = mini_retriever.run(query, top_k=10, today=date(2025, 6, 1))
    assert back_then.hits[0].chunk.entry_id == "POL-FEE-OLD-001"


@pytest.mark.parametrize(
    ("filters", "expect"),
    [
        pytest.param(Filters(kinds=("policy",)), {"policy"}, id="kind"),
        pytest.param(Filters(kinds=("faq",)), {"faq"}, id="faq-only"),
        pytest.param(Filters(departments=("安保部",)), {"FAQ-PET-001"}, id="department"),
        pytest.param(Filters(tags=("滞纳金",)), {"FAQ-FEE-002"}, id="tag"),
    ],
)
def test_metadata_filters(mini_retriever: HybridRetriever, filters: Filters, expect: set[str]) -> None:
    hits = mini_retriever.run("物业费 滞纳金 遛狗", top_k=10, filters=filters, today=date(2026, 6, 1)).hits
    assert hits
    got = {h.chunk.kind for h in hits} if filters.kinds else {h.chunk.entry_id for h in hits}
    assert got == expect


@pytest.mark.parametrize("query", ["", "   ", "？？？"])
def test_empty_query_finds_nothing(mini_retriever: HybridRetriever, query: str) -> None:
    result = mini_retriever.run(query)
    assert not result.found


def test_score_floor_marks_not_found(mini_retriever: HybridRetriever) -> None:
    strict = HybridRetriever(RetrievalSettings(min_score=0.99), FakeEmbedder(), mini_retriever.index.path.parent.parent,
                             index=mini_retriever.index)
    result = strict.run("今天天气怎么样", today=date(2026, 6, 1))
    assert not result.found
    assert result.best_dense < 0.99


def test_langchain_retriever_returns_cited_documents(mini_retriever: HybridRetriever) -> None:
    docs = KBRetriever(retriever=mini_retriever, top_k=2).invoke("滞纳金怎么算")
    assert docs[0].metadata["citation"] == "FAQ-FEE-002"
    assert "万分之五" in docs[0].page_content
    assert len(docs) <= 2


def test_an_unknown_retrieval_mode_is_refused_by_name(mini_retriever: HybridRetriever) -> None:
    with pytest.raises(RetrievalError, match=r"retrieval mode must be one of hybrid, dense, bm25, not 'bm52'"):
        mini_retriever.run("管理费", mode="bm52")  # type: ignore[arg-type]
    assert mini_retriever.run("管理费", mode=RetrievalMode.BM25, today=date(2026, 6, 1)).hits
