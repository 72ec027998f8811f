"""Pure metric functions for the eval."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """1.0 when any relevant id is in the top ``k``."""
    return float(any(r in relevant for r in ranked[:k]))


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float:
    """1/rank of the first relevant id (0 when none)."""
    return next((1.0 / i for i, r in enumerate(ranked, 1) if r in relevant), 0.0)


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Binary-relevance nDCG@k."""
    dcg = sum(1.0 / math.log2(i + 1) for i, r in enumerate(ranked[:k], 1) if r in relevant)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal if ideal else 0.0


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean (0 for no values)."""
    return sum(values) / len(values) if values else 0.0


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def precision_recall(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def confusion(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """Confusion matrix, rows = gold, columns = predicted."""
    counts = Counter(zip(gold, pred, strict=True))
    return [[counts[(g, p)] for p in labels] for g in labels]
