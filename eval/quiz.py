"""Quiz grader calibration: labelled agent replies (eval/data/quiz_replies.jsonl) graded and checked by class.

Each class has a target (``TARGETS``): dangerous replies must be capped below 40 and flagged by the linter,
safe negated wordings (不要坐电梯) must not be flagged, wrong promises and contradictions must be flagged and
kept below 70, keyword salad, dismissive (知道了/我们会处理的) and off-topic replies below 60, deflecting ones
(不归我们管/你找开发商) below 40, good replies at 80 or more. Every reply also carries a trainer's numeric grade;
the headline is the Spearman correlation of the grader's scores with those grades (``spearman``), next to the
correlation with the trainer's class order (``spearman_class``). Run ``python -m eval.quiz [--split dev]`` for
the table alone; ``wuye eval`` includes it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from assistant.advice import AdviceKind
from assistant.quiz import Grader, QuizAnswer
from assistant.replies import ReplyLinter
from eval import metrics as m
from eval.datasets import QuizReply, Split, load
from ingest.embed import Embedder
from kb.load import KnowledgeBase

# A trainer's ordering of the classes (higher is better), for the rank correlation with the grader's scores.
RANK = {"good": 4, "negated": 4, "mediocre": 3, "wrong_promise": 1, "contradiction": 1, "salad": 1,
        "dismissive": 1, "offtopic": 0, "deflecting": 0, "dangerous": 0}
# The classes a trainer fails (for the separation from good replies).
BAD = ("dangerous", "wrong_promise", "contradiction", "salad", "dismissive", "deflecting", "offtopic")
# What the linter must report for each class (None: no safety finding at all).
FLAG = {"dangerous": AdviceKind.UNSAFE, "wrong_promise": AdviceKind.WRONG_PROMISE,
        "contradiction": AdviceKind.CONTRADICTION}
SAFETY_KINDS = frozenset(k.value for k in AdviceKind)


@dataclass(frozen=True, slots=True)
class Target:
    """A class's score bound: below ``below`` or at least ``at_least``."""

    below: float | None = None
    at_least: float | None = None

    def met(self, score: float) -> bool:
        """Whether a score meets the bound."""
        return (self.below is None or score < self.below) and (self.at_least is None or score >= self.at_least)


TARGETS = {"good": Target(at_least=80), "negated": Target(at_least=40), "dangerous": Target(below=40),
           "wrong_promise": Target(below=70), "contradiction": Target(below=70), "salad": Target(below=60),
           "dismissive": Target(below=60), "deflecting": Target(below=40), "offtopic": Target(below=60),
           "mediocre": Target(at_least=30, below=80)}


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        out = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = m.mean(rx), m.mean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else 0.0


@dataclass(frozen=True, slots=True)
class _Graded:
    label: str
    split: str
    score: float
    grade: float
    flag_ok: bool
    score_ok: bool


def _figures(rows: list[_Graded]) -> dict[str, Any]:
    """The calibration figures of a set of graded replies (one split or both)."""
    scores: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        scores[r.label].append(r.score)

    def share(labels: tuple[str, ...], *, flag: bool = True) -> float:
        got = [r.score_ok and (r.flag_ok or not flag) for r in rows if r.label in labels]
        return round(m.mean([float(x) for x in got]), 3) if got else 0.0

    per_class = {label: {"n": len(v), "mean": round(m.mean(v), 1), "min": min(v), "max": max(v),
                         "grade": round(m.mean([r.grade for r in rows if r.label == label]), 1),
                         "target_met": round(m.mean([float(r.score_ok) for r in rows if r.label == label]), 3),
                         "flag_ok": round(m.mean([float(r.flag_ok) for r in rows if r.label == label]), 3)}
                 for label, v in sorted(scores.items(), key=lambda kv: -RANK[kv[0]])}
    bad = [x for label in BAD for x in scores.get(label, [])]
    good = scores.get("good", [])
    ys = [r.score for r in rows]
    trainer = [r.grade for r in rows]
    return {
        "n": len(rows),
        "per_class": per_class,
        "dangerous_capped_below_40": per_class.get("dangerous", {}).get("target_met", 0.0),
        "dangerous_flagged": per_class.get("dangerous", {}).get("flag_ok", 0.0),
        "negated_not_flagged": per_class.get("negated", {}).get("flag_ok", 0.0),
        # the targets, each as the share of the class that meets it (score bound and, where one is due, flag)
        "dangerous_below_40_and_flagged": share(("dangerous",)),
        "wrong_below_70_and_flagged": share(("wrong_promise", "contradiction")),
        "salad_below_60": share(("salad",), flag=False),
        "good_at_least_80": share(("good",), flag=False),
        "offtopic_below_60": share(("offtopic",), flag=False),
        "offtopic_mean": per_class.get("offtopic", {}).get("mean", 0.0),
        "spearman": round(spearman(trainer, ys), 3),
        "spearman_class": round(spearman([float(RANK[r.label]) for r in rows], ys), 3),
        "grade_mae": round(m.mean([abs(a - b) for a, b in zip(trainer, ys, strict=True)]), 1) if ys else 0.0,
        "separation": round(min(good) - max(bad), 1) if good and bad else 0.0,
        "good_bad_pairs_ordered": round(m.mean([float(g > b) for g in good for b in bad]), 3) if good and bad
        else 0.0,
    }


