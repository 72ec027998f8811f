"""Chinese text normalisation and word segmentation with the KB's domain dictionary."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

import jieba
from opencc import OpenCC

_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")
_SPACES = re.compile(r"\s+")


class TextNormalizer:
    """NFKC (full-width → half-width), traditional → simplified, lower case, collapsed spaces."""

    @cached_property
    def _t2s(self) -> OpenCC:
        return OpenCC("t2s")

    def __call__(self, text: str) -> str:
        """Return the normalised text."""
        text = unicodedata.normalize("NFKC", text)
        text = self._t2s.convert(text)
        return _SPACES.sub(" ", text).strip().lower()


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Domain words, stopwords and synonyms (canonical term → colloquial variants), from kb/rules."""

    terms: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def expand(self, text: str) -> str:
        """Append the canonical term for every colloquial variant found in ``text``."""
        extra = [canon for canon, variants in self.synonyms.items()
                 if canon not in text and any(v in text for v in variants)]
        return f"{text} {' '.join(extra)}" if extra else text


class Segmenter:
    """jieba segmentation (search mode) with the domain dictionary, for BM25.

    Each instance owns its own ``jieba.Tokenizer`` so the dictionary is never added to the global one.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._stopwords = frozenset(lexicon.stopwords)
        self._normalize = TextNormalizer()

    @cached_property
    def _jieba(self) -> jieba.Tokenizer:
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        for term in (*self.lexicon.terms, *self.lexicon.synonyms):
            tok.add_word(term, freq=50_000)
        return tok

    def warm_up(self) -> None:
        """Load jieba's dictionary now rather than on the first query."""
        self._jieba.initialize()

    def __call__(self, text: str) -> list[str]:
        """Return the search tokens of ``text``: words, their sub-words, no punctuation or stopwords."""
        norm = self._normalize(text)
        return [
            t
            for t in self._jieba.cut_for_search(norm)
            if _WORDISH.search(t) and t.strip() and t not in self._stopwords
        ]
