"""What a reply advises: dangerous actions, promised time limits and claims that contradict a policy.

The reply linter and the quiz grader share these checks. Everything they look for is data in
``kb/rules/advice.yaml``; this module only reads polarity and numbers:

- a must-not-do action (``MustNotDo.patterns``) is *advised* when a clause names it and nothing in that
  clause forbids it: no negator before it within ``negation_window`` characters (不要坐电梯, 千万别开灯, 禁止使用
  电梯), no scope breaker between the negator and the action (不要开窗而是开灯 is advice), no "很危险/不行" after
  it, no "no" answering it when the clause is a question, no staff subject (维保人员会扒开门), and no ``unless``
  in its sentence (到室外后再打电话);
- a promised time limit is a number and a unit followed by 内/之内/到场… (or a relative day such as 明天上门);
  it is wrong when it is longer than the case's limit and the KB states no such limit for the case;
- a contradiction is a claim pattern (宽限期内也照样收滞纳金) in a clause that does not negate it.

Polarity is decided by these rules, never by the embedding model: multilingual-e5-small puts 不要坐电梯 and
赶紧坐电梯 side by side. The text must already be normalised (simplified characters, half-width; see
``ReplyLinter``) so that traditional and full-width replies read the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from kb.schema import AdviceRules, Contradiction, MustNotDo

# A clause ends at a comma-like mark, or at a space between two Chinese characters (agents type spaces for commas:
# 别开窗 开灯 is two clauses), but not at a space inside English (don't take the elevator).
_CLAUSE = re.compile(r"(?:[^，,。！？!?；;：:\n\s]|(?<![\u4e00-\u9fff])\s+|\s+(?![\u4e00-\u9fff]))+"
                     r"(?:[，,。！？!?；;：:\n]+|\s+)?")
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?\n]*")
_QUESTION_WORDS = re.compile(r"吗|呢|行不行|能不能|可不可以|要不要|可以不|好不好|对不对")
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_BLANK = "□"


class AdviceKind(StrEnum):
    """What is wrong with what a reply advises or states."""

    UNSAFE = "unsafe"
    WRONG_PROMISE = "wrong_promise"
    CONTRADICTION = "contradiction"


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """The time limit a reply to the case may promise, and the other limits the KB states for it.

    ``allowed`` limits may be promised for anything (the case's own must-say points state them); a ``stated``
    limit only for the action the KB states it for (3个工作日内答复 excuses 3个工作日内给您答复, not 3个工作日内到场).
    """

    minutes: int
    allowed: frozenset[int] = frozenset()
    basis: tuple[str, ...] = ()
    stated: tuple[tuple[int, frozenset[str]], ...] = ()


@dataclass(frozen=True, slots=True)
class CaseAdvice:
    """What the case tells the checks: its own words, its time limit, and the items that surely apply.

    ``must_not_do`` and ``contradictions`` (ids from kb/rules/advice.yaml) are checked without looking for
    their context words; every other item applies when its context words occur in the reply or the case.
    """

    context: str = ""
    limit: TimeLimit | None = None
    must_not_do: tuple[str, ...] = ()
    contradictions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Promise:
    """A time limit stated in a text, in minutes, located."""

    minutes: int
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class AdviceFinding:
    """A sentence that advises a dangerous action, promises a wrong time or contradicts a policy."""

    kind: AdviceKind
    rule: str
    text: str
    start: int
    end: int
    sentence: str
    message: str
    suggestion: str
    basis: tuple[str, ...]


def _cn_number(raw: str) -> float | None:
    """'24' → 24, '二十四' → 24, '两' → 2, '半' → 0.5, '十' → 10."""
    if raw.replace(".", "", 1).isdigit():
        return float(raw)
    if raw == "半":
        return 0.5
    if "十" in raw:
        tens, _, ones = raw.partition("十")
        t = _CN_DIGITS.get(tens, 1) if tens else 1
        o = _CN_DIGITS.get(ones, 0) if ones else 0
        return float(t * 10 + o) if (not tens or tens in _CN_DIGITS) and (not ones or ones in _CN_DIGITS) else None
    return float(_CN_DIGITS[raw]) if raw in _CN_DIGITS else None


def _any(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts)) if parts else None


class AdviceChecker:
    """Reads what a reply advises, promises and claims (see the module docstring). Pure; cheap to build."""

    def __init__(self, rules: AdviceRules) -> None:
        self._rules = rules
        self._negator = _any(rules.negators)
        self._adjacent = _any(rules.adjacent_negators)
        self._not_negator = _any(rules.not_negators)
        self._feeling = _any(rules.feelings)
        self._breaker = _any(rules.scope_breakers)
        self._after = _any(rules.after_negators)
        self._answer = _any(rules.answers)
        self._staff = _any(rules.staff_subjects)
        self._resident = _any(rules.resident_subjects)
        self._items = [(item, [re.compile(p) for p in item.patterns], _any(item.unless))
                       for item in rules.must_not_do]
        self._claims = [(c, [re.compile(p) for p in c.patterns]) for c in rules.contradictions]
        units = sorted(((w, u.minutes) for u in rules.time_units for w in u.words), key=lambda x: -len(x[0]))
        self._unit_minutes = {w.lower(): m for w, m in units}
        unit_alt = "|".join(re.escape(w) for w, _ in units)
        number = r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十]{1,3}|半)"
        # 70周岁 is an age, not 70 weeks; 10月1日 is a date, not one day
        self._duration = re.compile(rf"(?<![\d.月]){number}\s*({unit_alt})(?!岁)", re.IGNORECASE)
        self._suffix = re.compile(rules.time_suffix)
        self._relative = [(re.compile(r.pattern), r.minutes) for r in rules.relative_times]
        self._exempt = _any(rules.promise_exempt)
        self._actions = tuple(sorted(rules.service_actions, key=len, reverse=True))
        self._level_words = re.compile(rules.level_words)

    @property
    def must_not_do(self) -> tuple[MustNotDo, ...]:
        """Every must-not-do item."""
        return tuple(self._rules.must_not_do)

    @property
    def contradictions(self) -> tuple[Contradiction, ...]:
        """Every contradiction item."""
        return tuple(self._rules.contradictions)

    # ------------------------------------------------------------ polarity

    def _blanked(self, text: str) -> str:
        """Blank out negated feelings (别慌) and words that hold a negator without negating (不如, 别人)."""
        for pattern in (self._feeling, self._not_negator):
            if pattern is not None:
                text = pattern.sub(lambda m: _BLANK * len(m.group(0)), text)
        return text

    def is_negated(self, clause: str, start: int, end: int, next_clause: str = "") -> bool:
        """Whether the action at ``clause[start:end]`` is forbidden, not advised, by its clause.

        Args:
            clause: The clause holding the action (already normalised).
            start: Start of the action in the clause.
            end: End of the action in the clause.
            next_clause: The clause after it (answers a question: 坐电梯？千万不要！).
        """
        blank = self._blanked(clause)
        prefix = blank[:start]
        if self._negator is not None:
            last = None
            for m in self._negator.finditer(prefix):
                last = m
            if last is not None:
                gap = prefix[last.end():]
                broken = self._breaker is not None and self._breaker.search(gap) is not None
                if len(gap) <= self._rules.negation_window and not broken:
                    return True
        if self._adjacent is not None:
            for m in self._adjacent.finditer(prefix):
                if len(prefix) - m.end() <= 1:
                    return True
        if self._after is not None and self._after.search(blank[end:]):
            return True
        stripped = clause.rstrip()
        if stripped.endswith(("？", "?")):
            if _QUESTION_WORDS.search(clause):
                return True  # a question about the action is not advice to do it
            if self._answer is not None and self._answer.search(next_clause.strip()):
                return True
        return False

    def _staff_action(self, clause: str, start: int) -> bool:
        """Whether the clause's subject before the action is staff (我们的师傅会…), not the resident."""
        prefix = self._blanked(clause)[:start]
        staff = [m.end() for m in self._staff.finditer(prefix)] if self._staff is not None else []
        if not staff:
            return False
        resident = [m.end() for m in self._resident.finditer(prefix)] if self._resident is not None else []
        return not resident or max(staff) > max(resident)

    @staticmethod
    def _clauses(text: str) -> list[tuple[int, str]]:
        return [(m.start(), m.group(0)) for m in _CLAUSE.finditer(text)]

    @staticmethod
    def _sentence_at(text: str, pos: int) -> tuple[int, str]:
        for m in _SENTENCE.finditer(text):
            if m.start() <= pos < m.end():
                return m.start(), m.group(0)
        return 0, text

    def _advised(self, text: str, patterns: list[re.Pattern[str]], *,
                 staff_excused: bool = True) -> Iterator[tuple[int, int, str]]:
        """Spans where a pattern names the action in a clause that does not forbid it; with its sentence.

        ``staff_excused``: an action whose subject is staff (维保人员会扒开门) is not advice to the resident; a claim
        (我去跟他说是您投诉的) is wrong whoever makes it, so contradictions pass False.
        """
        clauses = self._clauses(text)
        for i, (offset, clause) in enumerate(clauses):
            nxt = clauses[i + 1][1] if i + 1 < len(clauses) else ""
            taken: list[tuple[int, int]] = []
            for pattern in patterns:
                for m in pattern.finditer(clause):
                    if any(a < m.end() and m.start() < b for a, b in taken):
                        continue
                    if self.is_negated(clause, m.start(), m.end(), nxt):
                        continue
                    if staff_excused and self._staff_action(clause, m.start()):
                        continue
                    taken.append((m.start(), m.end()))
                    _, sentence = self._sentence_at(text, offset + m.start())
                    yield offset + m.start(), offset + m.end(), sentence.strip()

    def has_negation(self, text: str) -> bool:
        """Whether a short text (a must-say point or a sentence) carries a prohibition (不要…, 别…)."""
        blank = self._blanked(text)
        if self._negator is not None and self._negator.search(blank):
            return True
        return self._adjacent is not None and self._adjacent.search(blank) is not None

    # ------------------------------------------------------------ checks

    def unsafe(self, text: str, *, context: str = "", forced: Iterable[str] = ()) -> list[AdviceFinding]:
        """Sentences advising a must-not-do action.

        Args:
            text: The normalised reply.
            context: The case's own words (the resident's messages); context cues are looked for here too.
            forced: Item ids that apply whatever the context (the scenario lists them).
        """
        forced_ids = set(forced)
        where = f"{context}\n{text}"
        out: list[AdviceFinding] = []
        for item, patterns, unless in self._items:
            if item.id not in forced_ids and item.context and not any(c in where for c in item.context):
                continue
            for start, end, sentence in self._advised(text, patterns):
                if unless is not None and unless.search(sentence):
                    continue
                out.append(AdviceFinding(AdviceKind.UNSAFE, item.id, text[start:end], start, end, sentence,
                                         f"危险建议「{sentence}」：{item.action}。{item.danger}", item.rewrite,
                                         tuple(item.basis)))
        return out

    def contradicted(self, text: str, *, context: str = "", forced: Iterable[str] = ()) -> list[AdviceFinding]:
        """Sentences stating the opposite of a policy fact (see ``unsafe`` for the arguments)."""
        forced_ids = set(forced)
        where = f"{context}\n{text}"
        out: list[AdviceFinding] = []
        for claim, patterns in self._claims:
            if claim.id not in forced_ids and claim.context and not any(c in where for c in claim.context):
                continue
            for start, end, sentence in self._advised(text, patterns, staff_excused=False):
                out.append(AdviceFinding(AdviceKind.CONTRADICTION, claim.id, text[start:end], start, end, sentence,
                                         f"与制度不符「{sentence}」：{claim.claim}", f"应为：{claim.fact}",
                                         tuple(claim.basis)))
        return out

    def durations(self, text: str) -> list[Promise]:
        """Every number-and-unit duration in a text (24小时, 三个工作日, 半小时), promised or not."""
        out = []
        for m in self._duration.finditer(text):
            value = _cn_number(m.group(1))
            unit = self._unit_minutes.get(m.group(2).lower())
            if value is None or unit is None:
                continue
            out.append(Promise(round(value * unit), m.group(0), m.start(), m.end()))
        return out

    def promises(self, text: str) -> list[Promise]:
        """Time limits a text commits to: a duration followed by 内/到场…, or a relative day with a service verb."""
        out = [p for p in self.durations(text) if self._suffix.match(text, p.end)]
        # a relative day and its service verb are read within one clause (明天上午，请您提前安排 is no promise)
        for at, clause in self._clauses(text):
            for pattern, minutes in self._relative:
                for m in pattern.finditer(clause):
                    start, end = at + m.start(), at + m.end()
                    if not any(p.start < end and start < p.end for p in out):
                        out.append(Promise(minutes, m.group(0), start, end))
        return sorted(out, key=lambda p: p.start)

    def actions(self, text: str) -> frozenset[str]:
        """The service actions (``service_actions``: 到场, 答复 …) a text names."""
        return frozenset(a for a in self._actions if a in text)

    def stated_limits(self, texts: Iterable[str]) -> tuple[tuple[int, frozenset[str]], ...]:
        """The limits KB texts promise, each with the actions it is promised for (see ``TimeLimit.stated``).

        A sentence naming an urgency level (按三级24小时内处理) states that level's limit, not the case's, and is
        skipped: the case's level gives its own limit.
        """
        out: list[tuple[int, frozenset[str]]] = []
        for text in texts:
            for m in _SENTENCE.finditer(text):
                sentence = m.group(0)
                if self._level_words.search(sentence):
                    continue
                clauses = self._clauses(sentence)
                for p in self.promises(sentence):
                    at, clause = next(((s, c) for s, c in reversed(clauses) if s <= p.start), (0, sentence))
                    acts = self.actions(clause[p.start - at:])
                    if acts:
                        out.append((p.minutes, acts))
        return tuple(dict.fromkeys(out))

    def wrong_promises(self, text: str, limit: TimeLimit) -> list[AdviceFinding]:
        """Promised limits longer than the case allows and stated nowhere in the KB for it (for that action)."""
        out = []
        clauses = self._clauses(text)
        for p in self.promises(text):
            if p.minutes <= limit.minutes or p.minutes in limit.allowed:
                continue
            offset, clause = next(((s, c) for s, c in reversed(clauses) if s <= p.start), (0, text))
            acts = self.actions(clause[p.start - offset:])
            if any(m == p.minutes and acts & stated for m, stated in limit.stated):
                continue
            if self.is_negated(clause, p.start - offset, p.end - offset):
                continue  # 不用等24小时 is not a promise of 24 hours
            _, sentence = self._sentence_at(text, p.start)
            if self._exempt is not None and self._exempt.search(sentence):
                continue
            out.append(AdviceFinding(AdviceKind.WRONG_PROMISE, "promise", p.text, p.start, p.end, sentence.strip(),
                                     f"承诺时限「{p.text}」超过本案时限 {_minutes_text(limit.minutes)}",
                                     f"按本案时限承诺：{_minutes_text(limit.minutes)}内", limit.basis))
        return out

    def run(self, text: str, case: CaseAdvice) -> list[AdviceFinding]:
        """All advice findings for a normalised reply: unsafe first, then wrong promises, then contradictions."""
        found = self.unsafe(text, context=case.context, forced=case.must_not_do)
        if case.limit is not None:
            found += self.wrong_promises(text, case.limit)
        found += self.contradicted(text, context=case.context, forced=case.contradictions)
        return found


def _minutes_text(minutes: int) -> str:
    if minutes % 1440 == 0 and minutes >= 1440:
        return f"{minutes // 1440}天"
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"
