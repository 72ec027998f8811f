"""Eval datasets (eval/data/*.jsonl): validated on load, split into dev and test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kb.schema import Category

DATA = Path(__file__).resolve().parent / "data"
Split = Literal["dev", "test"]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    split: Split
    source: str


class Question(_Item):
    """A resident question with the KB entries that answer it and the points a correct answer contains."""

    text: str = Field(min_length=1)
    expected: list[str] = Field(min_length=1)
    key_points: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)


class OutOfKB(_Item):
    """A question the KB does not cover: the right answer is a hand-off."""

    text: str = Field(min_length=1)
    kind: Literal["off-topic", "property-not-covered"]
    tags: list[str] = Field(default_factory=list)


class Fields(BaseModel):
    """Mandatory ticket fields present in a message."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    resident_name: str | None = None
    phone: str | None = None
    address: str | None = None


class Profile(BaseModel):
    """A resident profile given with a triage message."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    vulnerable: bool = False


class TriageItem(_Item):
    """A labelled resident message."""

    text: str = Field(min_length=1)
    category: Category
    urgency: int = Field(ge=1, le=4)
    department: str
    escalate: bool
    fields: Fields = Fields()
    resident: Profile | None = None
    tags: list[str] = Field(default_factory=list)


class Expected(BaseModel):
    """What a dialogue's ticket must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    resident_name: str
    phone: str
    address: str
    category: Category
    urgency: int = Field(ge=1, le=4)
    department: str


class Dialogue(_Item):
    """A multi-turn conversation that should end in a complete ticket."""

    turns: list[str] = Field(min_length=1)
    expected: Expected
    tags: list[str] = Field(default_factory=list)


QuizLabel = Literal["good", "mediocre", "negated", "dangerous", "wrong_promise", "contradiction", "salad",
                   "dismissive", "deflecting", "offtopic"]
# A trainer's grade must agree with the class it labels: the bounds each class's grades fall in.
GRADE_BOUNDS: dict[str, tuple[int, int]] = {
    "good": (80, 100), "negated": (70, 100), "mediocre": (30, 79), "salad": (0, 59), "wrong_promise": (0, 69),
    "contradiction": (0, 69), "dismissive": (0, 39), "deflecting": (0, 39), "offtopic": (0, 39), "dangerous": (0, 39)}


class QuizReply(_Item):
    """A quiz reply written the way front-line agents type, labelled by what a trainer would make of it.

    ``negated`` replies are safe ones that name a must-not-do action only to forbid it (不要坐电梯): they must
    not be flagged. The structured answers (category, level, department, time limit) are taken as right, so the
    score measures the reply text alone. ``grade`` is the trainer's grade of the reply (0–100, by the quiz rubric and
    the scenario's expected handling); it must fall in its class's bounds (``GRADE_BOUNDS``).
    ``dismissive`` replies acknowledge without committing to anything (知道了/我们会处理的), ``deflecting`` ones
    push the resident elsewhere (不归我们管/你找开发商), ``offtopic`` ones answer something else.
    """

    scenario: str = Field(pattern=r"^SCN-\d+$")
    label: QuizLabel
    grade: int = Field(ge=0, le=100)
    reply: str = Field(min_length=1)

    @model_validator(mode="after")
    def _grade_fits_label(self) -> QuizReply:
        low, high = GRADE_BOUNDS[self.label]
        if not low <= self.grade <= high:
            raise ValueError(f"grade {self.grade} of a {self.label} reply outside {low}–{high}")
        return self


M = TypeVar("M", bound=_Item)


class DatasetError(ValueError):
    """A dataset line is malformed; names the file and line."""


def load(name: str, model: type[M], *, split: Split | None = None, folder: Path = DATA) -> list[M]:
    """Load one JSONL dataset, validating every line.

    Raises:
        DatasetError: A line is not valid JSON, breaks the schema, or repeats an id.
    """
    return [item for item in _read(folder / name, model, set()) if split is None or item.split == split]


T = TypeVar("T", bound=BaseModel)


def _read(path: Path, model: type[T], seen: set[str]) -> list[T]:
    """Every line of one JSONL file, validated; ``seen`` collects ids so a repeat is named (across files too)."""
    items: list[T] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = model.model_validate(json.loads(raw))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DatasetError(f"{path}:{n}: {exc}") from exc
        item_id = getattr(item, "id", "")
        if item_id in seen:
            raise DatasetError(f"{path}:{n}: id {item_id} used twice")
        seen.add(item_id)
        items.append(item)
    return items


