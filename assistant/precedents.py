"""Precedents: labelled resident messages (kb/rules/precedents.jsonl) that vote on a new message's triage.

The rules of kb/rules/ read cues; real residents narrate, ask rhetorically and describe hazards as states, which
cues miss. The nearest labelled messages by the real embedding model (k nearest neighbours, cosine-weighted)
give a second reading: category, level, and whether the case was escalated as a repeat complaint. The triager
combines both (``Triager.assess``); the file is built from the eval's dev split only (``python -m eval.precedents``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.embed import Embedder
from kb.schema import Category, Urgency


@dataclass(frozen=True, slots=True)
class Precedent:
    """One labelled message."""

    id: str
    text: str
    category: Category
    urgency: Urgency
    repeat: bool


@dataclass(frozen=True, slots=True)
class Vote:
    """What the nearest precedents say about a message (shares of cosine-weighted votes, 0–1)."""

    category: dict[Category, float]
    urgency: dict[Urgency, float]
    repeat: float
    nearest: tuple[tuple[str, float], ...]  # (precedent id, cosine)

    def top_category(self) -> tuple[Category, float]:
        """The leading category and its share."""
        c = max(self.category, key=lambda k: self.category[k])
        return c, self.category[c]

    def top_urgency(self) -> tuple[Urgency, float]:
        """The leading level and its share."""
        u = max(self.urgency, key=lambda k: self.urgency[k])
        return u, self.urgency[u]


def load_precedents(path: Path) -> list[Precedent]:
    """Read kb/rules/precedents.jsonl (one labelled message a line)."""
    out = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            out.append(Precedent(d["id"], d["text"], Category(d["category"]), Urgency(d["urgency"]),
                                 bool(d.get("repeat"))))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}:{n}: not a precedent line ({exc})") from exc
    return out


class Precedents:
    """k-nearest labelled messages. Cheap ``__init__``; ``warm_up()`` embeds the precedents once."""

    def __init__(self, precedents: list[Precedent], embedder: Embedder, *, k: int = 7) -> None:
        if k <= 0:
            raise ValueError(f"k must be greater than 0. Currently, k is {k}")
        self._items = precedents
        self._embedder = embedder
        self.k = k
        self._matrix: np.ndarray | None = None

    def warm_up(self) -> None:
        """Embed every precedent (once)."""
        if self._matrix is None and self._items:
            self._matrix = self._embedder.embed_queries([p.text for p in self._items])

    def vote(self, text: str) -> Vote | None:
        """The weighted vote of the ``k`` nearest precedents, or None when there are none."""
        self.warm_up()
        if self._matrix is None:
            return None
        v = self._embedder.embed_queries([text])[0]
        sims = self._matrix @ v
        order = np.argsort(-sims)
        # the message itself, if it is a precedent, does not vote on itself (keeps the dev figures honest)
        top = [int(i) for i in order[: self.k + 1] if sims[i] < 0.9999][: self.k]
        cat: dict[Category, float] = defaultdict(float)
        lvl: dict[Urgency, float] = defaultdict(float)
        rep = total = 0.0
        for i in top:
            p = self._items[int(i)]
            w = float(np.exp((sims[i] - sims[top[0]]) * 40))  # sharper weight for the closest ones
            cat[p.category] += w
            lvl[p.urgency] += w
            rep += w * p.repeat
            total += w
        return Vote({c: x / total for c, x in cat.items()}, {u: x / total for u, x in lvl.items()}, rep / total,
                    tuple((self._items[int(i)].id, float(sims[i])) for i in top))
