"""Topic: does a reply speak about the case in front of it, or about something else (答非所问)?

Multilingual-e5 puts any two sentences about a residential compound close together: "2号楼的电梯年检下个月做" sits
next to "我被困在2号楼的电梯里", and a reply about the parking card next to a question about the late fee. The check
reads the reply's content words (nouns and domain terms, ``Segmenter.content_words``), each weighted by how
specific it is in everyday Chinese (``Segmenter.specificity``), and looks for each in the case: the resident's
messages, the points a good reply makes and the KB clauses behind them. Courtesy words and forms of address
(记下, 到时候, 阿姨…) and staff (保安, 电工, 电梯公司…) never tell what a reply is about and count as found.

A reply is off topic when most of its content weight is not in the case (``OffTopicRules.max_coverage``) and what
is missing weighs enough to be a subject of its own (``min_uncovered``): 物业费, 垃圾分类, 充电桩 in a reply to a power
cut. A bare acknowledgement (知道了) or a reply that only names staff and actions (让保安过去看看) has no subject of
its own and is not off topic: it is judged as dismissive or mediocre by the other rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.tokens import Segmenter, TextNormalizer
from kb.load import KnowledgeBase
from kb.schema import OffTopicRules, ScriptScenario

_HAS_DIGIT = re.compile(r"\d")
# nouns and verbal nouns (年检, 修剪) name what a reply is about; idioms (管不了, 没关系) and people's names do not
_SUBJECT_TAGS = ("n", "vn")
_NAME_TAGS = ("nr",)


@dataclass(frozen=True, slots=True)
class TopicVerdict:
    """How much of a reply's content the case speaks of."""

    coverage: float                 # share of the reply's content weight found in the case (0–1)
    uncovered_weight: float
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]
    off_topic: bool


class TopicCheck:
    """Checks a reply's content words against the case (see the module docstring). Cheap to build."""

    def __init__(self, segmenter: Segmenter, rules: OffTopicRules, *, neutral: Iterable[str] = ()) -> None:
        """Args:
            segmenter: The KB's segmenter (domain dictionary, part-of-speech tags, specificity).
            rules: Thresholds and the courtesy words (kb/rules/advice.yaml ``off_topic``).
            neutral: More words that never name a subject (staff: ``AdviceRules.staff_subjects``).
        """
        self._segmenter = segmenter
        self._rules = rules
        self._normalize = TextNormalizer()
        words = [self._normalize(w) for w in (*rules.ignore, *neutral) if w and not any(c in w for c in "()[]|?\\")]
        self._neutral = frozenset(words)

    def _neutral_word(self, word: str) -> bool:
        # a word with a digit is a place or a number (B2层, 1502), not a subject
        return bool(_HAS_DIGIT.search(word)) or word in self._neutral

    def run(self, reply: str, context: str) -> TopicVerdict:
        """Weigh the reply's content words found in ``context`` (the case's words) against those not found.

        Args:
            reply: The reply, in any script.
            context: Everything the case says: the resident's messages, the must-say points, the KB clauses.
        """
        seg = self._segmenter
        synonyms = seg.lexicon.synonyms
        text = self._normalize(context)
        canon_of: dict[str, list[str]] = {}
        for canon, variants in synonyms.items():
            for v in variants:
                canon_of.setdefault(v, []).append(canon)

        def found(word: str) -> bool:
            return (word in text or any(c in text for c in canon_of.get(word, ()))
                    or any(v in text for v in synonyms.get(word, ())))

        words = [w for w in seg.content_words(reply, tags=_SUBJECT_TAGS, skip=_NAME_TAGS)
                 if not self._neutral_word(w)]
        covered = [w for w in words if found(w)]
        uncovered = [w for w in words if w not in covered]
        total = sum(seg.specificity(w) for w in words)
        missing = sum(seg.specificity(w) for w in uncovered)
        coverage = 1.0 if total == 0 else (total - missing) / total
        off = coverage < self._rules.max_coverage and missing >= self._rules.min_uncovered
        return TopicVerdict(round(coverage, 3), round(missing, 2), tuple(covered), tuple(uncovered), off)


def service_vocabulary(kb: KnowledgeBase, segmenter: Segmenter) -> frozenset[str]:
    """The words of the company's own service phrasing: nouns of the standard reply scripts (工单号, 地址, 进展,
    核实…) that name no problem (not a level cue or a route cue of the triage rules), and the company's name.

    A reply built from the scripts speaks of the case through ``{issue}``; these words around it never make it
    about something else.
    """
    norm = TextNormalizer()
    rules = kb.rules
    problems = {norm(c) for lv in rules.urgency.levels for c in (*lv.cues, *(w for cb in lv.combos for g in cb.all
                                                                               for w in g))}
    problems |= {norm(c) for cat in rules.routing.categories for route in cat.routes for c in route.cues}
    words: set[str] = set()
    for script in kb.scripts:
        if script.scenario in (ScriptScenario.EMERGENCY, ScriptScenario.CHAT):
            continue  # the safety instructions name hazards; the chat scripts are not an agent's phrasing
        words.update(segmenter.content_words(script.text, tags=_SUBJECT_TAGS, skip=_NAME_TAGS))
    company = kb.values.get("company.name")
    if company is not None:
        words.update(segmenter.content_words(str(company.value), tags=_SUBJECT_TAGS))
    return frozenset(w for w in words if w not in problems)
