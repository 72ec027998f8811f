"""Synthetic vectors with the structure of the real ones: real passage embeddings plus shaped gaussian noise.

e5 vectors fill a narrow cone (any two Chinese passages have cosine ≈ 0.88), so isotropic noise would
be unrealistically easy to tell apart. The noise here has the real embeddings' own covariance (plus a
small isotropic part so the data is full rank), and its scale is tuned so each synthetic vector's
nearest-neighbour cosine matches the real KB's.
"""

from __future__ import annotations

import math

import faiss
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
_ISOTROPIC_SHARE = 0.1  # part of the noise spread evenly over all dimensions, so the data is full rank


def noise_basis(seeds: F32) -> F32:
    """A matrix ``B`` such that ``z @ B.T`` (z standard normal) has the seeds' covariance plus an isotropic part."""
    centered = seeds - seeds.mean(axis=0)
    cov = centered.T @ centered / max(1, len(seeds) - 1)
    cov += np.eye(cov.shape[0], dtype=cov.dtype) * (_ISOTROPIC_SHARE * float(np.trace(cov)) / cov.shape[0])
    evals, evecs = np.linalg.eigh(cov.astype(np.float64))
    return np.ascontiguousarray(evecs * np.sqrt(np.clip(evals, 0, None)), dtype=np.float32)


def generate(seeds: F32, n: int, sigma: float, basis: F32, rng: np.random.Generator, *, batch: int = 65536) -> F32:
    """``n`` unit vectors: seed ``i % len(seeds)`` plus ``sigma`` × shaped gaussian noise, renormalised."""
    dim = seeds.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        z = rng.standard_normal((stop - start, dim), dtype=np.float32)
        x = seeds[np.arange(start, stop) % len(seeds)] + sigma * (z @ basis.T)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:stop] = x
    return out


def nn_cosines(x: F32, probe: npt.NDArray[np.int64], groups: npt.NDArray[np.int32] | None = None) -> F32:
    """Each probe row's cosine to its nearest other row of ``x`` (rows of the same group excluded when given)."""
    sims = x[probe] @ x.T
    sims[np.arange(len(probe)), probe] = -1.0
    if groups is not None:
        sims[groups[probe][:, None] == groups[None, :]] = -1.0
    return np.asarray(sims.max(axis=1), dtype=np.float32)


def tune_sigma(seeds: F32, basis: F32, n: int, target: float, rng: np.random.Generator, *,
               sample: int = 100_000, steps: int = 9) -> float:
    """Noise scale whose median nearest-neighbour cosine at ``n`` vectors is ``target`` (bisection).

    Estimated on a subset of seeds with the same number of copies per seed as the full set, so the
    local density, which decides the nearest neighbour, is the same.
    """
    per_seed = max(1, n // len(seeds))
    k = min(len(seeds), max(2, sample // per_seed))
    sub = seeds[rng.choice(len(seeds), size=k, replace=False)]
    m = min(n, k * per_seed)
    lo, hi = 0.02, 20.0
    for _ in range(steps):
        mid = math.sqrt(lo * hi)
        x = generate(sub, m, mid, basis, rng)
        probe = rng.choice(m, size=min(256, m), replace=False)
        if float(np.median(nn_cosines(x, probe))) > target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def truth_and_realism(xb: F32, seeds: F32, queries: F32, real_nn: float,
                      rng: np.random.Generator) -> tuple[npt.NDArray[np.int64], dict[str, float]]:
    """Exact top-10 of every query (batched Flat search), and cosines that show the data looks like the real KB."""
    k = 10
    flat = faiss.IndexFlatIP(xb.shape[1])
    flat.add(xb)
    dists, truth = flat.search(queries, k)
    syn_probe = rng.choice(len(xb), size=min(len(xb), 256), replace=False)
    nn_d, _ = flat.search(xb[syn_probe], 2)
    del flat
    real_q = np.sort(queries @ seeds.T, axis=1)
    realism = {"real_passage_nn_cos_median": round(real_nn, 4),
               "synthetic_nn_cos_median": round(float(np.median(nn_d[:, 1])), 4),
               "real_query_top1_cos_median": round(float(np.median(real_q[:, -1])), 4),
               "synthetic_query_top1_cos_median": round(float(np.median(dists[:, 0])), 4),
               "real_query_top10_cos_median": round(float(np.median(real_q[:, -min(k, real_q.shape[1])])), 4),
               "synthetic_query_top10_cos_median": round(float(np.median(dists[:, -1])), 4)}
    return truth, realism