# ---------------------------------------------------------------- real-shaped data (eval/data/real/)
# Messages written anew in the shape of real public messages (docs/eval-labelling.md), each with the URL of the
# page it is shaped on. The split is a hash of that URL, so every message from one page lands in the same split;
# the test split is frozen by eval/data/real/SHA256SUMS (tests/eval/test_frozen.py).

REAL = DATA / "real"
TEST_SHARE = 40  # percent of source pages in the test split


def split_of(source: str, item_id: str) -> Split:
    """The split of an item: by its source page (a written item without a page: by its id)."""
    key = source if source.startswith("http") else item_id
    return "test" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 100 < TEST_SHARE else "dev"


class _RealItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    text: str = Field(min_length=1)
    source: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)

    @property
    def split(self) -> Split:
        """dev or test, by source page."""
        return split_of(self.source, self.id)


class RealTriage(_RealItem):
    """A real-shaped resident message, labelled by the seed's rules with the alternatives a reviewer accepts."""

    category: Category
    accept_category: list[Category] = Field(default_factory=list)
    urgency: int = Field(ge=1, le=4)
    accept_urgency: list[int] = Field(default_factory=list)
    department: str
    escalate: bool
    flags: list[Literal["repeat", "vulnerable", "safety", "handoff"]] = Field(default_factory=list)
    why: str = ""

    def category_ok(self, got: str) -> bool:
        """The predicted category is the label or an accepted alternative."""
        return got == self.category.value or got in {c.value for c in self.accept_category}

    def urgency_ok(self, got: int) -> bool:
        """The predicted level is the label or an accepted alternative."""
        return got == self.urgency or got in self.accept_urgency


class RealQuestion(_RealItem):
    """A real-shaped resident question: answered by the listed KB entries, or not covered (a hand-off)."""

    in_kb: bool
    expected: list[str] = Field(default_factory=list)
    key_points: list[str] = Field(default_factory=list)
    kind: Literal["off-topic", "property-not-covered"] | None = None


class TurnExpect(BaseModel):
    """What must hold after an everyday turn."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    resident_name: str | None = None
    phone: str | None = None
    address: str | None = None
    handoff: bool | None = None
    agent: str | None = None
    names_ticket: bool | None = None


class RealTurn(_RealItem):
    """An everyday chat turn after some setup turns, with what it is and what must hold after it."""

    setup: list[str] = Field(default_factory=list)
    kind: str
    expect: TurnExpect = TurnExpect()


R = TypeVar("R", bound=_RealItem)
TRIAGE_FILES = ("triage_l1.jsonl", "triage_reports.jsonl", "triage_complaints.jsonl", "triage_questions.jsonl",
                "triage_more.jsonl")
QUESTION_FILES = ("questions.jsonl", "questions_more.jsonl", "questions_extra.jsonl")
TURN_FILES = ("turns.jsonl", "turns_more.jsonl", "turns_extra.jsonl")


def load_real(names: str | tuple[str, ...], model: type[R], *, split: Split | None = None,
              folder: Path = REAL) -> list[R]:
    """Load real-shaped datasets (missing files are skipped), validating every line; ids unique across files.

    Raises:
        DatasetError: A line is not valid JSON, breaks the schema, or repeats an id.
    """
    seen: set[str] = set()
    items: list[R] = []
    for name in (names,) if isinstance(names, str) else names:
        if (folder / name).is_file():
            items += _read(folder / name, model, seen)
    return [item for item in items if split is None or item.split == split]


def split_digests(folder: Path = REAL) -> dict[str, str]:
    """SHA-256 of each real dataset's test split (its test lines, canonical JSON, sorted by id)."""
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.jsonl")):
        rows = [json.loads(r) for r in path.read_text(encoding="utf-8").splitlines() if r.strip()]
        test = sorted((r for r in rows if split_of(r.get("source", ""), r["id"]) == "test"), key=lambda r: r["id"])
        blob = "\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in test)
        out[path.name] = hashlib.sha256(blob.encode()).hexdigest()
    return out
