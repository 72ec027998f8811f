"""Trainer scenario quizzes (seed 5.3): a transparent rubric, graded with the real embedding model."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np

from assistant.replies import ReplyLinter
from ingest.embed import Embedder
from kb.load import KnowledgeBase
from kb.schema import Scenario, Urgency

# The rubric, in points (100 in all). Kept here, next to the code that applies it, and shown to agents.
RUBRIC = {
    "category": 10, "urgency": 10, "department": 10, "time_limit": 10,  # structured answers, exact
    "must_say": 40,          # each must-say point, judged by meaning (embedding similarity) or literally
    "elements": 10,          # greeting / repeating key info / committing a time limit / soothing … per situation
    "dispatch_time": 10,     # answered within the 5-minute dispatch target
}
BANNED_CAP = 30          # a reply with a banned or must-not-say phrase scores at most this
_SENTENCE = re.compile(r"[^。！？!?；;\n，,]+")


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
        self._linter = ReplyLinter(kb.rules)
        self._clauses = kb.clause_index()
        self.point_threshold = point_threshold
        dispatch = next((d for d in kb.rules.urgency.deadlines if d.key == "dispatch"), None)
        self.dispatch_seconds = 60 * (dispatch.minutes if dispatch else 5)  # seed 5.3: 5-minute dispatch

    def _check_points(self, points: list[str], reply: str) -> list[PointCheck]:
        sentences = [s.strip() for s in _SENTENCE.findall(reply) if len(s.strip()) >= 2] or [reply]
        vec_s = self._embedder.embed_passages(sentences)
        vec_p = self._embedder.embed_passages(points)
        sims = vec_p @ vec_s.T
        out = []
        for i, point in enumerate(points):
            j = int(np.argmax(sims[i]))
            literal = "".join(point.split()) in "".join(reply.split())
            out.append(PointCheck(point, sentences[j], round(float(sims[i, j]), 3),
                                  literal or float(sims[i, j]) >= self.point_threshold))
        return out

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
        parts["must_say"] = round(RUBRIC["must_say"] * sum(c.made for c in checks) / len(checks), 1)
        for c in checks:
            if not c.made:
                feedback.append(f"回复里缺少要点「{c.point}」（最接近的一句相似度 {c.similarity:.2f}）。")
        situations = ("emergency",) if exp.urgency == Urgency.LEVEL_1 else (
            ("complaint",) if exp.category.value == "投诉" else ("repair",))
        lint = self._linter.run(answer.reply, situations=situations)
        missing = [f for f in lint.findings if f.kind == "missing"]
        wanted = [e for e in self._kb.rules.banned.elements if set(situations) & set(e.situations)]
        parts["elements"] = round(RUBRIC["elements"] * (1 - len(missing) / max(len(wanted), 1)), 1)
        for f in missing:
            feedback.append(f"{f.message}：{f.suggestion}")
        parts["dispatch_time"] = RUBRIC["dispatch_time"] * (answer.seconds <= self.dispatch_seconds)
        if answer.seconds > self.dispatch_seconds:
            feedback.append(f"用时 {answer.seconds:.0f} 秒，超过 {self.dispatch_seconds // 60} 分钟派单目标。")
        flat = "".join(answer.reply.split())
        violations = [f.text or f.rule for f in lint.findings if f.kind == "banned"]
        violations += [p for p in exp.must_not_say if "".join(p.split()) in flat and p not in violations]
        score = sum(parts.values())
        if violations:
            score = min(score, BANNED_CAP)
            feedback.append(f"使用了禁用语 {'、'.join(violations)}，本题最高 {BANNED_CAP} 分"
                            "（POL-TRAIN-001 禁用推诿用语）。")
        for ref in exp.basis[:2]:
            clause = self._clauses.get(ref)
            if clause is not None and feedback:
                feedback.append(f"参考 {ref}：{clause.text[:100]}")
        return ItemGrade(scenario.id, round(score, 1), parts, tuple(checks), tuple(violations), tuple(feedback))


def draw(kb: KnowledgeBase, *, count: int, difficulty: str | None = None, seed: int | None = None) -> list[Scenario]:
    """``count`` random scenarios (optionally of one difficulty)."""
    pool = [s for s in kb.scenarios if difficulty in (None, s.difficulty)]
    if count > len(pool):
        raise ValueError(f"only {len(pool)} scenarios{f' of difficulty {difficulty}' if difficulty else ''}; "
                         f"asked for {count}")
    return random.Random(seed).sample(pool, count)
