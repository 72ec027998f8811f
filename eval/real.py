"""Scoring on the real-shaped data (eval/data/real/): triage, answers and everyday turns.

Labels accept alternatives (a reviewer's second choice of level or category), so the scores here read
"right by the seed's rules", not "matches one annotator".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant.conversation import ConversationState, TicketRequest
from assistant.service import AssistantService
from eval import metrics as m
from eval.baselines import KeywordTriager
from eval.datasets import RealQuestion, RealTriage, RealTurn


@dataclass(frozen=True, slots=True)
class Predicted:
    """One system's triage of one message."""

    category: str
    urgency: int
    escalate: bool


def score_triage(items: Sequence[RealTriage], predicted: Sequence[Predicted]) -> dict[str, float]:
    """Category and urgency accuracy (alternatives accepted), level-1 recall/precision, escalation P/R."""
    cat = [it.category_ok(p.category) for it, p in zip(items, predicted, strict=True)]
    lvl = [it.urgency_ok(p.urgency) for it, p in zip(items, predicted, strict=True)]
    l1_gold = [it.urgency == 1 for it in items]
    l1_pred = [p.urgency == 1 for p in predicted]
    # a level-1 call on an item whose accepted levels include 1 is not a false alarm
    l1_ok = [p.urgency == 1 and (it.urgency == 1 or 1 in it.accept_urgency) for it, p in
             zip(items, predicted, strict=True)]
    tp = sum(g and p for g, p in zip(l1_gold, l1_pred, strict=True))
    _, l1_r, _ = m.precision_recall(tp, sum(l1_pred) - tp, sum(l1_gold) - tp)
    l1_p = sum(l1_ok) / sum(l1_pred) if sum(l1_pred) else 0.0
    etp = sum(p.escalate and it.escalate for it, p in zip(items, predicted, strict=True))
    e_p, e_r, _ = m.precision_recall(etp, sum(p.escalate for p in predicted) - etp,
                                     sum(it.escalate for it in items) - etp)
    return {"n": float(len(items)), "category_accuracy": m.mean([float(x) for x in cat]),
            "urgency_accuracy": m.mean([float(x) for x in lvl]), "level1_recall": l1_r, "level1_precision": l1_p,
            "escalation_recall": e_r, "escalation_precision": e_p}


def triage_wuye(service: AssistantService, items: Sequence[RealTriage]) -> tuple[list[Predicted], list[dict[str, Any]]]:
    """The product's triage of each message (the decision after escalation), and the misses with reasons."""
    out: list[Predicted] = []
    fails: list[dict[str, Any]] = []
    for it in items:
        triage = service.triager.assess(it.text)
        from assistant.escalation import decide

        decision = decide(triage, service.rules)
        p = Predicted(triage.category.value, int(decision.urgency), decision.escalate)
        out.append(p)
        if not (it.category_ok(p.category) and it.urgency_ok(p.urgency) and p.escalate == it.escalate):
            fails.append({"id": it.id, "text": it.text, "expected": {"category": it.category.value,
                                                                      "urgency": it.urgency,
                                                                      "escalate": it.escalate, "flags": it.flags},
                          "got": {"category": p.category, "urgency": p.urgency, "escalate": p.escalate},
                          "reasons": [f"{r.rule}: {r.detail}" for r in (*triage.reasons, *decision.reasons)]})
    return out, fails


def triage_keyword(service: AssistantService, items: Sequence[RealTriage]) -> list[Predicted]:
    """The keyword baseline on the same messages."""
    keyword = KeywordTriager(service.rules)
    out = []
    for it in items:
        k = keyword.run(it.text)
        out.append(Predicted(k.category, k.urgency, k.escalate))
    return out


def failure_classes(items: Sequence[RealTriage], predicted: Sequence[Predicted]) -> dict[str, int]:
    """Misses grouped by what went wrong (the closing note lists these)."""
    c: Counter[str] = Counter()
    for it, p in zip(items, predicted, strict=True):
        if it.urgency == 1 and p.urgency != 1:
            c["level 1 missed"] += 1
        elif p.urgency == 1 and not it.urgency_ok(1):
            c["level 1 over-called"] += 1
        elif not it.urgency_ok(p.urgency):
            c[f"urgency {it.urgency} read as {p.urgency}"] += 1
        if it.escalate and not p.escalate:
            c["escalation missed: " + ("/".join(it.flags) or "level 1")] += 1
        elif p.escalate and not it.escalate:
            c["escalated without cause"] += 1
        if not it.category_ok(p.category):
            c[f"category {it.category.value} read as {p.category}"] += 1
    return dict(c.most_common())