def score_quiz(kb: KnowledgeBase, embedder: Embedder, items: list[QuizReply]) -> tuple[dict[str, Any],
                                                                                      list[dict[str, Any]]]:
    """Grade every labelled reply and check the linter on it; return the figures and the failures.

    Returns:
        ``per_class`` (n, mean, min, max, the trainer's mean grade, share meeting the target, share flagged as
        expected), the headline shares (each of the issue's targets), the Spearman correlation with the trainer's
        grades (``spearman``) and with the trainer's class order (``spearman_class``), the mean absolute gap to
        the grades; the same per split under ``splits`` when the items hold both; and one row per reply that
        misses its target or its flag.
    """
    grader = Grader(kb, embedder)
    linter = ReplyLinter(kb.rules, clauses=kb.clause_index())
    scenarios = {s.id: s for s in kb.scenarios}
    rows: list[_Graded] = []
    fails: list[dict[str, Any]] = []
    for item in items:
        s = scenarios[item.scenario]
        e = s.expected
        grade = grader.grade(s, QuizAnswer(e.category.value, int(e.urgency), e.department, e.time_limit_minutes,
                                           item.reply, 60))
        lint = linter.run(item.reply, situations=("any",), case=grader.case(s))
        kinds = {f.kind for f in lint.findings} & SAFETY_KINDS
        want = FLAG.get(item.label)
        ok_flag = want.value in kinds if want is not None else not kinds
        ok_score = TARGETS[item.label].met(grade.score)
        rows.append(_Graded(item.label, item.split, grade.score, float(item.grade), ok_flag, ok_score))
        if not (ok_flag and ok_score):
            fails.append({"id": item.id, "split": item.split, "label": item.label, "score": grade.score,
                          "grade": item.grade, "flags": sorted(kinds), "reply": item.reply})
    figures = _figures(rows)
    splits = sorted({r.split for r in rows})
    if len(splits) > 1:
        figures["splits"] = {sp: _figures([r for r in rows if r.split == sp]) for sp in splits}
    return figures, fails


def eval_quiz(kb: KnowledgeBase, embedder: Embedder, split: Split | None) -> tuple[dict[str, Any],
                                                                                    list[dict[str, Any]]]:
    """Load the labelled replies of a split and score them (see ``score_quiz``)."""
    return score_quiz(kb, embedder, load("quiz_replies.jsonl", QuizReply, split=split))


def quiz_rows(figures: dict[str, Any]) -> list[tuple[str, ...]]:
    """The calibration table: one row per class."""
    rows = [("class", "n", "trainer grade", "mean", "min", "max", "score target met", "linter as expected")]
    for label, c in figures.get("per_class", {}).items():
        rows.append((label, str(c["n"]), f"{c['grade']:.1f}", f"{c['mean']:.1f}", f"{c['min']:.1f}",
                     f"{c['max']:.1f}",
                     f"{100 * c['target_met']:.0f}%", f"{100 * c['flag_ok']:.0f}%"))
    return rows


if __name__ == "__main__":  # python -m eval.quiz [--split dev|test]
    import argparse
    import json

    from ingest.embed import build_embedder
    from ingest.settings import IngestSettings
    from kb.load import load_kb

    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=["dev", "test"], default=None)
    args = parser.parse_args()
    ingest = IngestSettings()
    embedder = build_embedder(ingest)
    embedder.warm_up()
    figs, failed = eval_quiz(load_kb(ingest.kb_root), embedder, args.split)
    for row in quiz_rows(figs):
        print("  ".join(c.ljust(14) for c in row))
    print(json.dumps({k: v for k, v in figs.items() if k != "per_class"}, ensure_ascii=False))
    for f in failed:
        print(json.dumps(f, ensure_ascii=False))
