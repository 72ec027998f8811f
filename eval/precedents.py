"""Build kb/rules/precedents.jsonl from the dev split only: ``python -m eval.precedents``.

The labelled triage messages (real-shaped dev + written dev) and, as enquiries (level 4), the dev questions —
so a question that merely mentions a hazard word ("礼拜六能铺瓷砖吗") sits among questions, not emergencies.
The test splits never reach the file, so the headline figures stay honest; rerun after the dev data changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eval.datasets import (
    QUESTION_FILES,
    TRIAGE_FILES,
    OutOfKB,
    Question,
    RealQuestion,
    RealTriage,
    TriageItem,
    load,
    load_real,
)
from kb.load import load_kb

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "kb" / "rules" / "precedents.jsonl"
FEE_TAGS = {"物业费", "费用", "收费", "缴费", "账单", "发票", "滞纳金", "停车费", "退费", "收费标准", "物业服务费"}


def build(out: Path = OUT) -> int:
    """Write the precedents file; return the number of lines."""
    faqs = {f.id: f for f in load_kb(ROOT / "kb").faqs}

    def enquiry_category(expected: list[str]) -> str:
        fee = any(e.startswith(("POL-FEE", "SOP-BILL")) or FEE_TAGS & set(faqs[e].tags if e in faqs else ())
                  for e in expected)
        return "费用" if fee else "咨询建议"

    rows = []
    for it in load_real(TRIAGE_FILES, RealTriage, split="dev"):
        rows.append({"id": it.id, "text": it.text, "category": it.category.value, "urgency": it.urgency,
                     "repeat": "repeat" in it.flags})
    for w in load("triage.jsonl", TriageItem, split="dev"):
        rows.append({"id": w.id, "text": w.text, "category": w.category.value, "urgency": w.urgency,
                     "repeat": "repeat" in w.tags})
    for q in load("questions.jsonl", Question, split="dev"):
        rows.append({"id": q.id, "text": q.text, "category": enquiry_category(q.expected), "urgency": 4,
                     "repeat": False})
    for rq in load_real(QUESTION_FILES, RealQuestion, split="dev"):
        rows.append({"id": rq.id, "text": rq.text, "category": enquiry_category(rq.expected), "urgency": 4,
                     "repeat": False})
    for o in load("out_of_kb.jsonl", OutOfKB, split="dev"):
        rows.append({"id": o.id, "text": o.text, "category": "咨询建议", "urgency": 4, "repeat": False})
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    print(f"{build()} precedents written to {OUT}", file=sys.stderr)
