"""JSONL batches of the commands: ``{"id", "text", "resident"?}`` lines in, one result line per input out."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.cli.console import fail
from assistant.types import ResidentProfile


class ProfileLine(BaseModel):
    """What a batch line may say about the resident writing."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    vulnerable: bool = False


class BatchLine(BaseModel):
    """One input line."""

    model_config = ConfigDict(extra="ignore")
    id: str | int
    text: str = Field(max_length=20_000)
    resident: ProfileLine | None = None

    def profile(self) -> ResidentProfile | None:
        """The resident the line names, if any."""
        r = self.resident
        return ResidentProfile(r.name, r.phone, r.address, r.vulnerable) if r else None


def read(path: Path) -> list[BatchLine]:
    """Every line of a JSONL file, validated; fails naming the file, the line number and the field.

    Raises:
        typer.Exit: The file cannot be read or a line is not ``{"id", "text"}`` JSON.
    """
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}") from exc
    items = []
    for n, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            items.append(BatchLine.model_validate_json(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "line"
            raise fail(f"{path}:{n}: {where}: {err['msg']} (lines are {{\"id\", \"text\"}} JSON)") from exc
    return items


def inputs(text: str | None, batch: Path | None, out: Path | None, what: str) -> list[BatchLine]:
    """Check that a command got one text or ``--batch IN --out OUT``, and read the batch before any model loads.

    Raises:
        typer.Exit: Both or neither were given, ``--out`` is missing, or the batch file is bad.
    """
    if (text is None) == (batch is None):
        raise fail(f"give either a {what} or --batch IN.jsonl --out OUT.jsonl")
    if batch is not None and out is None:
        raise fail("--batch needs --out")
    return read(batch) if batch is not None else []


def run(items: Sequence[BatchLine], out: Path, handle: Callable[[BatchLine], Mapping[str, Any]], noun: str) -> None:
    """Handle each validated line and write ``{"id", ...result}`` lines atomically; report the time on stderr."""
    started = time.perf_counter()
    write_jsonl(out, [{"id": item.id, **handle(item)} for item in items])
    took = time.perf_counter() - started
    per_k = took / max(len(items), 1) * 1000
    typer.echo(f"{len(items)} {noun} in {took:.1f}s ({per_k:.1f}s per 1,000) → {out}", err=True)


def write_jsonl(out: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write rows as JSONL through a temporary file, so a failure leaves no half-written output."""
    tmp = out.with_suffix(out.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    tmp.replace(out)
