"""The suggested-replies table: real-shaped cases (eval/data/suggest_cases.jsonl) and the checks every
suggestion for them must pass.

Each case is a labelled message of eval/data/real/triage_*.jsonl (``source_id``) turned into a stored ticket:
the labels give category, level, department, escalation and flags; the message gives the resident's name,
phone and address where it has them (else a demo household); ``stage`` says whether the agent writes first
(``first_contact``) or after the assistant's reply and an earlier agent message (``follow_up``). The table is
regenerated with ``python -m eval.suggestions`` (deterministic).

A suggestion passes when it is complete Chinese (no ``{slot}``, no empty slot, no doubled phrase, no dangling
在…前), passes the linter for the case's situation (with the case's words and level, as the console's reply check
does), copies no run of ``LEAK_RUN`` characters of the message that is not the KB's own vocabulary or a fact of
the ticket, and the three options of a case differ: their pairwise cosine (the real embedding model) stays below
``MAX_COSINE``, calibrated by ``near_copy_cosines`` (``python -m eval.suggestions --calibrate``).

A case that is an instance of a quiz scenario (``scenario``, labelled by hand in eval/data/suggest_scenarios.jsonl:
the same situation and the same expected handling) has every suggestion graded by the quiz grader against that
scenario, with the scenario's structured answers taken as right; each must score ``QUIZ_PASS`` or more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from assistant.advice import CaseAdvice
from assistant.intake import summary_of
from assistant.quiz import Grader, QuizAnswer
from assistant.replies import ReplyLinter
from assistant.scripts import fill, pick
from assistant.sla import deadlines_for, due_words, local_zone, sla_text
from assistant.suggest import CaseFacts, Suggestion, agent_name_of, situations_for, suggest, values_for_check
from assistant.tickets import parse_address, parse_name, parse_phone
from assistant.triage import Triager
from eval.datasets import DATA, TRIAGE_FILES, RealTriage, load_real
from ingest.embed import Embedder
from kb.load import KnowledgeBase
from kb.schema import Category, ScriptScenario, TriggerKind, Urgency

CASES = DATA / "suggest_cases.jsonl"
SCENARIOS = DATA / "suggest_scenarios.jsonl"  # source_id → the quiz scenario the case is an instance of
QUIZ_PASS = 80.0
LEAK_RUN = 8  # characters: a shorter run is ordinary wording (楼上漏水、明天上午), a longer one is copied text
# Options are compared without the case's facts (``_for_similarity``): every option must state the same name,
# address, ticket number, problem and times, and they say nothing about whether the options differ. Calibrated on
# this table with multilingual-e5-small (``near_copy_cosines``, ``python -m eval.suggestions --calibrate``;
# README, agent assist): every in-domain reply scores high (0.92+), and an option against the same option with
# one sentence of at most a fifth of its length left out (a near-copy) scores MAX_COSINE or more in 95 % of
# cases. Options must be further apart than that 5th percentile.
MAX_COSINE = 0.982
NEAR_COPY_SHARE = 0.2
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Beijing: deadlines read 今天/明天 as in the console
AGENT = "客服 小李"
_HOUSEHOLDS = (("王女士", "13912345678", "3栋2单元501室"), ("李先生", "13800001111", "5栋1单元302室"),
               ("赵阿姨", "13700002222", "8栋3单元1101室"))
_EMPTY_SLOT = re.compile(r"(?:我是|客服|工单号|地址是|由|在|前往|赶往|到达)[，。、；！？,.]|在前|前前")
_PUNCT = re.compile(r"[\s，。、；：！？,.;:!?“”\"'（）()【】\[\]—…-]")


class SuggestCase(BaseModel):
    """One row of the table: a real-shaped message turned into a ticket, with its provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    source_id: str = Field(description="The labelled message in eval/data/real/triage_*.jsonl")
    split: Literal["dev", "test"]
    text: str
    category: Category
    urgency: int = Field(ge=1, le=4)
    department: str
    escalated: bool
    kinds: list[TriggerKind] = Field(default_factory=list)
    stage: Literal["first_contact", "follow_up"]
    resident_name: str
    phone: str
    address: str
    scenario: str | None = Field(None, description="The quiz scenario this case is an instance of (labelled)")


