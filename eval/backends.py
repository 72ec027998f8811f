"""The backend gate: int8 ONNX against torch fp32 on the dev split, figure by figure (``python -m eval.backends``).

int8 may be the default backend only while every figure below is within ``TOLERANCE`` (one point) of fp32's:
retrieval R@1 and R@3 on the written dev questions (the eval's hybrid ranking); the triage's category and urgency
accuracy and level-1 recall on the real-shaped dev messages, and its category and urgency on the written dev
triage messages (``triager.assess`` + ``decide`` as the eval's headline does; the written ones with their profile).
Each backend runs the whole product: its own index of the real KB (built, or updated incrementally, with that
backend), its own precedents and level examples. ``tests/eval/test_backends.py`` runs this in ``make test``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.escalation import decide
from assistant.service import AssistantService
from assistant.settings import AssistantSettings
from assistant.types import ResidentProfile
from eval import metrics as m
from eval.datasets import TRIAGE_FILES, Question, RealTriage, Split, TriageItem, load, load_real
from eval.real import Predicted, score_triage
from eval.run import _relevant, _service_system
from ingest.corpus import collect
from ingest.embed import build_embedder
from ingest.index import IndexBuilder
from ingest.settings import Backend, IngestSettings
from ingest.tokens import Segmenter

TOLERANCE = 0.01
FIGURES = ("retrieval R@1", "retrieval R@3", "real triage category", "real triage urgency", "real level-1 recall",
           "written triage category", "written triage urgency")


@dataclass(frozen=True, slots=True)
class BackendScores:
    """One backend's figures on one split, and how long scoring took (the service warm)."""

    backend: str
    figures: dict[str, float]
    seconds: float


def service_for(ingest: IngestSettings, assistant: AssistantSettings) -> AssistantService:
    """The product's service on ``ingest.backend``, its index brought up to date with that backend first."""
    embedder = build_embedder(ingest)
    corpus = collect(ingest)
    IndexBuilder(ingest, embedder, Segmenter(corpus.lexicon)).run(corpus.chunks)
    service = AssistantService.from_settings(ingest, assistant)
    service.warm_up()
    return service


def score(service: AssistantService, backend: str, split: Split = "dev") -> BackendScores:
    """Every figure of :data:`FIGURES` for a warmed service."""
    started = time.perf_counter()
    system = _service_system(service)
    r1, r3 = [], []
    for q in load("questions.jsonl", Question, split=split):
        rel, ranked = _relevant(q, service.kb), system.rank(q).ids
        r1.append(m.recall_at(ranked, rel, 1))
        r3.append(m.recall_at(ranked, rel, 3))
    real = load_real(TRIAGE_FILES, RealTriage, split=split)
    predicted = []
    for it in real:
        triage = service.triager.assess(it.text)
        decision = decide(triage, service.rules)
        predicted.append(Predicted(triage.category.value, int(decision.urgency), decision.escalate))
    real_scores = score_triage(real, predicted)
    category, urgency = [], []
    for w in load("triage.jsonl", TriageItem, split=split):
        triage = service.triager.assess(w.text)
        decision = decide(triage, service.rules, profile=_profile(w))
        category.append(float(triage.category == w.category))
        urgency.append(float(int(decision.urgency) == w.urgency))
    figures = {"retrieval R@1": m.mean(r1), "retrieval R@3": m.mean(r3),
               "real triage category": real_scores["category_accuracy"],
               "real triage urgency": real_scores["urgency_accuracy"],
               "real level-1 recall": real_scores["level1_recall"],
               "written triage category": m.mean(category), "written triage urgency": m.mean(urgency)}
    return BackendScores(backend, figures, round(time.perf_counter() - started, 1))


def _profile(item: TriageItem) -> ResidentProfile | None:
    return ResidentProfile(vulnerable=item.resident.vulnerable) if item.resident else None


def shortfalls(base: BackendScores, other: BackendScores, tolerance: float = TOLERANCE) -> list[str]:
    """The figures where ``other`` is more than ``tolerance`` below ``base`` (empty: ``other`` passes)."""
    return [f"{name}: {other.backend} {other.figures[name]:.1%} vs {base.backend} {base.figures[name]:.1%}"
            for name in FIGURES if other.figures[name] < base.figures[name] - tolerance - 1e-9]


def table(rows: list[BackendScores]) -> str:
    """The figures side by side, with the difference of the last row from the first, in points."""
    head = f"{'figure':<26}" + "".join(f"{r.backend:>12}" for r in rows) + f"{'Δ points':>10}"
    lines = [head]
    for name in FIGURES:
        delta = (rows[-1].figures[name] - rows[0].figures[name]) * 100
        lines.append(f"{name:<26}" + "".join(f"{r.figures[name]:>12.1%}" for r in rows) + f"{delta:>+10.1f}")
    lines.append(f"{'seconds (scoring)':<26}" + "".join(f"{r.seconds:>12.1f}" for r in rows))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """``python -m eval.backends [dev|test]``: both backends on one split; exit 1 when int8 falls short."""
    split: Split = "test" if argv[:1] == ["test"] else "dev"
    base = IngestSettings(upload_dir=None, progress=False)
    rows = []
    for backend in (Backend.TORCH, Backend.ONNX_INT8):
        ingest = base.model_copy(update={"backend": backend, "index_dir": Path(f"var/eval/index-{backend.value}")})
        rows.append(score(service_for(ingest, AssistantSettings()), backend.value, split))
        print(f"{backend.value}: scored in {rows[-1].seconds}s", file=sys.stderr)
    print(f"split: {split}\n{table(rows)}")
    short = shortfalls(rows[0], rows[1])
    print("int8 within one point on every figure" if not short else "int8 falls short: " + "; ".join(short))
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
