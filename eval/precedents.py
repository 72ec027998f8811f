"""Build kb/rules/precedents.jsonl from the dev split only (real-shaped dev + written dev): ``python -m eval.precedents``.

The test splits never reach it, so the headline figures stay honest; rerun after the dev data changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eval.datasets import TRIAGE_FILES, RealTriage, TriageItem, load, load_real

OUT = Path(__file__).resolve().parent.parent / "kb" / "rules" / "precedents.jsonl"


def build(out: Path = OUT) -> int:
    """Write the precedents file; return the number of lines."""
    rows = []
    for it in load_real(TRIAGE_FILES, RealTriage, split="dev"):
        rows.append({"id": it.id, "text": it.text, "category": it.category.value, "urgency": it.urgency,
                     "repeat": "repeat" in it.flags})
    for w in load("triage.jsonl", TriageItem, split="dev"):
        rows.append({"id": w.id, "text": w.text, "category": w.category.value, "urgency": w.urgency,
                     "repeat": "repeat" in w.tags})
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    print(f"{build()} precedents written to {OUT}", file=sys.stderr)
