"""`wuye kb lint`: cross-file checks the schema alone cannot make."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from rapidfuzz import fuzz

from kb.load import KnowledgeBase
from kb.schema import CHAT_SCRIPT_TAGS, PLACEHOLDER, ArticleType, ScriptScenario


class Severity(StrEnum):
    """Errors block an ingest; warnings are for the reviewer."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding, located by file and entry."""

    severity: Severity
    code: str
    path: str
    entry: str
    message: str


@dataclass(frozen=True, slots=True)
class LintReport:
    """All findings plus counts per type."""

    findings: tuple[Finding, ...]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that block an ingest."""
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)


def _rel(kb: KnowledgeBase, path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return str(path.relative_to(kb.root.parent))
    except ValueError:
        return str(path)


ALLOWED_PLACEHOLDERS = frozenset({
    "resident_name", "agent_name", "company", "ticket_no", "deadline", "sla_text", "department", "issue",
    "address", "phone", "callback_time", "delay_reason", "new_deadline", "missing_field", "hotline", "contact_sla",
    # chat turns (kb/content/scripts/chat.yaml): filled by assistant/turn_replies.py
    "status", "holder", "due_text", "count", "hours", "what", "category", "level_name", "level_label", "score",
})


def lint(kb: KnowledgeBase, *, today: date | None = None, near_duplicate: float = 92.0) -> LintReport:
    """Check references, duplicates, expiry and script hygiene across the whole KB.

    Args:
        kb: The loaded knowledge base (schema errors were already raised by ``load_kb``).
        today: The day expiry is judged on (default: today).
        near_duplicate: rapidfuzz ratio (0–100) above which two FAQ questions count as duplicates.

    Returns:
        The findings and the counts per entry type.
    """
    today = today or date.today()
    clauses = kb.clause_index()
    findings: list[Finding] = []

    def add(sev: Severity, code: str, entry_id: str, message: str) -> None:
        findings.append(Finding(sev, code, _rel(kb, kb.sources.get(entry_id)), entry_id, message))

    def check_refs(entry_id: str, refs: list[str]) -> None:
        for ref in refs:
            if ref not in clauses:
                add(Severity.ERROR, "missing-clause", entry_id, f"cites {ref}, which does not exist")

    for entry in kb.faqs:
        check_refs(entry.id, entry.basis)
        if entry.curated is not None and (len(entry.paraphrases) < 3 or not entry.basis):
            add(Severity.WARNING, "curated-incomplete", entry.id,
                f"curated entry with {len(entry.paraphrases)} paraphrase(s) and {len(entry.basis)} basis clause(s): "
                "add colloquial wordings and the clause it rests on when reviewing it")
        if not entry.is_effective(today):
            add(Severity.WARNING, "expired", entry.id, f"not effective on {today} (ends {entry.effective_to})")
    chat_tags = {s.tags[0] for s in kb.scripts if s.scenario is ScriptScenario.CHAT and s.tags}
    for tag in sorted(CHAT_SCRIPT_TAGS - chat_tags):
        add(Severity.ERROR, "missing-chat-script", tag, f"no chat script tagged {tag!r} (kb/content/scripts/chat.yaml)")
    for script in kb.scripts:
        check_refs(script.id, script.basis)
        unknown = set(PLACEHOLDER.findall(script.text)) - ALLOWED_PLACEHOLDERS
        if unknown:
            add(Severity.ERROR, "unknown-placeholder", script.id, f"unknown placeholders {sorted(unknown)}")
        banned = [p.phrase for p in kb.rules.banned.phrases
                  if any(v in script.text for v in (p.phrase, *p.variants))]
        if banned:
            add(Severity.ERROR, "banned-phrase", script.id, f"uses banned phrases {banned}")
    for scenario in kb.scenarios:
        check_refs(scenario.id, scenario.expected.basis)
    for article in kb.articles:
        if not article.meta.is_effective(today):
            add(Severity.WARNING, "expired", article.meta.id,
                f"not effective on {today} (ends {article.meta.effective_to})")
    rules = kb.rules
    rule_refs = (
        [(f"urgency level {lv.level}", lv.basis) for lv in rules.urgency.levels]
        + [(f"deadline {d.key}", d.basis) for d in rules.urgency.deadlines]
        + [(f"routing {c.category}", c.basis) for c in rules.routing.categories]
        + [(t.id, t.basis) for t in rules.escalation.triggers]
        + [(f"banned {p.phrase}", p.basis) for p in rules.banned.phrases]
        + [(f"field {f.name}", f.basis) for f in rules.fields.fields]
    )
    for name, refs in rule_refs:
        for ref in refs:
            if ref not in clauses:
                findings.append(Finding(Severity.ERROR, "missing-clause", "kb/rules", name,
                                        f"cites {ref}, which does not exist"))

    departments = {c.department for c in rules.routing.categories} | {
        r.department for c in rules.routing.categories for r in c.routes}
    for dept in sorted(set(rules.oncall.departments) - departments):
        findings.append(Finding(Severity.ERROR, "unknown-department", "kb/rules/oncall.yaml", dept,
                                f"roster for {dept!r}, which no routing rule sends tickets to"))
    for dept, people in rules.oncall.departments.items():
        for person in people:
            if person.channel == "wecom" and not person.wecom_user:
                findings.append(Finding(Severity.ERROR, "missing-wecom-user", "kb/rules/oncall.yaml", dept,
                                        f"{person.name} is paged through WeChat Work but has no wecom_user"))

    findings += _advice_findings(kb, clauses)

    questions: list[tuple[str, str]] = []
    for entry in kb.faqs:
        questions.append((entry.id, entry.question))
    seen: dict[str, str] = {}
    for entry_id, q in questions:
        key = q.strip("？?。 ")
        if key in seen:
            add(Severity.ERROR, "duplicate-question", entry_id, f"same question as {seen[key]}: {q}")
        seen.setdefault(key, entry_id)
    for i, (id_a, qa) in enumerate(questions):
        for id_b, qb in questions[i + 1:]:
            if qa.strip("？?。 ") != qb.strip("？?。 ") and fuzz.ratio(qa, qb) >= near_duplicate:
                add(Severity.WARNING, "near-duplicate", id_b, f"question close to {id_a}: {qb} ~ {qa}")

    counts = Counter(a.meta.type.value for a in kb.articles)
    counts.update({
        "clause": len(clauses),
        "faq": len(kb.faqs),
        "faq_curated": sum(1 for e in kb.faqs if e.curated is not None),
        "community": len(kb.communities),
        "faq_paraphrase": sum(len(e.paraphrases) for e in kb.faqs),
        "script": len(kb.scripts),
        "scenario": len(kb.scenarios),
        "value": len(kb.values),
        "urgency_cue": sum(len(lv.cues) for lv in rules.urgency.levels),
        "escalation_trigger": len(rules.escalation.triggers),
        "banned_phrase": len(rules.banned.phrases),
        "must_not_do": len(rules.advice.must_not_do),
        "contradiction": len(rules.advice.contradictions),
        "dictionary_term": len(rules.dictionary.terms),
    })
    return LintReport(tuple(findings), dict(counts))


ADVICE_FILE = "kb/rules/advice.yaml"


def _advice_findings(kb: KnowledgeBase, clauses: Mapping[str, object]) -> list[Finding]:
    """kb/rules/advice.yaml against the articles and the scenarios: every clause and plan exists, every scenario
    names existing items, and every emergency plan and level-1 scenario lists what must not be done."""
    advice = kb.rules.advice
    out: list[Finding] = []
    articles = {a.meta.id: a for a in kb.articles}
    items = [(m.id, m.basis) for m in advice.must_not_do] + [(c.id, c.basis) for c in advice.contradictions]
    for item_id, refs in items:
        for i, ref in enumerate(refs):
            if ref not in clauses:
                out.append(Finding(Severity.ERROR, "missing-clause", ADVICE_FILE, item_id,
                                   f"basis.{i} cites {ref}, which does not exist"))
    for m in advice.must_not_do:
        if m.plan not in articles:
            out.append(Finding(Severity.ERROR, "missing-plan", ADVICE_FILE, m.id,
                               f"plan {m.plan} is not an article of the KB"))
    covered = {m.plan for m in advice.must_not_do}
    for a in kb.articles:
        if a.meta.type is ArticleType.EMERGENCY_PLAN and a.meta.id not in covered and a.meta.id != "EP-GENERAL-001":
            out.append(Finding(Severity.WARNING, "plan-without-must-not-do", _rel(kb, a.path), a.meta.id,
                               f"no must_not_do item in {ADVICE_FILE} names this plan"))
    known_mnd = {m.id for m in advice.must_not_do}
    known_con = {c.id for c in advice.contradictions}
    for s in kb.scenarios:
        path = _rel(kb, kb.sources.get(s.id))
        for field_name, ids, known in (("must_not_do", s.expected.must_not_do, known_mnd),
                                       ("contradictions", s.expected.contradictions, known_con)):
            for i, item_id in enumerate(ids):
                if item_id not in known:
                    out.append(Finding(Severity.ERROR, "unknown-advice-item", path, s.id,
                                       f"expected.{field_name}.{i}: {item_id} is not defined in {ADVICE_FILE}"))
        if int(s.expected.urgency) == 1 and not s.expected.must_not_do:
            out.append(Finding(Severity.WARNING, "scenario-without-must-not-do", path, s.id,
                               "a level-1 scenario lists no must_not_do item"))
    return out
