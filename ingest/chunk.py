"""Chunks: the retrievable units made from KB entries and company documents (pure functions)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

from ingest.loaders import SourceDocument
from kb.load import Article, Clause, Community, KnowledgeBase
from kb.schema import FaqEntry

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable unit with the metadata retrieval filters on and answers cite.

    ``views`` are the texts embedded for it (an FAQ has its question, each paraphrase and the
    question with its answer); every view's vector points back at this chunk.
    """

    chunk_id: str
    entry_id: str
    kind: str  # faq | curated | policy | sop | emergency_plan | regulation | community | document
    title: str
    clause: str | None
    heading_path: tuple[str, ...]
    text: str
    department: str
    tags: tuple[str, ...]
    effective_from: date | None
    effective_to: date | None
    source: str
    views: tuple[str, ...]
    search_text: str
    basis: tuple[str, ...] = field(default=())
    community: str | None = None  # set on a community's own clauses: only its residents' searches see them
    template: str = ""  # ``text`` before the company's {{values}} were filled (a community fills its own)

    @property
    def content_hash(self) -> str:
        """Hash of everything that changes the chunk's vectors or text."""
        h = hashlib.sha256()
        extra = (self.community or "", self.template) if self.community or self.template else ()
        for part in (self.chunk_id, self.text, self.search_text, *self.views, *extra):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
        return h.hexdigest()[:16]

    def is_effective(self, on: date) -> bool:
        """True when the chunk's source applies on the given day."""
        starts = self.effective_from is None or self.effective_from <= on
        return starts and (self.effective_to is None or on <= self.effective_to)


def split_sentences(text: str, max_chars: int) -> list[str]:
    """Split Chinese text into pieces of at most ``max_chars``, cutting only at sentence ends.

    A single sentence longer than ``max_chars`` is kept whole rather than cut mid-sentence.

    Args:
        text: The text to split.
        max_chars: Soft size limit of a piece.

    Returns:
        Non-empty pieces in order; joined they give back the text (modulo whitespace).
    """
    sentences = [s for s in (p.strip() for p in _SENTENCE_END.split(text.replace("\n", " "))) if s]
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        if current and len(current) + len(sentence) > max_chars:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def faq_chunk(entry: FaqEntry, source: str, template: str = "") -> Chunk:
    """One chunk per FAQ entry; the question and each paraphrase become extra vectors.

    A curated entry (an agent's answer an admin approved) is of kind ``curated``: it is returned as written.
    """
    views = (entry.question, *entry.paraphrases, f"{entry.question} {entry.answer}")
    search = " ".join((entry.question, *entry.paraphrases, entry.answer, *entry.tags))
    return Chunk(
        chunk_id=entry.id,
        entry_id=entry.id,
        kind="curated" if entry.curated is not None else "faq",
        title=entry.question,
        clause=None,
        heading_path=(entry.question,),
        text=entry.answer,
        department=entry.department,
        tags=tuple(entry.tags),
        effective_from=entry.effective_from,
        effective_to=entry.effective_to,
        source=source,
        views=views,
        search_text=search,
        basis=tuple(entry.basis),
        template=template,
    )


def article_chunks(article: Article, max_chars: int, source: str,
                   templates: dict[str, str] | None = None) -> list[Chunk]:
    """Chunks of an article: one per clause, long clauses split at sentence ends.

    The heading path (title › section › clause) is prepended to every embedded view so a
    clause keeps its context. ``templates`` (clause ref → text before its values were filled) go with the chunks.
    """
    meta = article.meta
    return _clause_chunks(article.clauses, entry_id=meta.id, kind=meta.type.value, title=meta.title,
                          department=meta.department, tags=tuple(meta.tags), effective=(meta.effective_from,
                                                                                       meta.effective_to),
                          max_chars=max_chars, source=source, templates=templates or {})


def community_chunks(community: Community, max_chars: int, source: str) -> list[Chunk]:
    """Chunks of a community's document: its clauses, marked with the community (its residents' searches only)."""
    meta = community.meta
    return _clause_chunks(community.clauses, entry_id=meta.id, kind="community", title=community.title,
                          department=meta.department, tags=(meta.name, *meta.tags),
                          effective=(meta.effective_from, None), max_chars=max_chars, source=source, templates={},
                          community=meta.id)


def _clause_chunks(clauses: tuple[Clause, ...], *, entry_id: str, kind: str, title: str, department: str,
                   tags: tuple[str, ...], effective: tuple[date | None, date | None], max_chars: int, source: str,
                   templates: dict[str, str], community: str | None = None) -> list[Chunk]:
    chunks: list[Chunk] = []
    for clause in clauses:
        if not clause.text:
            continue
        context = " › ".join(clause.heading_path)
        pieces = split_sentences(clause.text, max_chars)
        raw = split_sentences(templates[clause.ref], max_chars) if clause.ref in templates else []
        for i, piece in enumerate(pieces):
            suffix = f"~{i + 1}" if len(pieces) > 1 else ""
            chunks.append(
                Chunk(
                    chunk_id=f"{clause.ref}{suffix}",
                    entry_id=entry_id,
                    kind=kind,
                    title=title,
                    clause=clause.number,
                    heading_path=clause.heading_path,
                    text=piece,
                    department=department,
                    tags=tags,
                    effective_from=effective[0],
                    effective_to=effective[1],
                    source=source,
                    views=(f"{context}：{piece}",),
                    search_text=f"{context} {piece} {' '.join(tags)}",
                    community=community,
                    # the same sentence cuts on the text before and after its values were filled, or no template
                    template=raw[i] if len(raw) == len(pieces) and "{{" in raw[i] else "",
                )
            )
    return chunks


def kb_chunks(kb: KnowledgeBase, max_chars: int) -> list[Chunk]:
    """Every chunk of the knowledge base: articles clause by clause, the communities' documents, then the FAQ."""
    chunks: list[Chunk] = []
    for article in kb.articles:
        chunks.extend(article_chunks(article, max_chars, _rel(kb, str(article.path)), kb.templates))
    for community in kb.communities:
        chunks.extend(community_chunks(community, max_chars, _rel(kb, str(community.path))))
    for entry in kb.faqs:
        chunks.append(faq_chunk(entry, _rel(kb, str(kb.sources.get(entry.id, ""))), kb.templates.get(entry.id, "")))
    return chunks


def _rel(kb: KnowledgeBase, path: str) -> str:
    root = str(kb.root.parent) + "/"
    return path[len(root):] if path.startswith(root) else path


def document_chunks(doc: SourceDocument, max_chars: int, source: str) -> list[Chunk]:
    """Chunks of a company document: each section split at sentence ends, heading path kept."""
    entry_id = "DOC-" + doc.sha256[:10].upper()
    chunks: list[Chunk] = []
    n = 0
    for section in doc.sections:
        context = " › ".join(section.heading_path)
        for piece in split_sentences(section.text, max_chars):
            n += 1
            chunks.append(
                Chunk(
                    chunk_id=f"{entry_id}#{n}",
                    entry_id=entry_id,
                    kind="document",
                    title=doc.title,
                    clause=str(n),
                    heading_path=section.heading_path,
                    text=piece,
                    department="",
                    tags=(),
                    effective_from=None,
                    effective_to=None,
                    source=source,
                    views=(f"{context}：{piece}",),
                    search_text=f"{context} {piece}",
                )
            )
    return chunks
