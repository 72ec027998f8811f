from pathlib import Path

import pytest

from ingest.chunk import article_chunks, document_chunks, faq_chunk, kb_chunks, split_sentences
from ingest.loaders import Section, SourceDocument
from kb.load import load_kb

NOTICE = (
    "因市政管网检修，本小区将于3月5日9:00至17:00停水。请业主提前储水！停水期间请关闭水龙头；"
    "恢复供水后可能出现短时浑浊，放水片刻即可。如有疑问请致电客服中心。"
)


def test_split_sentences_cuts_only_at_chinese_sentence_ends() -> None:
    pieces = split_sentences(NOTICE, max_chars=40)
    assert "".join(pieces) == NOTICE
    assert all(p[-1] in "。！？；" for p in pieces)
    assert all(len(p) <= 40 for p in pieces)
    assert len(pieces) == 3


def test_split_keeps_an_overlong_sentence_whole() -> None:
    long = "业主" * 60 + "。短句。"
    assert split_sentences(long, max_chars=50) == ["业主" * 60 + "。", "短句。"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_split_empty_text_gives_nothing(text: str) -> None:
    assert split_sentences(text, 100) == []


def test_faq_chunk_has_one_vector_per_question_and_paraphrase(mini_kb_root: Path) -> None:
    kb = load_kb(mini_kb_root)
    chunk = faq_chunk(kb.faqs[0], "faq/fees.yaml")
    assert chunk.chunk_id == "FAQ-FEE-001"
    assert chunk.views[:4] == ("物业费多少钱一平？", "物业费咋收的", "一个月物业费多少钱", "物業費怎麼算")
    assert chunk.views[4].startswith("物业费多少钱一平？ 住宅物业服务费为2.8")
    assert chunk.basis == ("POL-FEE-001#2.1",)


def test_article_chunks_keep_heading_path_and_split_long_clauses(mini_kb_root: Path) -> None:
    kb = load_kb(mini_kb_root)
    article = kb.article("POL-FEE-001")
    assert article is not None
    chunks = article_chunks(article, max_chars=30, source="x.md")
    ids = [c.chunk_id for c in chunks]
    assert ids == ["POL-FEE-001#1", "POL-FEE-001#2.1", "POL-FEE-001#3~1", "POL-FEE-001#3~2"]
    assert chunks[1].heading_path == ("物业服务费收费管理办法", "2 收费标准", "2.1 住宅")
    assert chunks[1].views[0].startswith("物业服务费收费管理办法 › 2 收费标准 › 2.1 住宅：")


def test_kb_chunks_cover_articles_and_faq(mini_kb_root: Path) -> None:
    kb = load_kb(mini_kb_root)
    chunks = kb_chunks(kb, 400)
    assert {c.kind for c in chunks} == {"policy", "faq"}
    assert sum(c.kind == "faq" for c in chunks) == 3


def test_document_chunks_are_numbered_per_document() -> None:
    doc = SourceDocument(Path("n.txt"), "停水通知", (Section(("停水通知",), NOTICE),), "ab" * 32)
    chunks = document_chunks(doc, 40, "n.txt")
    assert [c.chunk_id for c in chunks] == [f"DOC-ABABABABAB#{i}" for i in range(1, 4)]
    assert all(c.kind == "document" for c in chunks)
