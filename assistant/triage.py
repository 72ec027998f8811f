"""Triage: message → category, urgency level, department, intent and the cues behind each (runs first).

Deterministic and data-driven: every cue comes from kb/rules/. Level 1 is recall-first — any
level-1 cue anywhere in the message makes the whole message level 1, whatever else it says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from assistant.precedents import Precedents, Vote
from ingest.embed import Embedder
from ingest.tokens import TextNormalizer
from kb.load import Rules
from kb.schema import Category, CategoryRule, TriggerKind, Urgency

_SENTENCE = re.compile(r"[。！？；!?;\n]+")


class Intent(StrEnum):
    """What the resident wants from this message."""

    EMERGENCY = "emergency"
    REPORT = "report"
    QUESTION = "question"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why triage decided something: the rule applied, what matched, and the KB clauses behind it."""

    rule: str
    detail: str
    basis: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a message (a message may hold several)."""

    text: str
    category: Category
    urgency: Urgency
    department: str
    route: str | None
    level_cues: tuple[str, ...]
    category_cues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Triage:
    """The triage of one message. ``issues[0]`` is the most urgent; the others are kept."""

    category: Category
    urgency: Urgency
    department: str
    route: str | None
    intent: Intent
    issues: tuple[Issue, ...]
    signals: dict[TriggerKind, tuple[str, ...]]
    reasons: tuple[Reason, ...]
    normalized: str
    asks: bool = False

    @property
    def emergency(self) -> bool:
        """True for level 1 (personal safety)."""
        return self.urgency == Urgency.LEVEL_1


_FIELD_WORDS = re.compile(r"[\W_\d]+|[零〇一二两三四五六七八九十幺]+(?=栋|单元|室|号楼|楼|号|层)|"
                          r"[零〇一二三四五六七八九幺]{3,}|栋|单元|室|号楼|楼|号|电话|手机")


def _content(text: str) -> str:
    """The text without punctuation, digits, address and phone words: what a field reply says beyond its fields."""
    return _FIELD_WORDS.sub("", text)


def _found(cues: tuple[str, ...], text: str) -> tuple[str, ...]:
    hits = [c for c in cues if c in text]
    # keep the most specific: drop a cue contained in a longer matched cue
    return tuple(c for c in hits if not any(c != o and c in o for o in hits))


class LevelExamples:
    """Semantic recall net: the message's nearest level-1 example or cue versus the nearest of levels 2–4.

    Rules decide first; this only ever raises a message to level 1 (recall over precision), when the
    message is closer to a level-1 example than ``floor`` and than every other level by ``margin``.
    """

    def __init__(self, rules: Rules, embedder: Embedder, *, floor: float, margin: float) -> None:
        self._rules = rules
        self._embedder = embedder
        self.floor = floor
        self.margin = margin
        self._texts: dict[int, list[str]] = {}
        self._vectors: dict[int, np.ndarray] = {}

    def warm_up(self) -> None:
        """Embed every example and every cue of three or more characters, once."""
        if self._vectors:
            return
        for lv in self._rules.urgency.levels:
            texts = list(dict.fromkeys([*lv.examples, *(c for c in lv.cues if len(c) >= 3)]))
            self._texts[int(lv.level)] = texts
            self._vectors[int(lv.level)] = self._embedder.embed_queries(texts) if texts else np.zeros((0, 1))

    def nearest_level_1(self, text: str) -> tuple[str, float] | None:
        """The level-1 example the message matches, with its cosine, or None."""
        self.warm_up()
        v = self._embedder.embed_queries([text])[0]
        best: dict[int, tuple[float, int]] = {}
        for level, m in self._vectors.items():
            if len(m):
                sims = m @ v
                i = int(np.argmax(sims))
                best[level] = (float(sims[i]), i)
        if 1 not in best:
            return None
        s1, i1 = best[1]
        others = max((s for lv, (s, _) in best.items() if lv != 1), default=-1.0)
        if s1 >= self.floor and s1 - others >= self.margin:
            return self._texts[1][i1], s1
        return None


class Triager:
    """Applies the triage rules of kb/rules/ to resident messages (and, if given, the level-1 recall net)."""

    def __init__(self, rules: Rules, *, examples: LevelExamples | None = None,
                 precedents: Precedents | None = None, level1_share: float = 0.4, category_share: float = 0.5,
                 urgency_share: float = 0.5, report_share: float = 0.7, repeat_share: float = 0.6,
                 level1_min_cosine: float = 0.89) -> None:
        self._rules = rules
        self._examples = examples
        self._precedents = precedents
        self.level1_share = level1_share
        self.category_share = category_share
        self.urgency_share = urgency_share
        self.report_share = report_share
        self.repeat_share = repeat_share
        self.level1_min_cosine = level1_min_cosine
        self._normalize = TextNormalizer()
        self._levels = sorted(rules.urgency.levels, key=lambda lv: lv.level)
        self._level_cues = {lv.level: tuple(self._normalize(c) for c in lv.cues) for lv in self._levels}
        self._combos = {lv.level: tuple((c.name, tuple(tuple(self._normalize(w) for w in g) for g in c.all),
                                         c.category) for c in lv.combos) for lv in self._levels}
        self._categories = {c.category: c for c in rules.routing.categories}
        self._category_cues = {
            c.category: tuple(self._normalize(x) for x in c.cues) for c in rules.routing.categories
        }
        self._route_cues = {
            (c.category, r.name): tuple(self._normalize(x) for x in r.cues)
            for c in rules.routing.categories for r in c.routes
        }
        self._question = tuple(self._normalize(c) for c in rules.routing.question_cues)
        self._procedure = tuple(self._normalize(c) for c in rules.routing.procedure_cues)
        self._request = tuple(self._normalize(c) for c in rules.routing.request_cues)
        self._suggestion = tuple(self._normalize(c) for c in rules.routing.suggestion_cues)
        self._softeners = tuple(self._normalize(c) for c in self._levels[0].softeners)
        self._report = tuple(self._normalize(c) for c in rules.routing.report_cues)
        self._markers = tuple(self._normalize(c) for c in rules.routing.segment_markers)
        self._triggers = {
            t.kind: tuple(self._normalize(c) for c in t.cues) for t in rules.escalation.triggers if t.cues
        }
        self._trigger_patterns = {
            t.kind: tuple(re.compile(p) for p in t.patterns) for t in rules.escalation.triggers if t.patterns
        }

    def _segments(self, text: str) -> list[str]:
        parts = [p for p in _SENTENCE.split(text) if p.strip()]
        out: list[str] = []
        for part in parts:
            pieces = [part]
            for marker in self._markers:
                pieces = [q for p in pieces for q in p.split(marker) if q.strip()]
            out.extend(pieces)
        return out or [text]

    def _route(self, rule: CategoryRule, text: str) -> tuple[str, str | None]:
        best: tuple[int, str, str | None] = (0, rule.department, None)
        for route in rule.routes:
            score = sum(len(c) for c in _found(self._route_cues[(rule.category, route.name)], text))
            if score > best[0]:
                best = (score, route.department, route.name)
        return best[1], best[2]

    def _combo_hits(self, level: int, text: str) -> tuple[tuple[str, Category | None], ...]:
        return tuple((f"{name}（{'+'.join(next(w for w in g if w in text) for g in groups)}）", category)
                     for name, groups, category in self._combos[Urgency(level)]
                     if all(any(w in text for w in g) for g in groups))

    def _issue(self, segment: str) -> Issue | None:
        level_hits: dict[int, tuple[str, ...]] = {}
        situation: Category | None = None  # a matched situation (combo) that decides the category
        for lv, cues in self._level_cues.items():
            combos = self._combo_hits(lv, segment)
            hits = _found(cues, segment) + tuple(name for name, _ in combos)
            if hits:
                level_hits[lv] = hits
                if situation is None or lv < min(level_hits):
                    situation = next((c for _, c in combos if c is not None), situation)
        scores: dict[Category, tuple[int, tuple[str, ...]]] = {}
        for cat, cues in self._category_cues.items():
            hits = _found(cues, segment)
            if hits:
                scores[cat] = (sum(len(h) for h in hits), hits)
        if not level_hits and not scores:
            return None
        top_level = min(level_hits) if level_hits else None
        if situation is not None and top_level is not None:
            category = situation
            cat_cues = scores.get(situation, (0, ()))[1]
        elif scores:
            category = max(scores, key=lambda c: scores[c][0])
            cat_cues = scores[category][1]
        else:
            category, cat_cues = Category.ENGINEERING, ()
        rule = self._categories[category]
        urgency = Urgency(top_level) if top_level is not None else rule.default_urgency
        department, route = self._route(rule, segment)
        return Issue(segment, category, urgency, department, route, level_hits.get(urgency, ()), cat_cues)

    def _with_precedents(self, primary: Issue, vote: Vote, signals: dict[TriggerKind, tuple[str, ...]],
                         text: str) -> tuple[Issue, list[Reason]]:
        """Combine the rules' reading with the nearest labelled messages'.

        Level 1 only ever goes up here (recall first): the precedents raise a message to level 1 when enough of
        them are level 1; the rules' level 1 stands. Below level 1 a clear majority of precedents decides the
        category and the level; a repeat-complaint majority adds the repeat signal.
        """
        reasons: list[Reason] = []
        near = "、".join(f"{i}({c:.2f})" for i, c in vote.nearest[:3])
        share1 = vote.urgency.get(Urgency.LEVEL_1, 0.0)
        category, c_share = vote.top_category()
        level, u_share = vote.top_urgency()
        suggestion = bool(_found(self._suggestion, text))
        mild = bool(_found(self._softeners, text))
        close = vote.nearest[0][1] >= self.level1_min_cosine if vote.nearest else False
        # a short message with no problem word of its own ("我家房子能卖多少钱一平") is not raised by likeness alone
        close = close and bool(primary.category_cues or primary.level_cues or len(_content(primary.text)) >= 20)
        # an explicit level-2 cue (停电, 没水) is evidence of its own; likeness does not overrule it
        close = close and not (primary.urgency == Urgency.LEVEL_2 and primary.level_cues)
        if primary.urgency != Urgency.LEVEL_1 and share1 >= self.level1_share and not suggestion and not mild and close:
            lv = self._levels[0]
            cat = primary.category if primary.category_cues and primary.category in vote.category else category
            rule = self._categories[cat]
            department, route = self._route(rule, primary.text)
            primary = replace(primary, urgency=Urgency.LEVEL_1, category=cat, department=department, route=route,
                              level_cues=(f"相似案例：{vote.nearest[0][0]}",))
            reasons.append(Reason("urgency.level1.precedents", f"{lv.name}（{lv.label}）: {share1:.0%} of the "
                                  f"nearest labelled messages are level 1 ({near}); recall first", tuple(lv.basis)))
            return primary, reasons
        if primary.urgency == Urgency.LEVEL_1:
            return primary, reasons
        names_a_problem = bool(primary.category_cues) and primary.category is not self._rules.routing.questions_go_to
        to_enquiry = category is self._rules.routing.questions_go_to and names_a_problem
        if c_share >= self.category_share and category != primary.category and not to_enquiry:
            rule = self._categories[category]
            department, route = self._route(rule, primary.text)
            reasons.append(Reason(f"routing.{category}.precedents", f"{category} → {rule.department}: {c_share:.0%} "
                                  f"of the nearest labelled messages ({near})", tuple(rule.basis)))
            from_enquiry = primary.category is self._rules.routing.questions_go_to and not primary.level_cues
            primary = replace(primary, category=category, department=department, route=route,
                              urgency=rule.default_urgency if from_enquiry else primary.urgency)
        if u_share >= self.urgency_share and level != primary.urgency and level != Urgency.LEVEL_1 and not (
                level == Urgency.LEVEL_4 and names_a_problem):  # a named problem is not made an enquiry by likeness
            lv = next(x for x in self._levels if x.level == level)
            reasons.append(Reason(f"urgency.level{int(level)}.precedents", f"{lv.name}（{lv.label}）: {u_share:.0%} "
                                  f"of the nearest labelled messages ({near})", tuple(lv.basis)))
            primary = replace(primary, urgency=level)
        if vote.repeat >= self.repeat_share and TriggerKind.REPEAT not in signals:
            signals[TriggerKind.REPEAT] = (f"相似投诉历史：{vote.nearest[0][0]}",)
        return primary, reasons

    def assess(self, message: str) -> Triage:
        """Triage one resident message.

        Args:
            message: The raw text, in any script; several problems may be mixed.

        Returns:
            Category, urgency, department and intent of the most urgent problem, every problem found,
            the escalation cues seen (for ``escalation.decide``), and the reasons.
        """
        text = self._normalize(message)
        issues = [i for i in (self._issue(s) for s in self._segments(text)) if i is not None]
        whole = self._issue(text)
        if whole is not None and (not issues or whole.urgency < min(i.urgency for i in issues)):
            issues.insert(0, whole)  # a cue split across segments still counts (recall first)
        issues.sort(key=lambda i: i.urgency)
        reasons: list[Reason] = []
        if self._examples is not None and (not issues or issues[0].urgency != Urgency.LEVEL_1) and len(text) >= 4:
            near = self._examples.nearest_level_1(text)
            if near is not None:
                base = issues[0] if issues else None
                category = base.category if base else Category.ENGINEERING
                rule = self._categories[category]
                department, route = (base.department, base.route) if base else self._route(rule, text)
                issues.insert(0, Issue(text, category, Urgency.LEVEL_1, department, route,
                                       (f"相似：{near[0]}",), base.category_cues if base else ()))
                level1 = self._levels[0]
                reasons.append(Reason("urgency.level1.similar", f"{level1.name}（{level1.label}）: close to the "
                                      f"level-1 example 「{near[0]}」 (cosine {near[1]:.3f}); recall first",
                                      tuple(level1.basis)))
        signals = {kind: hits for kind, cues in self._triggers.items() if (hits := _found(cues, text))}
        for kind, patterns in self._trigger_patterns.items():
            matched = tuple(m.group(0) for p in patterns if (m := p.search(text)))
            if matched:
                signals[kind] = tuple(dict.fromkeys(signals.get(kind, ()) + matched))

        if issues:
            primary = issues[0]
        else:
            rule = self._categories[Category.ENQUIRY]
            primary = Issue(text, Category.ENQUIRY, rule.default_urgency, rule.department, None, (), ())
            reasons.append(Reason("routing.default", "no category cue matched: treated as an enquiry",
                                  tuple(rule.basis)))
        vote = self._precedents.vote(text) if self._precedents is not None and len(_content(text)) >= 8 else None
        if vote is not None:
            primary, why = self._with_precedents(primary, vote, signals, text)
            reasons.extend(why)
        level = next(lv for lv in self._levels if lv.level == primary.urgency)
        if primary.level_cues:
            reasons.append(Reason(f"urgency.level{level.level}",
                                  f"{level.name}（{level.label}）: matched {'、'.join(primary.level_cues)}",
                                  tuple(level.basis)))
        else:
            reasons.append(Reason(f"urgency.default.{primary.category}",
                                  f"no urgency cue: {primary.category} defaults to {level.name}（{level.label}）",
                                  tuple(level.basis)))
        cat_rule = self._categories[primary.category]
        if primary.category_cues:
            via = f", route {primary.route}" if primary.route else ""
            reasons.append(Reason(f"routing.{primary.category}",
                                  f"{primary.category} → {primary.department}{via}: matched "
                                  f"{'、'.join(primary.category_cues)}", tuple(cat_rule.basis)))
        if len(issues) > 1:
            others = "；".join(f"{i.category}/{i.urgency.value}级: {i.text[:20]}" for i in issues[1:])
            reasons.append(Reason("urgency.most_urgent_first", f"{len(issues)} problems, most urgent first; "
                                  f"also: {others}", tuple(self._levels[0].basis)))

        voted_report = vote is not None and primary.urgency <= Urgency.LEVEL_3 and not self._categories[
            primary.category].keeps_questions and primary.category is not self._rules.routing.questions_go_to and sum(
            share for level, share in vote.urgency.items() if level <= Urgency.LEVEL_3) >= self.report_share
        is_question = bool(_found(self._question, text))
        procedural = bool(_found(self._procedure, text))
        request = bool(_found(self._request, text))
        reported = bool(_found(self._report, text))
        suggestion = bool(_found(self._suggestion, text))
        problem = reported or (voted_report and not procedural) or any(
            i.level_cues and i.urgency <= Urgency.LEVEL_3 for i in issues)
        acts_on = any(i.category_cues and not self._categories[i.category].keeps_questions for i in issues)
        if primary.urgency == Urgency.LEVEL_1:
            intent = Intent.EMERGENCY
        elif suggestion and not problem:
            intent = Intent.QUESTION
        elif problem:
            intent = Intent.QUESTION if procedural and not reported else Intent.REPORT
        elif acts_on and (request or not is_question):
            intent = Intent.REPORT
        elif primary.category is Category.COMPLAINT and not is_question:
            intent = Intent.REPORT
        else:
            intent = Intent.QUESTION
        history = signals.get(TriggerKind.REPEAT) or signals.get(TriggerKind.SERVICE_COMPLAINT)
        if intent is Intent.QUESTION and history and not suggestion and not procedural:
            intent = Intent.REPORT  # "打了好几次电话…到现在也没动" asks nothing: it is a complaint
        if intent is Intent.QUESTION and (suggestion or not self._categories[primary.category].keeps_questions):
            target = self._categories[self._rules.routing.questions_go_to]
            reasons.append(Reason("routing.question", f"a question or suggestion without a problem report about "
                                  f"{primary.category}: answered as {target.category} by {target.department}",
                                  tuple(target.basis)))
            primary = replace(primary, category=target.category, department=target.department, route=None,
                              urgency=min(primary.urgency, target.default_urgency) if primary.level_cues
                              else target.default_urgency)
        if primary.urgency != Urgency.LEVEL_1 and intent is Intent.REPORT:
            for trigger in self._rules.escalation.triggers:
                if trigger.route_to is not None and trigger.kind in signals and primary.category != trigger.route_to:
                    target = self._categories[trigger.route_to]
                    reasons.append(Reason(f"{trigger.id}.route", f"{trigger.kind} → {target.category}, handled by "
                                          f"{target.department}", tuple(trigger.basis)))
                    primary = replace(primary, category=target.category, department=target.department, route=None)
                    break
        return Triage(
            category=primary.category,
            urgency=primary.urgency,
            department=primary.department,
            route=primary.route,
            intent=intent,
            issues=tuple(issues),
            signals=signals,
            reasons=tuple(reasons),
            normalized=text,
            asks=is_question,
        )
