"""What the commands print and refuse: the error line and exit, command-line text cleaned like the API's, JSON."""

from __future__ import annotations

import json

import typer
from pydantic import BaseModel

from api.schemas import CONTROL_CHARACTERS, MAX_MESSAGE


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` in red on stderr; the caller raises the returned exit (code 2: bad arguments)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def message(text: str, what: str = "message") -> str:
    """A command-line text argument cleaned like the API's: control characters dropped, blank or over-long refused."""
    cleaned = CONTROL_CHARACTERS.sub("", text).strip()
    if not cleaned:
        raise fail(f"the {what} is empty", 2)
    if len(cleaned) > MAX_MESSAGE:
        raise fail(f"the {what} is {len(cleaned):,} characters; the limit is {MAX_MESSAGE:,}", 2)
    return cleaned


def echo_json(value: BaseModel | list[BaseModel]) -> None:
    """Print an output schema (or a list of them) as indented JSON, Chinese unescaped — the API's shape."""
    data = [v.model_dump(mode="json") for v in value] if isinstance(value, list) else value.model_dump(mode="json")
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
