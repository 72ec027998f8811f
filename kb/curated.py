"""Curated FAQ entries: agents' answers approved by an admin, kept in ``content/faq/curated.yaml``.

The file is an ordinary FAQ file of the KB (kb/schema.py ``FaqFile``), reviewed like the rest. An entry is added
under a file lock: the KB with the new entry is validated and linted first (an error refuses it and leaves the
file as it was), then the file is written to a temporary name and renamed over the old one, so a reader (an ingest
on another worker) never sees half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import yaml
from pydantic import ValidationError

from kb.errors import KBValidationError
from kb.lint import lint
from kb.load import load_kb
from kb.schema import FaqEntry, FaqFile

CURATED_FILE = Path("content") / "faq" / "curated.yaml"
ID_PREFIX = "FAQ-CUR-"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # approvals are rare: wait for the other one rather than fail
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _entries(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("entries") if isinstance(data, dict) else None
    return list(entries or [])


def next_id(root: Path) -> str:
    """The next free curated id (``FAQ-CUR-001`` …) in the KB at ``root``."""
    used = [int(m.group(1)) for e in _entries(root / CURATED_FILE)
            if (m := re.fullmatch(rf"{ID_PREFIX}(\d+)", str(e.get("id", ""))))]
    return f"{ID_PREFIX}{max(used, default=0) + 1:03d}"


def add_curated(root: Path, entry: FaqEntry) -> Path:
    """Add a curated entry to the KB at ``root`` after validating and linting the KB with it.

    Args:
        root: The KB root (holds ``content/``).
        entry: The entry; its ``curated`` field must be set.

    Returns:
        The file written.

    Raises:
        KBValidationError: The entry is not curated, its id or question is already used, or the KB with it has
            lint errors; the file is left unchanged.
    """
    path = root / CURATED_FILE
    if entry.curated is None:
        raise KBValidationError(path, "curated", "only curated entries are written here")
    with _locked(path):
        entries = _entries(path)
        entries.append(entry.model_dump(mode="json", exclude_none=True, exclude={"effective_from"}))
        text = ("# 客服核定答复：坐席纠正、管理员审核后写入（wuye 知识库改进闭环）。按 FAQ 文件格式审阅，可直接编辑。\n"
                + yaml.safe_dump({"entries": entries}, allow_unicode=True, sort_keys=False, width=200))
        try:
            FaqFile.model_validate(yaml.safe_load(text))
        except ValidationError as exc:
            raise KBValidationError(path, "entries", str(exc.errors()[0]["msg"])) from exc
        kb = load_kb(root)
        if entry.id in kb.sources:
            raise KBValidationError(path, "id", f"id {entry.id} is already used in {kb.sources[entry.id]}")
        before = {(f.code, f.entry, f.message) for f in lint(kb).errors}
        errors = [f for f in lint(replace(kb, faqs=(*kb.faqs, entry), sources={**kb.sources, entry.id: path})).errors
                  if (f.code, f.entry, f.message) not in before]  # the KB's own errors are the ingest's to report
        if errors:
            raise KBValidationError(path, errors[0].entry, f"{errors[0].code}: {errors[0].message}")
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one
    return path
