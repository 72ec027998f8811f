"""Grounding: does the KB entry that retrieval found speak about what the question asks?

Multilingual-e5 puts any two Chinese sentences on one topic close together, so a question about a hotel deposit
lands on the renovation deposit, one about the gas company's late fee on the property fee's, one about a flat's
market price on the fee rate. Grounding reads the question's content words (nouns and domain terms) and checks
which of them the entry mentions (directly or through a synonym in kb/rules/dictionary.yaml). Each word weighs by
how specific it is in everyday Chinese (时候 weighs little, 宽带 or 容积率 a lot). The entry answers the question
when it covers enough of that weight, or when what it leaves uncovered is small.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.tokens import Segmenter


@dataclass(frozen=True, slots=True)
class Grounding:
    """How well one entry covers a question's content words."""

    entry_id: str
    coverage: float                 # share of the question's content weight the entry mentions (0–1)
    uncovered_weight: float         # the weight it does not mention
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]
    grounded: bool

    @property
    def reason(self) -> str:
        """One line for logs, the hit-test view and the eval."""
        verdict = "answers" if self.grounded else "does not answer"
        missing = "、".join(self.uncovered[:6]) or "—"
        return (f"{self.entry_id} {verdict} the question: covers {self.coverage:.0%} of its content words; "
                f"missing {missing}")


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

    words = segmenter.content_words(question)
    covered = [w for w in words if mentioned(w)]
    uncovered = [w for w in words if w not in covered]
    total = sum(segmenter.specificity(w) for w in words)
    missing = sum(segmenter.specificity(w) for w in uncovered)
    coverage = 1.0 if total == 0 else (total - missing) / total
    grounded = coverage >= min_coverage or missing < max_uncovered
    return Grounding(entry_id, round(coverage, 3), round(missing, 2), tuple(covered), tuple(uncovered), grounded)
