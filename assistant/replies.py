"""Agent assist: the reply linter (unsafe advice, wrong promises, policy contradictions, banned phrases, required
elements). Suggested replies: assistant/suggest.py."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from opencc import OpenCC

from assistant.advice import AdviceChecker, AdviceKind, CaseAdvice, TimeLimit
from kb.load import Clause, Rules
from kb.schema import Urgency

Situation = str  # "repair" | "complaint" | "emergency" | "first_contact" | "any"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a reply, located in the text, with the rule it breaks and a better wording."""

    rule: str
    kind: str  # unsafe | wrong_promise | contradiction | banned | missing (FINDING_ORDER)
    text: str
    start: int
    end: int
    message: str
    suggestion: str
    basis: tuple[str, ...]
    quote: str = ""  # the first clause of ``basis``, quoted (safety findings)
    sentence: str = ""  # the whole sentence the finding sits in


# Safety findings come first: a reply that endangers someone is wrong before it is impolite.
FINDING_ORDER = (AdviceKind.UNSAFE.value, AdviceKind.WRONG_PROMISE.value, AdviceKind.CONTRADICTION.value,
                 "banned", "missing")
# Without a ticket, the linter checks promised times only for levels 1 and 2, where a slow promise endangers
# people or basic living; above that, several legitimate limits (3 working days for a rectification plan…)
# are not tied to the level, and a quiz scenario states them itself.
CHECKED_PROMISE_LEVELS = frozenset({Urgency.LEVEL_1, Urgency.LEVEL_2})


@dataclass(frozen=True, slots=True)
class LintResult:
    """The linter's verdict."""

    ok: bool
    findings: tuple[Finding, ...]


def _loose(phrase: str) -> re.Pattern[str]:
    """Match a phrase with any spacing or punctuation between its characters (不 清 楚, 不-归-我-管)."""
    chars = [re.escape(c) for c in phrase if not c.isspace()]
    return re.compile(r"[\s\W_]{0,2}".join(chars))


class ReplyLinter:
    """Checks an agent's reply against kb/rules/advice.yaml and kb/rules/banned_phrases.yaml."""

    def __init__(self, rules: Rules, *, clauses: Mapping[str, Clause] | None = None) -> None:
        self._rules = rules
        self._phrases = [(p, [_loose(v) for v in (p.phrase, *p.variants)]) for p in rules.banned.phrases]
        self._elements = rules.banned.elements
        self._advice = AdviceChecker(rules.advice)
        self._clauses = clauses or {}
        self._t2s = OpenCC("t2s")

    def simplified(self, text: str) -> str:
        """Traditional → simplified and full-width → half-width, keeping positions meaningful."""
        return str(self._t2s.convert(unicodedata.normalize("NFKC", text)))

    def level_limit(self, urgency: Urgency) -> TimeLimit:
        """The time limit of an urgency level (a callback after the work is exempt, see ``promise_exempt``)."""
        level = next(lv for lv in self._rules.urgency.levels if lv.level == urgency)
        return TimeLimit(level.sla_minutes, frozenset(), tuple(level.basis))

    def _quote(self, basis: tuple[str, ...]) -> str:
        for ref in basis:
            clause = self._clauses.get(ref)
            if clause is not None:
                return f"{ref}：{clause.text[:160]}"
        return ""

    def run(self, text: str, *, situations: tuple[Situation, ...] = ("any",), case: CaseAdvice | None = None,
            urgency: Urgency | None = None) -> LintResult:
        """Find unsafe advice, wrong promises, policy contradictions, banned phrases and missing elements.

        Args:
            text: The reply.
            situations: Which element sets apply, e.g. ("first_contact", "repair").
            case: What is known of the case (its words, time limit, the must-not-do items that surely apply).
            urgency: The case's level, when ``case`` gives no time limit ("emergency" implies level 1).

        Returns:
            ok = no finding; findings are sorted safety first (``FINDING_ORDER``), each with the rule, its
            clauses and a suggested rewording. An unsafe finding makes ``ok`` false in every situation.
        """
        original, text = text, self.simplified(text)
        case = case or CaseAdvice()
        limit = case.limit
        level = urgency or (Urgency.LEVEL_1 if "emergency" in situations else None)
        if limit is None and level is not None and level in CHECKED_PROMISE_LEVELS:
            limit = self.level_limit(level)
        advice = self._advice.run(text, CaseAdvice(self.simplified(case.context), limit, case.must_not_do,
                                                    case.contradictions))
        same = len(original) == len(text)  # NFKC and t2s kept every position: quote the agent's own characters

        def own(fragment: str) -> str:
            at = text.find(fragment)
            return original[at:at + len(fragment)] if same and at >= 0 else fragment

        findings: list[Finding] = [
            Finding(a.rule, a.kind.value, original[a.start:a.end] if same else a.text, a.start, a.end,
                    a.message.replace(a.sentence, own(a.sentence)), a.suggestion, a.basis, self._quote(a.basis),
                    own(a.sentence))
            for a in advice]
        taken: list[tuple[int, int]] = []
        for phrase, patterns in self._phrases:
            for pattern in patterns:
                for m in pattern.finditer(text):
                    if any(a < m.end() and m.start() < b for a, b in taken):
                        continue
                    taken.append((m.start(), m.end()))
                    findings.append(Finding(f"banned:{phrase.phrase}", "banned", m.group(0), m.start(), m.end(),
                                            f"推诿用语「{m.group(0)}」：{phrase.reason}", phrase.rewrite,
                                            tuple(phrase.basis)))
        wanted = set(situations)
        for el in self._elements:
            if not (wanted & set(el.situations)) and "any" not in el.situations:
                continue
            if not any(c in text for c in el.cues):
                findings.append(Finding(f"missing:{el.name}", "missing", "", 0, 0, f"缺少「{el.label}」",
                                        el.suggestion, tuple(el.basis)))
        findings.sort(key=lambda f: (FINDING_ORDER.index(f.kind), f.start))
        return LintResult(not findings, tuple(findings))


_MOVED = frozenset({"CaseFacts", "Suggestion", "case_facts", "situations_for", "suggest"})


def __getattr__(name: str) -> object:
    """The suggestion code moved to assistant/suggest.py; old imports from here keep working."""
    if name in _MOVED:
        from assistant import suggest as _suggest

        return getattr(_suggest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
