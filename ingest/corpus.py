"""The corpus: the KB plus company documents, checked and cut into chunks, ready to index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ingest.chunk import Chunk, document_chunks, kb_chunks
from ingest.errors import IngestError
from ingest.loaders import find_documents, load_document
from ingest.settings import IngestSettings
from ingest.tokens import Lexicon
from kb.lint import lint
from kb.load import KnowledgeBase, load_kb


@dataclass(frozen=True, slots=True)
class Corpus:
    """Chunks to index and the lexicon their BM25 tokens use."""

    chunks: tuple[Chunk, ...]
    lexicon: Lexicon
    kb: KnowledgeBase
    documents: int


def lexicon_of(kb: KnowledgeBase) -> Lexicon:
    """The tokenizer lexicon from kb/rules/dictionary.yaml."""
    d = kb.rules.dictionary
    return Lexicon(tuple(d.terms), tuple(d.stopwords), {k: tuple(v) for k, v in d.synonyms.items()},
                   tuple(d.generic), tuple((a.name, a.question, a.answer) for a in d.asks),
                   tuple(d.ambient))


def collect(settings: IngestSettings, *, today: date | None = None) -> Corpus:
    """Load and lint the KB, load the company documents, and chunk everything.

    Raises:
        KBValidationError: A KB file is malformed.
        IngestError: The KB has lint errors (e.g. a citation of a missing clause).
        LoaderError: A company document cannot be read.
    """
    kb = load_kb(settings.kb_root)
    report = lint(kb, today=today)
    if report.errors:
        lines = "\n".join(f"  {f.path} {f.entry}: {f.message}" for f in report.errors[:20])
        raise IngestError(f"the knowledge base has {len(report.errors)} lint error(s); fix them first:\n{lines}")
    chunks = kb_chunks(kb, settings.max_chunk_chars)
    folders = []
    if settings.docs_dir is not None:
        if not settings.docs_dir.is_dir():
            raise IngestError(f"documents folder {settings.docs_dir} does not exist")
        folders.append(settings.docs_dir)
    if settings.upload_dir is not None and settings.upload_dir.is_dir():
        folders.append(settings.upload_dir)
    n_docs = 0
    for folder in folders:
        for path in find_documents(folder):
            doc = load_document(path)
            chunks.extend(document_chunks(doc, settings.max_chunk_chars, str(path)))
            n_docs += 1
    return Corpus(tuple(chunks), lexicon_of(kb), kb, n_docs)