@dataclass(frozen=True, slots=True)
class CaseCheck:
    """What the checks found for one case."""

    case_id: str
    texts: tuple[str, ...]
    incomplete: tuple[str, ...] = ()
    lint_failures: tuple[str, ...] = ()
    leaks: tuple[str, ...] = ()
    max_cosine: float = 0.0
    quiz: tuple[float, ...] = ()  # each option's quiz grade, when the case is an instance of a quiz scenario

    @property
    def ok(self) -> bool:
        """Three options, all complete, lint-clean, leak-free, different, and passing the quiz where it applies."""
        return (len(self.texts) == 3 and not self.incomplete and not self.lint_failures and not self.leaks
                and self.max_cosine < MAX_COSINE and all(q >= QUIZ_PASS for q in self.quiz))


@dataclass(frozen=True, slots=True)
class TableResult:
    """The figures of the whole table."""

    checks: tuple[CaseCheck, ...]
    figures: dict[str, float] = field(default_factory=dict)


def _kinds(item: RealTriage) -> list[TriggerKind]:
    """The escalation triggers a case's labels imply (``why`` names a complaint about staff)."""
    out: list[TriggerKind] = []
    if item.urgency == 1:
        out.append(TriggerKind.EMERGENCY)
    flags = {"repeat": TriggerKind.REPEAT, "vulnerable": TriggerKind.VULNERABLE,
             "handoff": TriggerKind.HANDOFF_REQUEST}
    out += [flags[f] for f in item.flags if f in flags]
    if "safety" in item.flags and item.urgency != 1:
        out.append(TriggerKind.SAFETY_COMPLAINT)
    if item.why.startswith("service complaint"):
        out.append(TriggerKind.SERVICE_COMPLAINT)
    return out


def build_cases(size: int = 120) -> list[SuggestCase]:
    """A stratified table: every (category, level, escalated, flags) group of the labelled messages in turn,
    both splits, alternating first contact and follow-up."""
    items = load_real(TRIAGE_FILES[:4], RealTriage)  # the table was drawn from the first four files
    groups: dict[tuple[object, ...], list[RealTriage]] = {}
    for item in items:
        groups.setdefault((item.category, item.urgency, item.escalate, tuple(sorted(item.flags))), []).append(item)
    scenarios = {}
    if SCENARIOS.exists():
        for line in SCENARIOS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                scenarios[row["source_id"]] = row["scenario"]
    order: list[RealTriage] = []
    depth = 0
    while len(order) < min(size, len(items)):
        for key in sorted(groups, key=str):
            if depth < len(groups[key]) and len(order) < size:
                order.append(groups[key][depth])
        depth += 1
    out = []
    for n, item in enumerate(order, start=1):
        name, phone, address = _HOUSEHOLDS[n % len(_HOUSEHOLDS)]
        out.append(SuggestCase(
            id=f"SG-{n:03d}", source_id=item.id, split=item.split, text=item.text, category=item.category,
            urgency=item.urgency, department=item.department, escalated=item.escalate, kinds=_kinds(item),
            stage="follow_up" if n % 3 == 0 else "first_contact", resident_name=parse_name(item.text) or name,
            phone=parse_phone(item.text) or phone, address=parse_address(item.text) or address,
            scenario=scenarios.get(item.id)))
    return out


