"""Clustering unit vectors by cosine: both methods find planted groups, largest first, centre inside its cluster."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.clustering import ClusterMethod, cluster, pair_scores


def _planted(sizes: list[int], *, spread: float = 0.05, dim: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    rows, truth = [], []
    for label, size in enumerate(sizes):
        for _ in range(size):
            rows.append(centres[label] + spread * rng.normal(size=dim) * np.linalg.norm(centres[label]) / np.sqrt(dim))
            truth.append(label)
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.asarray(truth)


@pytest.mark.parametrize("method", list(ClusterMethod))
def test_planted_groups_are_found_largest_first(method: ClusterMethod) -> None:
    x, truth = _planted([2, 7, 4, 1])
    c = cluster(x, threshold=0.95, method=method)
    assert c.count == 4
    assert [int((c.labels == k).sum()) for k in range(c.count)] == [7, 4, 2, 1]
    assert pair_scores(c.labels, truth) == (1.0, 1.0)
    for label, centre in enumerate(c.centres):
        assert c.labels[centre] == label and c.members(label)[0] == centre


@pytest.mark.parametrize("method", list(ClusterMethod))
def test_a_threshold_of_one_keeps_every_question_apart(method: ClusterMethod) -> None:
    x, _ = _planted([3, 3])
    assert cluster(x, threshold=1.0, method=method).count == 6


def test_nothing_to_cluster_gives_no_clusters() -> None:
    assert cluster(np.zeros((0, 8), dtype=np.float32), threshold=0.9).count == 0
    one = cluster(np.ones((1, 8), dtype=np.float32) / np.sqrt(8), threshold=0.9, method=ClusterMethod.AVERAGE)
    assert (one.count, one.centres) == (1, (0,))


@pytest.mark.parametrize(("vectors", "threshold", "message"), [
    pytest.param(np.ones(8, dtype=np.float32), 0.9, "2-D", id="one-dimensional"),
    pytest.param(np.ones((2, 8), dtype=np.float32), 0.0, "threshold", id="zero-threshold"),
    pytest.param(np.ones((2, 8), dtype=np.float32), 1.5, "threshold", id="threshold-above-one"),
])
def test_bad_input_is_named(vectors: np.ndarray, threshold: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cluster(vectors, threshold=threshold)


def test_pair_scores_count_pairs() -> None:
    truth = np.asarray([0, 0, 0, 1, 1])
    assert pair_scores(np.asarray([0, 0, 0, 0, 0]), truth) == (0.4, 1.0)
    assert pair_scores(np.asarray([0, 1, 2, 3, 4]), truth) == (1.0, 0.0)
