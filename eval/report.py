"""Eval reports: JSON, Markdown and HTML with plots (matplotlib), plus the summary table printed by the CLI."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.privacy import mask
from eval.quiz import quiz_rows
from eval.run import CATEGORIES, KS, LEVELS, EvalResult


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def summary_rows(r: EvalResult) -> list[tuple[str, ...]]:
    """The headline table: one row per system, project first."""
    rows: list[tuple[str, ...]] = [("system", "R@1", "R@3", "R@5", "MRR", "nDCG@10", "answer acc", "cite prec",
                                    "abstain P", "abstain R", "confident wrong")]
    for name, ret in r.retrieval.items():
        a = r.answers[name]
        rows.append((name, _pct(ret["recall@1"]), _pct(ret["recall@3"]), _pct(ret["recall@5"]), f"{ret['mrr']:.3f}",
                     f"{ret['ndcg@10']:.3f}", _pct(a["accuracy"]), _pct(a["citation_precision"]),
                     _pct(a["abstention_precision"]), _pct(a["abstention_recall"]), _pct(a["confident_wrong_rate"])))
    return rows


def triage_rows(r: EvalResult) -> list[tuple[str, ...]]:
    """Triage table: project vs keyword rules."""
    rows: list[tuple[str, ...]] = [("system", "category", "urgency", "department", "L1 recall", "L1 precision",
                                    "escal. P", "escal. R")]
    for name, t in r.triage.items():
        rows.append((name, _pct(t["category_accuracy"]), _pct(t["urgency_accuracy"]), _pct(t["department_accuracy"]),
                     _pct(t["level1_recall"]), _pct(t["level1_precision"]), _pct(t["escalation_precision"]),
                     _pct(t["escalation_recall"])))
    return rows


def real_rows(r: EvalResult) -> list[tuple[str, ...]]:
    """The headline table: triage on the real-shaped messages (alternatives accepted), project vs keyword rules."""
    rows: list[tuple[str, ...]] = [("system", "category", "urgency", "L1 recall", "L1 precision", "escal. R",
                                    "escal. P")]
    for name, t in r.real.get("triage", {}).items():
        rows.append((name, _pct(t["category_accuracy"]), _pct(t["urgency_accuracy"]), _pct(t["level1_recall"]),
                     _pct(t["level1_precision"]), _pct(t["escalation_recall"]), _pct(t["escalation_precision"])))
    return rows


def _real_lines(r: EvalResult) -> list[str]:
    q = r.real.get("questions", {})
    t = r.real.get("turns", {})
    sg = r.real.get("suggestions", {})
    return [f"Real-shaped questions: in-KB accuracy {_pct(q.get('accuracy_in_kb', 0))}, confidently wrong "
            f"{_pct(q.get('confident_wrong_rate', 0))}, abstention recall {_pct(q.get('abstention_recall', 0))}",
            f"Everyday turns behaving as expected: {_pct(t.get('behaving', 0))} of {int(t.get('n', 0))}",
            f"Suggested replies ({int(sg.get('cases', 0))} cases, {int(sg.get('suggestions', 0))} suggestions): "
            f"complete {_pct(sg.get('complete', 0))}, lint-clean {_pct(sg.get('lint_clean', 0))}, no raw text "
            f"{_pct(sg.get('no_raw_text', 0))}, three options {_pct(sg.get('three_options', 0))}, options distinct "
            f"(cosine without the case's facts < {sg.get('cosine_threshold', 0):.3f}, highest pair "
            f"{sg.get('max_pair_cosine', 0):.3f}) {_pct(sg.get('distinct', 0))}, options for a quiz scenario's case "
            f"scoring ≥ 80 {_pct(sg.get('quiz_at_least_80', 0))} ({int(sg.get('quiz_cases', 0))} cases, lowest "
            f"{sg.get('quiz_min', 0):.0f}), all checks {_pct(sg.get('all_checks', 0))}",
            "Remaining triage failure classes: " + "; ".join(f"{k} ({v})" for k, v in
                                                           r.real.get("failure_classes", {}).items())]


def _quiz_line(name: str, q: dict[str, Any]) -> str:
    """One split's quiz figures against the targets of issue 17."""
    return (f"Quiz grader, {name} ({q['n']} labelled replies): Spearman with the trainer's grades {q['spearman']:.3f} "
            f"(target ≥ 0.85; with the class order {q.get('spearman_class', 0.0):.3f}, mean gap "
            f"{q.get('grade_mae', 0.0):.1f} points); dangerous < 40 and flagged "
            f"{_pct(q.get('dangerous_below_40_and_flagged', 0))}; wrong time or fact < 70 and flagged "
            f"{_pct(q.get('wrong_below_70_and_flagged', 0))}; keyword salad < 60 {_pct(q.get('salad_below_60', 0))}; "
            f"good ≥ 80 {_pct(q.get('good_at_least_80', 0))}; off-topic < 60 {_pct(q.get('offtopic_below_60', 0))} "
            f"(mean {q.get('offtopic_mean', 0.0):.1f}); safe negated wordings not flagged "
            f"{_pct(q['negated_not_flagged'])}; lowest good minus highest bad {q['separation']:.1f} points")


