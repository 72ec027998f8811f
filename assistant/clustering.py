"""Clustering questions by meaning: unit vectors (the embedding model's) → groups of the same question.

Two methods over cosine similarity, both cut at a similarity ``threshold``:

- ``sphere`` (Taylor–Butina sphere exclusion): every question's neighbours at or above the threshold are found
  with blocked matrix products; the question with the most unassigned neighbours becomes a centre and takes them
  all, and so on. Every member is within the threshold of its centre (no chaining), the centre is the cluster's
  most typical wording, memory stays O(edges) and time is one pass of BLAS: it is the default.
- ``average``: scikit-learn's agglomerative clustering with average linkage on cosine distance, cut at
  ``1 − threshold``. The textbook choice, but it holds the full distance matrix: O(n²) memory (about 1 GB at
  10,000 questions) and roughly ten times slower (see eval/bench_gaps.py).

Both are deterministic. ``eval/bench_gaps.py`` measures them on the KB's own paraphrase groups (each FAQ's question
and paraphrases are one true cluster) and on 10,000 questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]


class ClusterMethod(StrEnum):
    """How questions are grouped."""

    SPHERE = "sphere"
    AVERAGE = "average"


@dataclass(frozen=True, slots=True)
class Clusters:
    """Cluster labels (0..k-1, largest cluster first) and each cluster's centre (an index into the input)."""

    labels: Labels
    centres: tuple[int, ...]

    @property
    def count(self) -> int:
        """Number of clusters."""
        return len(self.centres)

    def members(self, label: int) -> npt.NDArray[np.int64]:
        """Indexes of the cluster's members: the centre first, then the others in input order."""
        idx = np.flatnonzero(self.labels == label)
        centre = self.centres[label]
        return np.concatenate(([centre], idx[idx != centre])).astype(np.int64)


def cluster(vectors: Vectors, *, threshold: float, method: ClusterMethod = ClusterMethod.SPHERE,
            block: int = 1024) -> Clusters:
    """Group unit vectors whose cosine similarity reaches ``threshold``.

    Args:
        vectors: ``(n, dim)`` float32 rows of unit length.
        threshold: Cosine similarity at which two questions count as the same (0–1).
        method: ``sphere`` (default) or ``average`` linkage.
        block: Rows per matrix product in ``sphere`` (bounds the memory of one step).

    Returns:
        Labels ordered so that cluster 0 is the largest, and the centre of each cluster.

    Raises:
        ValueError: The vectors are not a 2-D array, or the threshold is outside (0, 1].
    """
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array, got shape {vectors.shape}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    n = len(vectors)
    if n == 0:
        return Clusters(np.zeros(0, dtype=np.int64), ())
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if method is ClusterMethod.AVERAGE and n > 1:
        labels, centres = _average(x, threshold)
    else:
        labels, centres = _sphere(x, threshold, block)
    return _ordered(labels, centres)


def _sphere(x: Vectors, threshold: float, block: int) -> tuple[Labels, list[int]]:
    n = len(x)
    neighbours: list[npt.NDArray[np.int64]] = []
    for start in range(0, n, block):
        sims = x[start:start + block] @ x.T
        neighbours.extend(np.flatnonzero(row >= threshold) for row in sims)
    # the densest question first (ties: the earlier one), as in Butina's algorithm
    order = sorted(range(n), key=lambda i: (-len(neighbours[i]), i))
    labels = np.full(n, -1, dtype=np.int64)
    centres: list[int] = []
    for i in order:
        if labels[i] >= 0:
            continue
        nb = neighbours[i]
        labels[nb[labels[nb] < 0]] = len(centres)
        labels[i] = len(centres)
        centres.append(i)
    return labels, centres


def _average(x: Vectors, threshold: float) -> tuple[Labels, list[int]]:
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                    distance_threshold=1.0 - threshold)
    labels = np.asarray(model.fit_predict(x), dtype=np.int64)
    centres = []
    for label in range(int(labels.max()) + 1):
        idx = np.flatnonzero(labels == label)
        sims = x[idx] @ x[idx].T
        centres.append(int(idx[int(np.argmax(sims.sum(axis=1)))]))  # the medoid
    return labels, centres


def _ordered(labels: Labels, centres: list[int]) -> Clusters:
    """Relabel so the largest cluster is 0 (ties: the one whose centre comes first)."""
    sizes = np.bincount(labels, minlength=len(centres))
    order = sorted(range(len(centres)), key=lambda c: (-int(sizes[c]), centres[c]))
    remap = np.empty(len(centres), dtype=np.int64)
    remap[order] = np.arange(len(centres))
    return Clusters(remap[labels], tuple(centres[c] for c in order))


def pair_scores(labels: Labels, truth: npt.NDArray[np.int64]) -> tuple[float, float]:
    """Pairwise precision and recall of ``labels`` against true groups: of the pairs put together, the share that
    belong together, and of the pairs that belong together, the share put together."""
    def together(lab: npt.NDArray[np.int64]) -> set[tuple[int, int]]:
        pairs: set[tuple[int, int]] = set()
        for value in np.unique(lab):
            idx = np.flatnonzero(lab == value).tolist()
            pairs.update((a, b) for i, a in enumerate(idx) for b in idx[i + 1:])
        return pairs

    got, want = together(labels), together(truth)
    both = len(got & want)
    return (both / len(got) if got else 1.0, both / len(want) if want else 1.0)
