"""Chinese text normalisation and word segmentation with the KB's domain dictionary."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

import jieba
import jieba.posseg
from opencc import OpenCC

_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")
_SPACES = re.compile(r"\s+")
# jieba part-of-speech tags of content words: nouns, verbal nouns, English words, idioms and fixed expressions
_CONTENT_TAGS = ("n", "vn", "eng", "j", "l", "i")
_LATIN_SPECIFICITY = 10.0


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
    generic: tuple[str, ...] = ()
    asks: tuple[tuple[str, str, str], ...] = ()
    ambient: tuple[str, ...] = ()  # (name, question pattern, answer pattern): see grounding

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
        self._generic = frozenset(lexicon.generic)
        self._normalize = TextNormalizer()

    @cached_property
    def _jieba(self) -> jieba.Tokenizer:
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        for term in (*self.lexicon.terms, *self.lexicon.synonyms):
            tok.add_word(term, freq=50_000)
        return tok

    @cached_property
    def _tagger(self) -> jieba.posseg.POSTokenizer:
        return jieba.posseg.POSTokenizer(self._jieba)

    @cached_property
    def _domain(self) -> frozenset[str]:
        return frozenset((*self.lexicon.terms, *self.lexicon.synonyms,
                          *(v for vs in self.lexicon.synonyms.values() for v in vs)))

    def warm_up(self) -> None:
        """Load jieba's dictionary now rather than on the first query."""
        self._jieba.initialize()
        self._tagger.lcut("预热")

    def content_words(self, text: str, *, tags: tuple[str, ...] = _CONTENT_TAGS,
                      skip: tuple[str, ...] = ()) -> list[str]:
        """The nouns and domain terms of ``text`` (two characters or more), in order, without repeats.

        Args:
            text: Any text.
            tags: The jieba part-of-speech tags (prefixes) that make a word a content word; domain terms always are.
            skip: Tags (prefixes) among those that do not (``nr``: a person's name).
        """
        norm = self._normalize(text)
        known = self._jieba.FREQ
        # a word jieba guessed from unknown characters (时说, 有户) is noise, unless it is English or a domain term
        words = [p.word for p in self._tagger.lcut(norm)
                 if len(p.word) >= 2 and p.word not in self._stopwords and p.word not in self._generic
                 and (p.word in self._domain or (p.flag.startswith(tags) and not (skip and p.flag.startswith(skip))
                                                 and (known.get(p.word) or p.word.isascii())))]
        return list(dict.fromkeys(words))

    def specificity(self, word: str) -> float:
        """How specific a word is in everyday Chinese: log(corpus size / its frequency in jieba's dictionary).

        时候 or 东西 score low; 宽带, 容积率 or a word jieba has never seen score high.
        """
        if word.isascii():
            return _LATIN_SPECIFICITY  # jieba counts no English: an English word weighs like a common noun
        tok = self._jieba
        tok.check_initialized()
        return math.log(tok.total / max(tok.FREQ.get(word, 0), 1))

    def __call__(self, text: str) -> list[str]:
        """Return the search tokens of ``text``: words, their sub-words, no punctuation or stopwords."""
        norm = self._normalize(text)
        return [
            t
            for t in self._jieba.cut_for_search(norm)
            if _WORDISH.search(t) and t.strip() and t not in self._stopwords
        ]