def load_cases(path: Path = CASES) -> list[SuggestCase]:
    """The committed table."""
    return [SuggestCase.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def facts_for(kb: KnowledgeBase, triager: Triager, case: SuggestCase, *, number: int) -> CaseFacts:
    """The ticket a case stands for, as the agent console sees it (deadlines from the rules, at ``NOW``)."""
    urgency = Urgency(case.urgency)
    deadlines = deadlines_for(kb.rules, urgency=urgency, category=case.category, kinds=case.kinds, created_at=NOW)
    due = next(d.due for d in deadlines if d.key.startswith("level"))
    complaint = min((d for d in deadlines if d.key.startswith("complaint")), key=lambda d: d.due, default=None)
    contact = complaint.due if complaint else None
    issue = summary_of(kb.rules, triager, case.text)
    ticket_no = f"GD20261127-{number:06d}"
    said: tuple[str, ...] = ()
    if case.stage == "follow_up":  # the assistant's reply when the ticket was filed, then one agent message
        said = (_filed_reply(kb, case, issue=issue, ticket_no=ticket_no, due=due),)
    return CaseFacts(case.category, urgency, case.department, case.resident_name, case.address, case.phone, issue,
                     ticket_no, due, contact, frozenset(case.kinds), complaint.minutes if complaint else None,
                     escalated=case.escalated,
                     agent_name=agent_name_of(AGENT), said=said, agent_spoke=case.stage == "follow_up",
                     hazard_text=case.text, now=NOW)


def _filed_reply(kb: KnowledgeBase, case: SuggestCase, *, issue: str, ticket_no: str, due: datetime) -> str:
    """The commitment the assistant gave when it filed the ticket (as assistant/intake.py renders it)."""
    urgency = Urgency(case.urgency)
    script = pick(kb.scripts, ScriptScenario.COMMIT_TIME, category=case.category, urgency=urgency)
    values = {"issue": issue, "ticket_no": ticket_no, "department": case.department, "address": case.address,
              "sla_text": sla_text(kb.rules, urgency), "deadline": due_words(due, now=NOW, zone=local_zone(kb.values))}
    return (fill(script, values) if script else None) or ""


def _masked(text: str, facts: CaseFacts) -> str:
    """The text with the ticket's own facts (name, phone, address, number) masked out."""
    for value in sorted((facts.resident_name, facts.phone, facts.address, facts.ticket_no), key=len, reverse=True):
        if value:
            text = text.replace(value, "\0")
    return text


def incomplete(text: str, facts: CaseFacts) -> list[str]:
    """What makes a suggestion read unfinished: a ``{slot}``, an empty slot, a doubled phrase, a dangling 在…前."""
    found = []
    if "{" in text or "}" in text:
        found.append("unfilled slot")
    m = _EMPTY_SLOT.search(text)
    if m:
        found.append(f"empty slot at 「{m.group(0)}」")
    plain = _PUNCT.sub("", _masked(text, facts))
    for i in range(len(plain) - LEAK_RUN + 1):
        run = plain[i:i + LEAK_RUN]
        if "\0" not in run and plain.find(run, i + LEAK_RUN) != -1:
            found.append(f"doubled phrase 「{run}」")
            break
    return found


def kb_vocabulary(kb: KnowledgeBase) -> str:
    """The KB's own words (scripts and every cue of the rules), joined with a separator no run can span."""
    r = kb.rules
    words: list[str] = [s.text for s in kb.scripts]
    for lv in r.urgency.levels:
        words += lv.cues + [c.name for c in lv.combos] + [w for c in lv.combos for g in c.all for w in g]
    for c in r.routing.categories:
        words += c.cues + [x for route in c.routes for x in (route.name, *route.cues)]
    words += [c for t in r.escalation.triggers for c in t.cues] + list(r.dictionary.terms)
    return "\n".join(_PUNCT.sub("", w) for w in words)


def leaks(text: str, message: str, facts: CaseFacts, vocabulary: str) -> list[str]:
    """Runs of ``LEAK_RUN`` characters copied from the message that are neither KB vocabulary nor ticket facts."""
    plain = _PUNCT.sub("", _masked(text, facts))
    source = _PUNCT.sub("", message)
    out = []
    for i in range(len(plain) - LEAK_RUN + 1):
        run = plain[i:i + LEAK_RUN]
        if "\0" not in run and run in source and run not in vocabulary:
            out.append(run)
    return out


def check_table(kb: KnowledgeBase, embedder: Embedder, cases: Sequence[SuggestCase]) -> TableResult:
    """Suggest for every case and run every check; the figures summarise the table."""
    linter = ReplyLinter(kb.rules, clauses=kb.clause_index())
    triager = Triager(kb.rules)
    grader = Grader(kb, embedder)
    quiz_scenarios = {sc.id: sc for sc in kb.scenarios}
    vocabulary = kb_vocabulary(kb)
    built: list[tuple[SuggestCase, CaseFacts, list[Suggestion]]] = []
    for n, case in enumerate(cases, start=1):
        facts = facts_for(kb, triager, case, number=n)
        built.append((case, facts, suggest(kb, facts, linter=linter)))
    texts = [s.text for _, _, out in built for s in out]
    compared = [_for_similarity(kb, facts, s.text) for _, facts, out in built for s in out]
    vectors = np.asarray(embedder.embed_passages(compared), dtype=np.float32) if texts else np.zeros((0, 1))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    checks: list[CaseCheck] = []
    cosines: list[float] = []
    at = 0
    for case, facts, out in built:
        vs = vectors[at:at + len(out)]
        at += len(out)
        pairs = [float(vs[i] @ vs[j]) for i, j in combinations(range(len(out)), 2)]
        cosines += pairs
        situations = situations_for(facts)
        quiz: tuple[float, ...] = ()
        if case.scenario is not None:
            # the scenario's expected handling, with the case's own words as its messages: a suggestion for this
            # case speaks of this case's place and problem, which the scenario's wording does not name
            sc = quiz_scenarios[case.scenario]
            sc = sc.model_copy(update={"messages": [case.text, *sc.messages]})
            e = sc.expected
            quiz = tuple(grader.grade(sc, QuizAnswer(e.category.value, int(e.urgency), e.department,
                                                     e.time_limit_minutes, s.text, 60)).score for s in out)
        checks.append(CaseCheck(
            case.id, tuple(s.text for s in out),
            incomplete=tuple(f"{s.style.value}: {p}" for s in out for p in incomplete(s.text, facts)),
            lint_failures=tuple(f"{s.style.value}: {f.rule}" for s in out
                                for f in linter.run(s.text, situations=situations,
                                                    case=CaseAdvice(context=case.text),
                                                    urgency=facts.urgency, category=facts.category).findings),
            leaks=tuple(f"{s.style.value}: {r}" for s in out for r in leaks(s.text, case.text, facts, vocabulary)),
            max_cosine=max(pairs, default=1.0), quiz=quiz))
    n = max(len(checks), 1)
    figures = {
        "cases": float(len(checks)),
        "suggestions": float(len(texts)),
        "three_options": sum(len(c.texts) == 3 for c in checks) / n,
        "complete": sum(not c.incomplete for c in checks) / n,
        "lint_clean": sum(not c.lint_failures for c in checks) / n,
        "no_raw_text": sum(not c.leaks for c in checks) / n,
        "distinct": sum(c.max_cosine < MAX_COSINE for c in checks) / n,
        "all_checks": sum(c.ok for c in checks) / n,
        "mean_pair_cosine": float(np.mean(cosines)) if cosines else 0.0,
        "max_pair_cosine": max(cosines, default=0.0),
        "cosine_threshold": MAX_COSINE,
        "quiz_cases": float(sum(bool(c.quiz) for c in checks)),
        "quiz_at_least_80": (sum(q >= QUIZ_PASS for c in checks for q in c.quiz)
                             / max(sum(len(c.quiz) for c in checks), 1)),
        "quiz_min": min((q for c in checks for q in c.quiz), default=0.0),
    }
    return TableResult(tuple(checks), figures)


_SENTENCE_END = re.compile(r"(?<=[。！？!?])")


def _for_similarity(kb: KnowledgeBase, facts: CaseFacts, text: str) -> str:
    """The text without the case's facts (the filled slot values), as options are compared."""
    for value in sorted((v for v in values_for_check(kb, facts).values() if len(v) >= 2), key=len, reverse=True):
        text = text.replace(value, "")
    return text


def near_copy_cosines(kb: KnowledgeBase, embedder: Embedder, cases: Sequence[SuggestCase]) -> list[float]:
    """Cosine of each suggestion against itself with one short sentence left out: what a near-copy scores.

    Every suggestion (facts removed, as options are compared) gives one pair per sentence of at most
    ``NEAR_COPY_SHARE`` of its length. ``MAX_COSINE`` is the 5th percentile: options further apart than that are
    not near-copies of each other.
    """
    linter = ReplyLinter(kb.rules, clauses=kb.clause_index())
    triager = Triager(kb.rules)
    pairs: list[tuple[str, str]] = []
    for n, case in enumerate(cases, start=1):
        facts = facts_for(kb, triager, case, number=n)
        for s in suggest(kb, facts, linter=linter):
            text = _for_similarity(kb, facts, s.text)
            sentences = [x for x in _SENTENCE_END.split(text) if x.strip()]
            pairs += [(text, "".join(sentences[:i] + sentences[i + 1:])) for i in range(len(sentences))
                      if len(sentences) >= 2 and len(sentences[i]) <= NEAR_COPY_SHARE * len(text)]
    if not pairs:
        return []
    vectors = np.asarray(embedder.embed_passages([t for pair in pairs for t in pair]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    return [float(vectors[2 * i] @ vectors[2 * i + 1]) for i in range(len(pairs))]


def main() -> None:
    """Regenerate eval/data/suggest_cases.jsonl from the labelled real-shaped messages (``--calibrate``: print the
    near-copy cosines ``MAX_COSINE`` is set from instead)."""
    import sys

    if "--calibrate" in sys.argv[1:]:
        from ingest.embed import build_embedder
        from ingest.settings import IngestSettings
        from kb.load import load_kb

        settings = IngestSettings()
        embedder = build_embedder(settings)
        embedder.warm_up()
        values = sorted(near_copy_cosines(load_kb(settings.kb_root), embedder, load_cases()))
        for p in (1, 5, 10, 50):
            print(f"near-copy cosine, {p}th percentile: {values[int(len(values) * p / 100)]:.4f}")
        print(f"{len(values)} pairs; MAX_COSINE = {MAX_COSINE}")
        return
    rows = [c.model_dump(mode="json", exclude_none=True) for c in build_cases()]
    CASES.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} cases → {CASES}")


if __name__ == "__main__":
    main()