def _quiz_lines(r: EvalResult) -> list[str]:
    q = r.quiz
    if not q:
        return []
    splits = q.get("splits") or {r.split: q}
    return [_quiz_line(name, figures) for name, figures in splits.items()]


def _md_table(rows: Sequence[tuple[str, ...]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def text_summary(r: EvalResult) -> str:
    """Plain-text summary for the terminal."""
    def fmt(rows: list[tuple[str, ...]]) -> str:
        widths = [max(len(row[i]) for row in rows) + 2 for i in range(len(rows[0]))]
        return "\n".join("".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)

    f = r.fields
    lines = [f"split: {r.split}  items: {r.counts}", "",
             "Triage on real-shaped messages (headline):", fmt(real_rows(r)), *_real_lines(r), "",
             "Questions (retrieval + answers, written data):", fmt(summary_rows(r)), "",
             "Triage (written data, regression):", fmt(triage_rows(r)), "",
             *(["Quiz grader calibration (eval/data/quiz_replies.jsonl):", fmt(quiz_rows(r.quiz)), *_quiz_lines(r), ""]
               if r.quiz else []),
             "Ticket fields: " + ", ".join(f"{k} F1 {_pct(v['f1'])}" for k, v in f.items()),
             f"Dialogues: completion {_pct(r.dialogues.get('completion_rate', 0))}, ticket correct "
             f"{_pct(r.dialogues.get('ticket_correct_rate', 0))}, mean turns {r.dialogues.get('mean_turns', 0):.2f}",
             "Latency: " + ", ".join(f"{k} median {v['median_ms']:.0f} ms / p95 {v['p95_ms']:.0f} ms"
                                     for k, v in r.latency.items())]
    return "\n".join(lines)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _plots(r: EvalResult) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    cjk = [f.name for f in font_manager.fontManager.ttflist if any(k in f.name for k in ("CJK", "WenQuanYi",
                                                                                          "Hei", "Song"))]
    if cjk:
        plt.rcParams["font.sans-serif"] = [cjk[0], "DejaVu Sans"]
    labels_cat = ["eng", "clean", "secur", "compl", "fee", "enq"] if not cjk else CATEGORIES
    out: dict[str, str] = {}
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, curve in r.recall_curves.items():
        ax.plot(KS, curve, marker="o", label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1)
    ax.set_xticks(KS)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Retrieval recall@k")
    out["recall"] = _png(fig)
    plt.close(fig)
    t = r.triage.get("wuye")
    if t:
        for key, labels, title in (("confusion_category", labels_cat, "Category (rows: gold)"),
                                   ("confusion_urgency", LEVELS, "Urgency level (rows: gold)")):
            fig, ax = plt.subplots(figsize=(4.5, 4))
            mat = t[key]
            ax.imshow(mat, cmap="Blues")
            ax.set_xticks(range(len(labels)), labels, rotation=45)
            ax.set_yticks(range(len(labels)), labels)
            for i, row in enumerate(mat):
                for j, v in enumerate(row):
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=8)
            ax.set_title(title)
            out[key] = _png(fig)
            plt.close(fig)
        fig, ax = plt.subplots(figsize=(5, 3))
        systems = list(r.triage)
        width = 0.8 / len(systems)
        for n, name in enumerate(systems):
            vals = [r.triage[name]["per_category_accuracy"][c] for c in CATEGORIES]
            ax.bar([i + n * width for i in range(len(CATEGORIES))], vals, width, label=name)
        ax.set_xticks([i + width / 2 for i in range(len(CATEGORIES))], labels_cat)
        ax.set_ylim(0, 1)
        ax.set_title("Per-category triage accuracy")
        ax.legend(fontsize=8)
        out["per_category"] = _png(fig)
        plt.close(fig)
    return out


def _failures_md(r: EvalResult, limit: int = 200) -> str:
    parts = []
    for section, items in r.failures.items():
        parts.append(f"### {section} ({len(items)})\n")
        for f in items[:limit]:
            parts.append("- " + json.dumps(f, ensure_ascii=False))
        parts.append("")
    return "\n".join(parts)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def write_reports(r: EvalResult, out: Path) -> dict[str, Path]:
    """Write report.json, report.md and report.html under ``out`` (personal data masked); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    r = replace(r, failures=_masked(r.failures))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    data = asdict(r) | {"generated_at": stamp}
    paths = {"json": out / "report.json", "md": out / "report.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    md = [f"# wuye eval — split {r.split}", "", f"Generated {stamp}. Items: {r.counts}.", "",
          "## Triage on real-shaped messages (headline)", "", _md_table(real_rows(r)), "", *_real_lines(r), "",
          "## Questions: retrieval and answers", "", _md_table(summary_rows(r)), "",
          "## Triage", "", _md_table(triage_rows(r)), "",
          *(["## Quiz grader calibration", "", _md_table(quiz_rows(r.quiz)), "", *_quiz_lines(r), ""]
            if r.quiz else []),
          "## Ticket fields", "", _md_table([("field", "precision", "recall", "F1")] + [
              (k, _pct(v["precision"]), _pct(v["recall"]), _pct(v["f1"])) for k, v in r.fields.items()]), "",
          "## Dialogues", "", json.dumps(r.dialogues, ensure_ascii=False), "",
          "## Latency", "", _md_table([("path", "median ms", "p95 ms")] + [
              (k, f"{v['median_ms']:.1f}", f"{v['p95_ms']:.1f}") for k, v in r.latency.items()]), "",
          "## Failures", "", _failures_md(r)]
    paths["md"].write_text("\n".join(md), encoding="utf-8")
    plots = _plots(r)
    img = "".join(f'<figure><img alt="{k}" src="data:image/png;base64,{v}"><figcaption>{k}</figcaption></figure>'
                  for k, v in plots.items())

    def table(rows: list[tuple[str, ...]]) -> str:
        head, *body = rows
        return ("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" +
                "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body) +
                "</table>")

    fails = "".join(
        f"<h3>{html.escape(sec)} ({len(items)})</h3><ul>" +
        "".join(f"<li><code>{html.escape(json.dumps(f, ensure_ascii=False))}</code></li>" for f in items[:200]) +
        "</ul>" for sec, items in r.failures.items())
    page = f"""<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>wuye eval</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}table{{border-collapse:collapse;
margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child{{text-align:left}}
figure{{display:inline-block;margin:0.5em}}code{{font-size:12px;white-space:pre-wrap}}</style>
<h1>wuye eval — split {html.escape(r.split)}</h1><p>Generated {stamp}. Items: {html.escape(str(r.counts))}</p>
<h2>Questions: retrieval and answers</h2>{table(summary_rows(r))}
<h2>Triage</h2>{table(triage_rows(r))}
{f"<h2>Quiz grader calibration</h2>{table(quiz_rows(r.quiz))}<p>{html.escape(' '.join(_quiz_lines(r)))}</p>"
 if r.quiz else ""}
<h2>Plots</h2>{img}
<h2>Dialogues</h2><p>{html.escape(json.dumps(r.dialogues, ensure_ascii=False))}</p>
<h2>Failures</h2>{fails}</html>"""
    paths["html"].write_text(page, encoding="utf-8")
    return paths
