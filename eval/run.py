"""`wuye eval`: the project and its baselines on the same data, scored in one run."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.service import AssistantService, ConversationState, TicketRequest
from assistant.tickets import parse_address, parse_name, parse_phone
from assistant.types import ResidentProfile, RetrievalMode
from eval import metrics as m
from eval.baselines import KeywordTriager, PlainLangChain, Ranked, RetrieverMode
from eval.datasets import Dialogue, OutOfKB, Question, QuizReply, Split, TriageItem, load
from eval.quiz import score_quiz
from kb.load import KnowledgeBase
from kb.schema import Category

KS = (1, 3, 5, 10)
CATEGORIES = [c.value for c in Category]
LEVELS = ["1", "2", "3", "4"]


@dataclass
class System:
    """One answering system under evaluation."""

    name: str
    rank: Callable[[Question], Ranked]
    answer: Callable[[Question], tuple[str, list[str], bool]]


@dataclass
class EvalResult:
    """Everything a report needs."""

    split: str
    counts: dict[str, int]
    retrieval: dict[str, dict[str, float]] = field(default_factory=dict)
    recall_curves: dict[str, list[float]] = field(default_factory=dict)
    answers: dict[str, dict[str, float]] = field(default_factory=dict)
    triage: dict[str, dict[str, Any]] = field(default_factory=dict)
    fields: dict[str, dict[str, float]] = field(default_factory=dict)
    dialogues: dict[str, float] = field(default_factory=dict)
    latency: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    real: dict[str, dict[str, Any]] = field(default_factory=dict)  # headline: the real-shaped data
    quiz: dict[str, Any] = field(default_factory=dict)  # quiz grader calibration (eval/quiz.py)


def _relevant(q: Question, kb: KnowledgeBase) -> set[str]:
    """Expected ids plus the clauses expected FAQ entries rest on, and FAQs resting on expected clauses."""
    rel = set(q.expected)
    faqs = {e.id: e for e in kb.faqs}
    for e in q.expected:
        if e in faqs:
            rel.update(faqs[e].basis)
    for f in kb.faqs:
        if set(f.basis) & set(q.expected):
            rel.add(f.id)
    return rel


def _service_system(service: AssistantService) -> System:
    def state(q: Question) -> ConversationState:
        return ConversationState(last_question=q.context[-1]) if q.context else ConversationState()

    def rank(q: Question) -> Ranked:
        r = service.answering.retrieve(q.text, state(q), top_k=10)
        return Ranked(tuple(h.citation for h in r.hits), "", r.found)

    def answer(q: Question) -> tuple[str, list[str], bool]:
        reply = service.handle(q.text, state=state(q))
        cites = [c.ref for c in reply.citations]
        handoff = reply.answer.handoff if reply.answer is not None else reply.handoff
        return reply.text, cites, handoff

    return System("wuye (hybrid)", rank, answer)


def _baseline_system(b: RetrieverMode | PlainLangChain) -> System:
    def rank(q: Question) -> Ranked:
        return b.run(q.text)

    def answer(q: Question) -> tuple[str, list[str], bool]:
        r = b.run(q.text, k=1)
        return r.answer, list(r.ids[:1]), not r.found

    return System(b.name, rank, answer)


def eval_questions(systems: Sequence[System], questions: list[Question], ookb: list[OutOfKB],
                   kb: KnowledgeBase, result: EvalResult) -> None:
    """Retrieval metrics, answer accuracy, citation precision, abstention on out-of-KB questions."""
    for sys_ in systems:
        rec: dict[int, list[float]] = defaultdict(list)
        mrr, ndcg, acc, cite_p, wrong_conf, lat = [], [], [], [], 0, []
        fails = []
        for q in questions:
            rel = _relevant(q, kb)
            ranked = sys_.rank(q)
            for k in KS:
                rec[k].append(m.recall_at(ranked.ids, rel, k))
            mrr.append(m.reciprocal_rank(ranked.ids, rel))
            ndcg.append(m.ndcg_at(ranked.ids, rel, 10))
            t0 = time.perf_counter()
            text, cites, handoff = sys_.answer(q)
            lat.append((time.perf_counter() - t0) * 1000)
            flat = "".join(text.split())
            points = all("".join(p.split()) in flat for p in q.key_points)
            cited_ok = any(c in rel for c in cites)
            ok = (not handoff) and points and cited_ok
            acc.append(float(ok))
            if cites:
                cite_p.append(sum(c in rel for c in cites) / len(cites))
            if not ok and not handoff:
                wrong_conf += 1
            if not ok and sys_ is systems[0]:
                fails.append({"id": q.id, "question": q.text, "context": q.context, "expected": q.expected,
                              "key_points": q.key_points, "retrieved": list(ranked.ids[:5]),
                              "answer": text[:300], "cited": cites, "handoff": handoff,
                              "why": "handed off" if handoff else ("wrong citation" if not cited_ok
                                                                    else "missing key point")})
        handoffs_ookb, lat_o = 0, []
        for o in ookb:
            t0 = time.perf_counter()
            _, _, handoff = sys_.answer(Question(id=o.id, split=o.split, source=o.source, text=o.text,
                                                 expected=["-"]))
            lat_o.append((time.perf_counter() - t0) * 1000)
            handoffs_ookb += handoff
            if not handoff and sys_ is systems[0]:
                result.failures.setdefault("out_of_kb", []).append({"id": o.id, "question": o.text,
                                                                    "kind": o.kind})
        handoffs_in = sum(1 for a, q in zip(acc, questions, strict=True) if a == 0.0) - wrong_conf
        abst_p, abst_r, _ = m.precision_recall(handoffs_ookb, handoffs_in, len(ookb) - handoffs_ookb)
        result.retrieval[sys_.name] = {f"recall@{k}": m.mean(rec[k]) for k in (1, 3, 5)} | {
            "mrr": m.mean(mrr), "ndcg@10": m.mean(ndcg)}
        result.recall_curves[sys_.name] = [m.mean(rec[k]) for k in KS]
        result.answers[sys_.name] = {
            "accuracy": m.mean(acc), "citation_precision": m.mean(cite_p),
            "confident_wrong_rate": wrong_conf / max(len(questions), 1),
            "abstention_precision": abst_p, "abstention_recall": abst_r,
        }
        result.latency[f"answer:{sys_.name}"] = {"median_ms": m.percentile(lat + lat_o, 50),
                                                 "p95_ms": m.percentile(lat + lat_o, 95)}
        if sys_ is systems[0]:
            result.failures["answers"] = fails


def eval_triage(service: AssistantService, items: list[TriageItem], result: EvalResult) -> None:
    """Category/urgency/department accuracy, level-1 recall, escalation P/R, field extraction."""
    keyword = KeywordTriager(service.rules)
    outputs: dict[str, list[tuple[str, int, str, bool]]] = {"wuye": [], keyword.name: []}
    lat = []
    fails = []
    for it in items:
        profile = ResidentProfile(vulnerable=it.resident.vulnerable) if it.resident else None
        t0 = time.perf_counter()
        reply = service.handle(it.text, profile=profile)
        lat.append((time.perf_counter() - t0) * 1000)
        got = (reply.triage.category.value, int(reply.decision.urgency), reply.triage.department,
               reply.decision.escalate)
        outputs["wuye"].append(got)
        k = keyword.run(it.text)
        outputs[keyword.name].append((k.category, k.urgency, k.department, k.escalate))
        gold = (it.category.value, it.urgency, it.department, it.escalate)
        if got != gold:
            fails.append({"id": it.id, "text": it.text, "expected": dict(zip(("category", "urgency", "department",
                                                                               "escalate"), gold, strict=True)),
                          "got": dict(zip(("category", "urgency", "department", "escalate"), got, strict=True)),
                          "reasons": [f"{r.rule}: {r.detail}" for r in (*reply.triage.reasons,
                                                                         *reply.decision.reasons)]})
    gold_cat = [it.category.value for it in items]
    gold_lv = [str(it.urgency) for it in items]
    for name, out in outputs.items():
        cat = [o[0] for o in out]
        lv = [str(o[1]) for o in out]
        l1_gold = [g == "1" for g in gold_lv]
        l1_pred = [p == "1" for p in lv]
        tp = sum(g and p for g, p in zip(l1_gold, l1_pred, strict=True))
        l1_p, l1_r, _ = m.precision_recall(tp, sum(l1_pred) - tp, sum(l1_gold) - tp)
        etp = sum(o[3] and it.escalate for o, it in zip(out, items, strict=True))
        e_p, e_r, _ = m.precision_recall(etp, sum(o[3] for o in out) - etp,
                                         sum(it.escalate for it in items) - etp)
        per_cat = {c: m.mean([float(p == g) for p, g in zip(cat, gold_cat, strict=True) if g == c])
                   for c in CATEGORIES}
        result.triage[name] = {
            "category_accuracy": m.mean([float(a == b) for a, b in zip(cat, gold_cat, strict=True)]),
            "urgency_accuracy": m.mean([float(a == b) for a, b in zip(lv, gold_lv, strict=True)]),
            "department_accuracy": m.mean([float(o[2] == it.department) for o, it in zip(out, items, strict=True)]),
            "level1_recall": l1_r, "level1_precision": l1_p,
            "escalation_precision": e_p, "escalation_recall": e_r,
            "per_category_accuracy": per_cat,
            "confusion_category": m.confusion(gold_cat, cat, CATEGORIES),
            "confusion_urgency": m.confusion(gold_lv, lv, LEVELS),
        }
    result.latency["triage:wuye"] = {"median_ms": m.percentile(lat, 50), "p95_ms": m.percentile(lat, 95)}
    result.failures["triage"] = fails
    parsers = {"resident_name": parse_name, "phone": parse_phone, "address": parse_address}
    for fname, parse in parsers.items():
        tp = fp = fn = 0
        for it in items:
            gold = getattr(it.fields, fname)
            parsed = parse(it.text)
            if parsed and gold and parsed == gold:
                tp += 1
            else:
                fp += bool(parsed)
                fn += bool(gold)
        p, r, f = m.precision_recall(tp, fp, fn)
        result.fields[fname] = {"precision": p, "recall": r, "f1": f}


def eval_dialogues(service: AssistantService, dialogues: list[Dialogue], result: EvalResult) -> None:
    """Completion rate, mean turns to a complete ticket, and whether the ticket is right."""
    done, correct, turns_needed = 0, 0, []
    fails: list[dict[str, Any]] = []
    for d in dialogues:
        state = ConversationState()
        submitted: list[TicketRequest] = []

        def submit(req: TicketRequest, _sink: list[TicketRequest] = submitted) -> str:
            _sink.append(req)
            return f"EVAL-{len(_sink)}"

        used = 0
        for text in d.turns:
            used += 1
            reply = service.handle(text, state=state, submit=submit)
            state = reply.state
            if submitted:
                break
        if not submitted:
            fails.append({"id": d.id, "turns": d.turns, "problem": "no ticket", "last_reply": reply.text[:200]})
            continue
        done += 1
        turns_needed.append(used)
        req = submitted[0]
        got = {"resident_name": req.draft.resident_name, "phone": req.draft.phone, "address": req.draft.address,
               "category": req.category.value, "urgency": int(req.urgency), "department": req.department}
        exp = d.expected.model_dump(mode="json")
        if got == exp:
            correct += 1
        else:
            fails.append({"id": d.id, "turns": d.turns, "problem": "wrong fields",
                          "diff": {k: {"expected": exp[k], "got": got[k]} for k in exp if exp[k] != got[k]}})
    n = max(len(dialogues), 1)
    result.dialogues = {"completion_rate": done / n, "ticket_correct_rate": correct / n,
                        "mean_turns": m.mean([float(t) for t in turns_needed]),
                        "mean_turns_given": m.mean([float(len(d.turns)) for d in dialogues])}
    result.failures["dialogues"] = fails


def eval_real(service: AssistantService, split: Split | None, result: EvalResult, *, limit: int | None = None) -> None:
    """The headline: triage, answers and everyday turns on the real-shaped data (eval/data/real/)."""
    from eval.datasets import QUESTION_FILES, TRIAGE_FILES, TURN_FILES, RealQuestion, RealTriage, RealTurn, load_real
    from eval.real import failure_classes, score_questions, score_triage, score_turns, triage_keyword, triage_wuye

    items = load_real(TRIAGE_FILES, RealTriage, split=split)
    if limit:
        items = items[:limit]
    predicted, fails = triage_wuye(service, items)
    result.real["triage"] = {"wuye": score_triage(items, predicted),
                             "keyword-rules": score_triage(items, triage_keyword(service, items))}
    result.real["failure_classes"] = failure_classes(items, predicted)
    result.failures["real_triage"] = fails
    questions = load_real(QUESTION_FILES, RealQuestion, split=split)
    result.real["questions"], result.failures["real_questions"] = score_questions(service, questions[:limit or None])
    turns = load_real(TURN_FILES, RealTurn, split=split)
    result.real["turns"], result.failures["real_turns"] = score_turns(service, turns[:limit or None])
    result.counts.update(real_triage=len(items), real_questions=len(questions), real_turns=len(turns))
    eval_suggestions(service, result, split)


def eval_suggestions(service: AssistantService, result: EvalResult, split: Split | None = None) -> None:
    """Suggested replies on the case table (eval/data/suggest_cases.jsonl, the split's cases or both): three
    options, complete, lint-clean, free of raw text, different, and passing the quiz for a quiz scenario's case."""
    from eval.suggestions import check_table, load_cases

    cases = [c for c in load_cases() if split is None or c.split == split]
    table = check_table(service.kb, service.retriever.embedder, cases)
    result.real["suggestions"] = table.figures
    result.failures["suggestions"] = [
        {"id": c.case_id, "options": len(c.texts), "max_cosine": round(c.max_cosine, 3),
         "incomplete": list(c.incomplete), "lint": list(c.lint_failures), "raw_text": list(c.leaks),
         "quiz": list(c.quiz)}
        for c in table.checks if not c.ok]


def run_eval(service: AssistantService, *, split: Split | None, model_path: Any, baselines: bool = True,
             limit: int | None = None) -> EvalResult:
    """Run every dataset through the project (and the baselines) and score it.

    Args:
        service: The warmed assistant.
        split: ``dev``, ``test`` or None for both.
        model_path: The model folder (for the plain LangChain baseline).
        baselines: Also run the baselines.
        limit: Use only the first N items of each dataset (the regression gate).
    """
    def cut(items: list[Any]) -> list[Any]:
        if not limit or len(items) <= limit:
            return items
        step = len(items) / limit  # evenly spread, so a small gate still covers every topic
        return [items[int(i * step)] for i in range(limit)]

    questions = cut(load("questions.jsonl", Question, split=split))
    ookb = cut(load("out_of_kb.jsonl", OutOfKB, split=split))
    triage = cut(load("triage.jsonl", TriageItem, split=split))
    dialogues = cut(load("dialogues.jsonl", Dialogue, split=split))
    result = EvalResult(split or "all", {"questions": len(questions), "out_of_kb": len(ookb),
                                         "triage": len(triage), "dialogues": len(dialogues)})
    systems = [_service_system(service)]
    if baselines:
        retriever = service.retriever
        systems += [_baseline_system(RetrieverMode(retriever, RetrievalMode.BM25)),
                    _baseline_system(RetrieverMode(retriever, RetrievalMode.DENSE)),
                    _baseline_system(PlainLangChain(model_path, retriever.index.chunks))]
    eval_real(service, split, result, limit=limit)
    quiz_items = cut(load("quiz_replies.jsonl", QuizReply, split=split))
    result.quiz, result.failures["quiz"] = score_quiz(service.kb, service.retriever.embedder, quiz_items)
    result.counts["quiz_replies"] = len(quiz_items)
    eval_questions(systems, questions, ookb, service.kb, result)
    eval_triage(service, triage, result)
    eval_dialogues(service, dialogues, result)
    result.counts["failure_classes"] = len(Counter(f.get("why", "") for f in result.failures.get("answers", [])))
    return result