def score_questions(service: AssistantService, items: Sequence[RealQuestion]) -> tuple[dict[str, float],
                                                                                     list[dict[str, Any]]]:
    """Answer accuracy on in-KB questions, confidently-wrong rate and abstention recall on the rest."""
    faqs = {f.id: f for f in service.kb.faqs}
    right = wrong = abstained_in = abstained_out = 0
    fails: list[dict[str, Any]] = []
    for q in items:
        reply = service.handle(q.text)
        answered = reply.answered
        cites = {c.ref for c in reply.citations} | {c.entry_id for c in reply.citations}
        relevant = set(q.expected)
        for e in q.expected:
            if e in faqs:
                relevant.update(faqs[e].basis)
        flat = "".join(reply.text.split())
        if q.in_kb:
            ok = answered and bool(cites & relevant) and all("".join(p.split()) in flat for p in q.key_points)
            right += ok
            wrong += answered and not ok
            abstained_in += not answered
        else:
            abstained_out += not answered
            wrong += answered
            ok = not answered
        if not ok:
            fails.append({"id": q.id, "text": q.text, "in_kb": q.in_kb, "expected": q.expected,
                          "cited": sorted(cites), "answered": answered, "reply": reply.text[:160]})
    n_in = sum(q.in_kb for q in items)
    n_out = len(items) - n_in
    return ({"n": float(len(items)), "accuracy_in_kb": right / max(n_in, 1),
             "confident_wrong_rate": wrong / max(len(items), 1),
             "abstention_recall": abstained_out / max(n_out, 1),
             "over_abstention": abstained_in / max(n_in, 1)}, fails)


def score_turns(service: AssistantService, items: Sequence[RealTurn],
                tickets: Callable[[], Sequence[Any]] | None = None) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The share of everyday turns that behave as expected: the right kind, and what must hold after them."""
    ok_count = 0
    per_kind: dict[str, list[float]] = {}
    fails: list[dict[str, Any]] = []
    for t in items:
        state = ConversationState()
        filed: list[TicketRequest] = []

        def submit(req: TicketRequest, _sink: list[TicketRequest] = filed) -> str:
            _sink.append(req)
            return f"GD-EVAL-{len(_sink)}"

        def amend(number: str, fields: dict[str, str], _sink: list[TicketRequest] = filed) -> None:
            if _sink:
                d = _sink[-1].draft
                _sink[-1] = replace(_sink[-1], draft=replace(
                    d, resident_name=fields.get("resident_name", d.resident_name), phone=fields.get("phone", d.phone),
                    address=fields.get("address", d.address), description=fields.get("description", d.description)))

        for text in t.setup:
            state = service.handle(text, state=state, submit=submit, amend=amend).state
        reply = service.handle(t.text, state=state, submit=submit, amend=amend)
        problems = []
        kind = reply.kind.value
        if kind != t.kind and not (t.kind in ("report", "complaint") and kind in ("report", "complaint")):
            problems.append(f"kind {kind}")
        e = t.expect
        draft = reply.state.case.draft if reply.state.case else (filed[-1].draft if filed else None)
        for name in ("resident_name", "phone", "address"):
            want = getattr(e, name)
            if want is not None:
                got = getattr(draft, name, None) if draft else reply.state.known.get(name)
                if got is None:
                    got = reply.state.known.get(name)
                if got != want:
                    problems.append(f"{name} {got!r}")
        if e.handoff is not None and t.kind in ("complaint", "emergency"):
            # for a complaint or an emergency the label means "a person takes the case": escalation
            if reply.escalated != e.handoff:
                problems.append(f"escalated {reply.escalated}")
        elif e.handoff is not None and reply.handoff != e.handoff:
            problems.append(f"handoff {reply.handoff}")
        if e.agent is not None and reply.agent.value not in (e.agent, "callback"):
            problems.append(f"agent {reply.agent.value}")
        if e.names_ticket and not any(n in reply.text for n in (reply.state.ticket_number or "-",)):
            problems.append("ticket not named")
        ok = not problems
        ok_count += ok
        per_kind.setdefault(t.kind, []).append(float(ok))
        if not ok:
            fails.append({"id": t.id, "setup": t.setup, "text": t.text, "kind": t.kind, "problems": problems,
                          "reply": reply.text[:160]})
    scores = {"n": float(len(items)), "behaving": ok_count / max(len(items), 1)}
    scores.update({f"kind:{k}": m.mean(v) for k, v in sorted(per_kind.items())})
    return scores, fails
