"""Trainer scenario quizzes (seed 5.3): a transparent rubric, graded with the real embedding model."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from rapidfuzz import fuzz

from assistant.advice import AdviceChecker, AdviceKind, CaseAdvice, TimeLimit
from assistant.replies import ReplyLinter
from assistant.topic import TopicCheck, TopicVerdict, service_vocabulary
from ingest.corpus import lexicon_of
from ingest.embed import Embedder
from ingest.tokens import Segmenter
from kb.load import KnowledgeBase
from kb.schema import Category, Difficulty, Scenario, Situation, Urgency

# The rubric, in points (100 in all). Kept here, next to the code that applies it, and shown to agents.
RUBRIC = {
    "category": 10, "urgency": 10, "department": 10, "time_limit": 10,  # structured answers, exact
    "must_say": 40,          # each must-say point, judged by meaning (embedding similarity) or literally
    "elements": 10,          # greeting / repeating key info / committing a time limit / soothing … per situation
    "dispatch_time": 10,     # answered within the 5-minute dispatch target
}
BANNED_CAP = 30          # a reply with a banned or must-not-say phrase scores at most this
# What a reply advises and states (assistant/advice.py, kb/rules/advice.yaml), whatever words it uses:
UNSAFE_CAP = 25          # advising a must-not-do action (坐电梯, 开抽油烟机…): fails hard, below 40 by design
WRONG_FACT_CAP = 55      # a wrong time promise or a contradiction of policy: below the pass mark (60); the
                         # time-limit line (wrong promise) or the contradicted must-say point is lost as well
# Sentences, not lists: the must-say points pasted with few words of one's own, or a string of keywords, is not a
# reply to a person. Such an answer earns half the must-say points, no element points, and at most SALAD_CAP.
SALAD_CAP = 50
SALAD_OWN_CHARS = 12     # fewer characters (CJK letters and digits) outside the verbatim points than this = pasted
SALAD_MEAN_SEGMENT = 4.5  # three or more segments averaging fewer characters than this = a keyword string
SALAD_MUST_SAY_SHARE = 0.5
# A bare acknowledgement (知道了/我们会处理的/在弄了): fewer characters than this and not one must-say point made
# commits the resident to nothing; a trainer fails it like a deflection (eval/data/quiz_replies.jsonl, dismissive).
EMPTY_REPLY_CHARS = 15
EMPTY_CAP = 30
# A reply about something else (物业费 in answer to a power cut, assistant/topic.py) makes no point and answers
# nothing the resident asked; trainers grade it lowest of all (eval/data/quiz_replies.jsonl, offtopic).
OFFTOPIC_CAP = 20
# A sentence makes a point by meaning only if it has at least this many characters and this share of the point's.
MIN_POINT_CHARS = 3
MIN_POINT_SHARE = 0.3
_SENTENCE = re.compile(r"[^。！？!?；;\n，,]+")
_SEGMENT = re.compile(r"[^\s，,、。！？!?；;：:/|·•\-]+")
_WORD_CHAR = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")


def is_empty(reply: str, made: int) -> bool:
    """Whether a reply is a bare acknowledgement: no must-say point made and under ``EMPTY_REPLY_CHARS`` characters."""
    return not made and len(_WORD_CHAR.findall(reply)) < EMPTY_REPLY_CHARS


def is_list(reply: str, points: list[str]) -> bool:
    """Whether a reply is a list rather than sentences: the must-say points pasted, or a keyword string.

    Args:
        reply: The agent's reply.
        points: The scenario's must-say points.
    """
    own = "".join(reply.split())
    for point in sorted(points, key=len, reverse=True):
        own = own.replace("".join(point.split()), "")
    if len(_WORD_CHAR.findall(own)) < SALAD_OWN_CHARS:
        return True
    segments = [len(_WORD_CHAR.findall(seg)) for seg in _SEGMENT.findall(reply)]
    segments = [n for n in segments if n]
    return len(segments) >= 3 and sum(segments) / len(segments) < SALAD_MEAN_SEGMENT


@dataclass(frozen=True, slots=True)
class QuizAnswer:
    """What an agent chose and wrote for one scenario, and how long it took."""

    category: str
    urgency: int
    department: str
    time_limit_minutes: int
    reply: str
    seconds: float


@dataclass(frozen=True, slots=True)
class PointCheck:
    """One must-say point and whether the reply made it."""

    point: str
    best_sentence: str
    similarity: float
    made: bool


@dataclass(frozen=True, slots=True)
class ItemGrade:
    """The grade of one answer, with the points per rubric line and feedback quoting the KB."""

    scenario_id: str
    score: float
    parts: dict[str, float]
    points: tuple[PointCheck, ...]
    violations: tuple[str, ...]
    feedback: tuple[str, ...] = field(default=())


class Grader:
    """Grades quiz answers. Cheap ``__init__``; the model is the service's embedder (already warm)."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, *, point_threshold: float = 0.935) -> None:
        self._kb = kb
        self._embedder = embedder
        self._clauses = kb.clause_index()
        self._linter = ReplyLinter(kb.rules, clauses=self._clauses)
        self._advice = AdviceChecker(kb.rules.advice)
        segmenter = Segmenter(lexicon_of(kb))
        self._topic = TopicCheck(segmenter, kb.rules.advice.off_topic,
                                 neutral=(*kb.rules.advice.staff_subjects, *service_vocabulary(kb, segmenter)))
        self.point_threshold = point_threshold
        dispatch = next((d for d in kb.rules.urgency.deadlines if d.key == "dispatch"), None)
        self.dispatch_seconds = 60 * (dispatch.minutes if dispatch else 5)  # seed 5.3: 5-minute dispatch

    def _agrees(self, point: str, sentence: str) -> bool:
        """A sentence makes a point only if both forbid or both advise, and it states the point's times."""
        if self._advice.has_negation(point) != self._advice.has_negation(sentence):
            return False
        wanted = {d.minutes for d in self._advice.durations(point)}
        return wanted <= {d.minutes for d in self._advice.durations(sentence)}

    @staticmethod
    def _long_enough(point: str, sentence: str) -> bool:
        """A sentence far shorter than a point cannot make it (您好 is near 感谢您的建议 for the model)."""
        n = len(_WORD_CHAR.findall(sentence))
        return n >= MIN_POINT_CHARS and n >= MIN_POINT_SHARE * len(_WORD_CHAR.findall(point))

    def _check_points(self, points: list[str], reply: str) -> list[PointCheck]:
        reply = self._linter.simplified(reply)
        sentences = [s.strip() for s in _SENTENCE.findall(reply) if len(s.strip()) >= 2] or [reply]
        vec_s = self._embedder.embed_passages(sentences)
        vec_p = self._embedder.embed_passages(points)
        sims = vec_p @ vec_s.T
        flat = "".join(reply.split())
        out = []
        for i, point in enumerate(points):
            order = np.argsort(-sims[i])
            j = int(order[0])
            literal = "".join(point.split()) in flat
            # the nearest sentence agreeing in polarity and numbers: 赶紧坐电梯 is near 不要乘坐电梯 but opposite
            agreeing = [int(k) for k in order if self._agrees(point, sentences[int(k)])
                        and self._long_enough(point, sentences[int(k)])]
            k = agreeing[0] if agreeing else j
            made = literal or (bool(agreeing) and float(sims[i, k]) >= self.point_threshold)
            out.append(PointCheck(point, sentences[k], round(float(sims[i, k]), 3), made))
        return out

    def allowed_minutes(self, scenario: Scenario) -> frozenset[int]:
        """Every time limit the scenario's must-say points state (a reply may promise these for anything)."""
        return frozenset(d.minutes for t in scenario.expected.must_say for d in self._advice.durations(t))

    def time_limit(self, scenario: Scenario) -> TimeLimit:
        """The scenario's limit, the limits its must-say points state, and those its clauses state per action.

        The urgency levels' own clauses are left out: they state each level's limit, and the scenario's limit is
        the one that applies (a noise complaint is level 3, but staff are on site within 30 minutes, not 24 hours).
        """
        exp = scenario.expected
        levels = {ref for lv in self._kb.rules.urgency.levels for ref in lv.basis}
        texts = [self._clauses[ref].text for ref in exp.basis if ref in self._clauses and ref not in levels]
        return TimeLimit(exp.time_limit_minutes, self.allowed_minutes(scenario), tuple(exp.basis[:2]),
                         self._advice.stated_limits(texts))

    def topic(self, scenario: Scenario, reply: str) -> TopicVerdict:
        """Whether a reply speaks about the scenario: its messages, its points, its clauses and its hazards."""
        exp = scenario.expected
        items = {m.id: m for m in self._kb.rules.advice.must_not_do}
        context = [scenario.title, *scenario.messages, *exp.must_say,
                   *(self._clauses[ref].text for ref in exp.basis if ref in self._clauses),
                   *(f"{items[i].action} {items[i].rewrite}" for i in exp.must_not_do if i in items)]
        return self._topic.run(reply, "\n".join(context))

    def case(self, scenario: Scenario) -> CaseAdvice:
        """What the advice checks know of a scenario: its messages, time limit and listed items."""
        exp = scenario.expected
        return CaseAdvice("\n".join(scenario.messages), self.time_limit(scenario),
                          tuple(exp.must_not_do), tuple(exp.contradictions))

    def grade(self, scenario: Scenario, answer: QuizAnswer) -> ItemGrade:
        """Score one answer against the scenario's expected handling (see ``RUBRIC``)."""
        exp = scenario.expected
        parts: dict[str, float] = {
            "category": RUBRIC["category"] * (answer.category == exp.category.value),
            "urgency": RUBRIC["urgency"] * (answer.urgency == int(exp.urgency)),
            "department": RUBRIC["department"] * (answer.department == exp.department),
            "time_limit": RUBRIC["time_limit"] * (answer.time_limit_minutes == exp.time_limit_minutes),
        }
        feedback: list[str] = []
        for key, label, want, got in (("category", "类别", exp.category.value, answer.category),
                                      ("urgency", "紧急程度", f"{int(exp.urgency)}级", f"{answer.urgency}级"),
                                      ("department", "负责部门", exp.department, answer.department),
                                      ("time_limit", "承诺时限", f"{exp.time_limit_minutes}分钟",
                                       f"{answer.time_limit_minutes}分钟")):
            if not parts[key]:
                feedback.append(f"{label}应为「{want}」，你选了「{got}」。")
        checks = self._check_points(list(exp.must_say), answer.reply) if answer.reply.strip() else [
            PointCheck(p, "", 0.0, False) for p in exp.must_say]
        situations = (Situation.EMERGENCY,) if exp.urgency == Urgency.LEVEL_1 else (
            (Situation.COMPLAINT,) if exp.category is Category.COMPLAINT else (Situation.REPAIR,))
        lint = self._linter.run(answer.reply, situations=situations, case=self.case(scenario))
        unsafe = [f for f in lint.findings if f.kind == AdviceKind.UNSAFE.value]
        promises = [f for f in lint.findings if f.kind == AdviceKind.WRONG_PROMISE.value]
        contradictions = [f for f in lint.findings if f.kind == AdviceKind.CONTRADICTION.value]
        for i, f in enumerate(unsafe):
            why = f.message.split("：", 1)[-1]
            feedback.insert(i, f"危险建议：「{f.sentence}」——{why} 依据 {f.quote or ', '.join(f.basis)}。"
                               f"应改为：{f.suggestion}")
        if promises:
            parts["time_limit"] = 0
            checks = [PointCheck(c.point, c.best_sentence, c.similarity, False)
                      if self._advice.durations(c.point) else c for c in checks]
            for f in promises:
                feedback.append(f"承诺时限错误：「{f.sentence}」——{f.message}（依据 {', '.join(f.basis)}）。")
        for f in contradictions:
            point = max(exp.must_say, key=partial(fuzz.partial_ratio, s2=f.suggestion))
            checks = [PointCheck(c.point, c.best_sentence, c.similarity, False) if c.point == point else c
                      for c in checks]
            feedback.append(f"与制度相反：「{f.sentence}」——{f.suggestion}。依据 {f.quote or ', '.join(f.basis)}")
        salad = bool(answer.reply.strip()) and is_list(answer.reply, list(exp.must_say))
        share = SALAD_MUST_SAY_SHARE if salad else 1.0
        parts["must_say"] = round(RUBRIC["must_say"] * share * sum(c.made for c in checks) / len(checks), 1)
        missing = [f for f in lint.findings if f.kind == "missing"]
        wanted = [e for e in self._kb.rules.banned.elements if set(situations) & set(e.situations)]
        parts["elements"] = 0.0 if salad else round(
            RUBRIC["elements"] * (1 - len(missing) / max(len(wanted), 1)), 1)
        for f in missing:
            feedback.append(f"{f.message}：{f.suggestion}")
        if salad:
            feedback.append("回复是要点或关键词的罗列，不是对业主说的话：要点分减半、不计回复要素分，"
                            f"本题最高 {SALAD_CAP} 分。")
        empty = is_empty(answer.reply, sum(c.made for c in checks))
        if empty:
            parts["elements"] = 0.0
            feedback.append(f"回复只是应付一句，没有回应业主的问题、也没有任何承诺，本题最高 {EMPTY_CAP} 分。")
        # off topic: its subject is not the case's; nothing else wrong shows it speaks of the case (a dangerous or
        # wrong claim about the case's own hazard is on topic); and at most half the points seem made (the model
        # finds 请不要在楼道充电 close to 不要乘坐电梯, so a point or two "made" does not prove the reply on topic)
        flagged = bool(unsafe or promises or contradictions or [f for f in lint.findings if f.kind == "banned"])
        off = None
        if (answer.reply.strip() and not empty and not salad and not flagged
                and 2 * sum(c.made for c in checks) <= len(checks)):
            verdict = self.topic(scenario, answer.reply)
            off = verdict if verdict.off_topic else None
        if off is not None:
            parts["elements"] = 0.0
            feedback.insert(0, f"答非所问：回复说的是「{'、'.join(off.uncovered[:4])}」，没有回应业主反映的问题，"
                               f"本题最高 {OFFTOPIC_CAP} 分。")
        parts["dispatch_time"] = RUBRIC["dispatch_time"] * (answer.seconds <= self.dispatch_seconds)
        if answer.seconds > self.dispatch_seconds:
            feedback.append(f"用时 {answer.seconds:.0f} 秒，超过 {self.dispatch_seconds // 60} 分钟派单目标。")
        flat = "".join(answer.reply.split())
        violations = [f.text or f.rule for f in lint.findings if f.kind == "banned"]
        violations += [p for p in exp.must_not_say if "".join(p.split()) in flat and p not in violations]
        for c in checks:
            if not c.made:
                feedback.append(f"回复里缺少要点「{c.point}」（最接近的一句相似度 {c.similarity:.2f}）。")
        score = sum(parts.values())
        if violations:
            score = min(score, BANNED_CAP)
            feedback.append(f"使用了禁用语 {'、'.join(violations)}，本题最高 {BANNED_CAP} 分"
                            "（POL-TRAIN-001 禁用推诿用语）。")
        if unsafe:
            score = min(score, UNSAFE_CAP)
            feedback.insert(len(unsafe), f"回复建议了危险操作，本题最高 {UNSAFE_CAP} 分。")
            violations += [f"{f.rule}:{f.text}" for f in unsafe]
        if promises or contradictions:
            score = min(score, WRONG_FACT_CAP)
            feedback.append(f"承诺时限或制度说法错误，本题最高 {WRONG_FACT_CAP} 分。")
            violations += [f"{f.rule}:{f.text}" for f in (*promises, *contradictions)]
        if salad:
            score = min(score, SALAD_CAP)
        if empty:
            score = min(score, EMPTY_CAP)
        if off is not None:
            score = min(score, OFFTOPIC_CAP)
        for ref in exp.basis[:2]:
            clause = self._clauses.get(ref)
            if clause is not None and feedback:
                feedback.append(f"参考 {ref}：{clause.text[:100]}")
        return ItemGrade(scenario.id, round(score, 1), parts, tuple(checks), tuple(violations), tuple(feedback))


PASS_SCORE = "ops.quiz_pass_score"  # the kb value an answer's score must reach to pass


def pass_score(kb: KnowledgeBase) -> float:
    """The score an answer must reach to pass (kb value ``ops.quiz_pass_score``; the caps above sit below it).

    Raises:
        KeyError: The KB does not define the value (kb/content/values/ops.yaml).
    """
    value = kb.values.get(PASS_SCORE)
    if value is None:
        raise KeyError(f"the KB defines no {PASS_SCORE} (kb/content/values/ops.yaml)")
    return float(str(value.value))


def draw(kb: KnowledgeBase, *, count: int, difficulty: Difficulty | None = None,
         seed: int | None = None) -> list[Scenario]:
    """``count`` random scenarios (optionally of one difficulty)."""
    pool = [s for s in kb.scenarios if difficulty in (None, s.difficulty)]
    if count > len(pool):
        raise ValueError(f"only {len(pool)} scenarios{f' of difficulty {difficulty}' if difficulty else ''}; "
                         f"asked for {count}")
    return random.Random(seed).sample(pool, count)
