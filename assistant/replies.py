"""Agent assist: the reply linter (unsafe advice, wrong promises, policy contradictions, banned phrases, required
elements). Suggested replies: assistant/suggest.py."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from opencc import OpenCC

from assistant.advice import AdviceChecker, AdviceKind, CaseAdvice, TimeLimit
from assistant.sla import deadlines_for
from kb.load import Clause, Rules
from kb.schema import Category, Situation, Urgency


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
        self._stated: dict[tuple[Urgency, Category | None], tuple[tuple[int, frozenset[str]], ...]] = {}

    def simplified(self, text: str) -> str:
        """Traditional → simplified and full-width → half-width, keeping positions meaningful."""
        return str(self._t2s.convert(unicodedata.normalize("NFKC", text)))

    def level_limit(self, urgency: Urgency, category: Category | None = None) -> TimeLimit:
        """The time limit of an urgency level (a callback after the work is exempt, see ``promise_exempt``), and
        for a known category the limits the KB states for particular actions of such a case: 12 小时内联系投诉人核实
        and 3个工作日内提交整改方案 for a complaint, 48 小时内告知建议人已受理 for a suggestion. These come from the
        clauses behind the category and the deadlines it gets (``assistant.sla.deadlines_for``), not from the
        levels' own clauses, and excuse only a promise of the same action (``TimeLimit.stated``)."""
        level = next(lv for lv in self._rules.urgency.levels if lv.level == urgency)
        key = (urgency, category)
        if category is not None and key not in self._stated:
            levels = {ref for lv in self._rules.urgency.levels for ref in lv.basis}
            rule = next(c for c in self._rules.routing.categories if c.category == category)
            deadlines = deadlines_for(self._rules, urgency=urgency, category=category, kinds=(),
                                      created_at=datetime(2000, 1, 1, tzinfo=UTC))
            refs = dict.fromkeys(ref for ref in (*rule.basis, *(r for d in deadlines for r in d.basis))
                                 if ref not in levels)
            self._stated[key] = self._advice.stated_limits(
                self._clauses[ref].text for ref in refs if ref in self._clauses)
        return TimeLimit(level.sla_minutes, frozenset(), tuple(level.basis), self._stated.get(key, ()))

    def _quote(self, basis: tuple[str, ...]) -> str:
        for ref in basis:
            clause = self._clauses.get(ref)
            if clause is not None:
                return f"{ref}：{clause.text[:160]}"
        return ""

    def run(self, text: str, *, situations: tuple[Situation, ...] = (Situation.ANY,), case: CaseAdvice | None = None,
            urgency: Urgency | None = None, category: Category | None = None) -> LintResult:
        """Find unsafe advice, wrong promises, policy contradictions, banned phrases and missing elements.

        Args:
            text: The reply.
            situations: Which element sets apply, e.g. ("first_contact", "repair").
            case: What is known of the case (its words, time limit, the must-not-do items that surely apply).
            urgency: The case's level, when ``case`` gives no time limit ("emergency" implies level 1).
            category: The case's category: the limits its policies state for particular actions are accepted.

        Returns:
            ok = no finding; findings are sorted safety first (``FINDING_ORDER``), each with the rule, its
            clauses and a suggested rewording. An unsafe finding makes ``ok`` false in every situation.
        """
        original, text = text, self.simplified(text)
        case = case or CaseAdvice()
        limit = case.limit
        level = urgency or (Urgency.LEVEL_1 if Situation.EMERGENCY in situations else None)
        if limit is None and level is not None and level in CHECKED_PROMISE_LEVELS:
            limit = self.level_limit(level, category)
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
            if not (wanted & set(el.situations)) and Situation.ANY not in el.situations:
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
