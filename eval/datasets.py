"""Eval datasets (eval/data/*.jsonl): validated on load, split into dev and test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


M = TypeVar("M", bound=_Item)


class DatasetError(ValueError):
    """A dataset line is malformed; names the file and line."""


def load(name: str, model: type[M], *, split: Split | None = None, folder: Path = DATA) -> list[M]:
    """Load one JSONL dataset, validating every line.

    Raises:
        DatasetError: A line is not valid JSON, breaks the schema, or repeats an id.
    """
    path = folder / name
    items: list[M] = []
    seen: set[str] = set()
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = model.model_validate(json.loads(raw))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DatasetError(f"{path}:{n}: {exc}") from exc
        if item.id in seen:
            raise DatasetError(f"{path}:{n}: id {item.id} used twice")
        seen.add(item.id)
        if split is None or item.split == split:
            items.append(item)
    return items
