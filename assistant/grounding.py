"""Grounding: does the KB entry that retrieval found speak about what the question asks?

Multilingual-e5 puts any two Chinese sentences on one topic close together, so a question about a hotel deposit
lands on the renovation deposit, one about the gas company's late fee on the property fee's, one about a flat's
market price on the fee rate. Grounding reads the question's content words (nouns and domain terms) and checks
which of them the entry mentions (directly or through a synonym in kb/rules/dictionary.yaml). Each word weighs by
how specific it is in everyday Chinese (时候 weighs little, 宽带 or 容积率 a lot). The entry answers the question
when it covers enough of that weight, or when what it leaves uncovered is small (and it covers something).

A question that asks for a figure (多少钱、几号开放、多久一次, kb/rules/dictionary.yaml ``asks``) is answered only by
an entry that states such a figure: the pet rules speak about leashes but not about the fine a resident asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.tokens import Segmenter

_AMBIENT_WEIGHT = 0.25  # an ambient word (小区、物业) weighs a quarter of its everyday specificity


@dataclass(frozen=True, slots=True)
class Grounding:
    """How well one entry covers a question's content words."""

    entry_id: str
    coverage: float                 # share of the question's content weight the entry mentions (0–1)
    uncovered_weight: float         # the weight it does not mention
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]
    grounded: bool
    unstated: str | None = None     # the kind of figure the question asks for and the entry does not state

    @property
    def reason(self) -> str:
        """One line for logs, the hit-test view and the eval."""
        verdict = "answers" if self.grounded else "does not answer"
        missing = "、".join(self.uncovered[:6]) or "—"
        asks = f"; it asks for {self.unstated} the entry does not state" if self.unstated else ""
        return (f"{self.entry_id} {verdict} the question: covers {self.coverage:.0%} of its content words; "
                f"missing {missing}{asks}")


def ground(question: str, entry_id: str, entry_text: str, segmenter: Segmenter, *,
           min_coverage: float, max_uncovered: float) -> Grounding:
    """Check ``entry_text`` (normalised) against the content words of ``question``.

    Args:
        question: The resident's text.
        entry_id: The entry retrieval ranked first.
        entry_text: That entry's normalised text (all its chunks).
        segmenter: The index's segmenter (domain dictionary, synonyms, part-of-speech tags).
        min_coverage: Grounded when the covered share is at least this…
        max_uncovered: …or when the uncovered weight is below this.
    """
    synonyms = segmenter.lexicon.synonyms
    canon_of: dict[str, list[str]] = {}
    for canon, variants in synonyms.items():
        for v in variants:
            canon_of.setdefault(v, []).append(canon)

    def mentioned(word: str) -> bool:
        if word in entry_text:
            return True
        if any(c in entry_text for c in canon_of.get(word, ())):
            return True
        return any(v in entry_text for v in synonyms.get(word, ()))

    ambient = frozenset(segmenter.lexicon.ambient)

    def weight(word: str) -> float:
        return segmenter.specificity(word) * (_AMBIENT_WEIGHT if word in ambient else 1.0)

    words = segmenter.content_words(question)
    covered = [w for w in words if mentioned(w)]
    uncovered = [w for w in words if w not in covered]
    total = sum(weight(w) for w in words)
    missing = sum(weight(w) for w in uncovered)
    coverage = 1.0 if total == 0 else (total - missing) / total
    # a small uncovered weight passes only beside a covered word that is not ambient: 二手房 unmentioned beside a
    # mentioned 小区 is not "small"
    topical = any(w not in ambient for w in covered) or not any(w not in ambient for w in words)
    grounded = coverage >= min_coverage or (missing < max_uncovered and topical)
    unstated = unstated_figure(question, entry_text, segmenter.lexicon.asks)
    return Grounding(entry_id, round(coverage, 3), round(missing, 2), tuple(covered), tuple(uncovered),
                     grounded and unstated is None, unstated)


def unstated_figure(question: str, entry_text: str, asks: tuple[tuple[str, str, str], ...]) -> str | None:
    """The kind of figure ``question`` asks for (an amount, a date, a duration …) that ``entry_text`` never states."""
    for name, asked, stated in asks:
        if re.search(asked, question, re.IGNORECASE) and not re.search(stated, entry_text, re.IGNORECASE):
            return name
    return None
