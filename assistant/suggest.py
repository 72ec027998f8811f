"""Suggested replies: three different replies an agent could send for a case, built from the standard scripts.

A case (``CaseFacts``) is a stored ticket seen from the agent's console: its category, level, escalation
triggers, the problem in the company's words, its deadlines, the signed-in agent, and what has already been said
in its conversation. ``suggest`` gives up to three options in different styles:

- ``short``: direct — the one-sentence safety instruction or problem guidance if there is one, then the commitment
  (or, on a follow-up, the progress);
- ``warm``: for an upset resident — a personal greeting, understanding and an apology that fit the case, the full
  safety instruction, a warmer commitment;
- ``full``: every next step with its time — confirmation of the facts, who handles it, what happens next.

The three share no script where the KB has another for the same purpose: each style asks for its own variant
(``assistant.scripts.VARIANT_TAGS``), and scripts one option uses come last for the next.

Which scripts fit a case is data (each script's categories, levels and ``when`` conditions in kb/, checked by
``assistant.scripts.fits``); the styles below only say which kinds of script an option is made of. A script
with a slot the case cannot fill is never offered, no script is said twice in a conversation, and a fact (the
ticket number, a time, the problem) is stated once per option. Every option is linted for its situation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from assistant.advice import CaseAdvice
from assistant.replies import LintResult, ReplyLinter
from assistant.scripts import (
    GENERAL_TAG,
    SHORT_TAG,
    VARIANT_TAGS,
    WARM_TAG,
    ScriptContext,
    candidates,
    company_slots,
    fill,
)
from assistant.sla import contact_words, due_words, local_zone, sla_text
from assistant.store.tables import Ticket
from ingest.tokens import TextNormalizer
from kb.load import KnowledgeBase
from kb.schema import Category, ReplyScript, ScriptScenario, Situation, TriggerKind, Urgency

__all__ = ["CaseFacts", "Style", "Suggestion", "agent_name_of", "case_facts", "situations_for", "suggest"]


class Style(StrEnum):
    """The three kinds of suggested reply."""

    SHORT = "short"
    WARM = "warm"
    FULL = "full"


# What each style is made of, in order: (scenario, tag words, whether a script must carry one of those tags).
# A scenario with no fitting, fillable script for the case is left out; optional words only rank the scripts,
# except a variant tag among them (简短, 体贴: ``assistant.scripts.VARIANT_TAGS``), which asks for that version
# of the script where the KB has one. The short option takes the one-sentence safety instruction and the plain
# commitment; the warm one the full safety instruction and the warmer commitment; the full one the one-sentence
# safety instruction and every next step.
# A follow-up (the commitment already given) states the progress instead (FOLLOW_UP scripts tagged 进度).
_PLANS: dict[Style, tuple[tuple[ScriptScenario, str, bool], ...]] = {
    Style.SHORT: ((ScriptScenario.EMERGENCY, SHORT_TAG, False), (ScriptScenario.GUIDANCE, SHORT_TAG, False),
                  (ScriptScenario.COMMIT_TIME, "重复", False), (ScriptScenario.FOLLOW_UP, "进度", True)),
    Style.WARM: ((ScriptScenario.GREETING, "接手", True), (ScriptScenario.SOOTHING, "三步骤安抚 体谅", False),
                 (ScriptScenario.APOLOGY, "服务态度 重复", False), (ScriptScenario.EMERGENCY, "", False),
                 (ScriptScenario.GUIDANCE, "", False), (ScriptScenario.COMMIT_TIME, WARM_TAG, False),
                 (ScriptScenario.FOLLOW_UP, f"进度 {WARM_TAG}", True), (ScriptScenario.HANDOFF, "管家 特殊群体", True)),
    Style.FULL: ((ScriptScenario.GREETING, f"接手 {SHORT_TAG}", True), (ScriptScenario.EMERGENCY, SHORT_TAG, False),
                 (ScriptScenario.GUIDANCE, SHORT_TAG, False), (ScriptScenario.REPEAT, "复述", False),
                 (ScriptScenario.HANDOFF, "升级 紧急", True), (ScriptScenario.NEXT_STEPS, "后续安排 重复", False),
                 (ScriptScenario.CLOSING, "线上", True)),
}
# Scenarios an option may borrow from when the linter finds a required element missing (empathy, apology,
# repeating the key facts, a time limit); the borrowed script is placed where that scenario belongs.
_COMPLETIONS = (ScriptScenario.APOLOGY, ScriptScenario.SOOTHING, ScriptScenario.REPEAT, ScriptScenario.NEXT_STEPS,
                ScriptScenario.COMMIT_TIME)
_OPENING = (ScriptScenario.GREETING, ScriptScenario.EMERGENCY, ScriptScenario.SOOTHING, ScriptScenario.APOLOGY)
# Scenarios whose script is chosen for the hazard or problem its tags name (gas, fire, a leak…), not the category.
_ANY_CATEGORY = frozenset({ScriptScenario.EMERGENCY, ScriptScenario.GUIDANCE})
# Facts stated once per reply: a second script that would repeat one of them is passed over.
_ONCE = ("issue", "ticket_no", "deadline", "callback_time")
_NORMALIZE = TextNormalizer()
_PLAIN = re.compile(r"[\s，。、；：！？,.;:!?“”\"'（）()【】\[\]—…-]")
_REPEAT_RUN = 8  # characters: a longer run said twice in one reply reads as a doubled phrase
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>?|[<>{}]", re.I | re.S)
_SLOT = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a suggestion is filled with and chosen by.

    Attributes:
        issue: The problem in the company's words (``assistant.intake.problem_summary``), never the raw text.
        deadline: The level's committed deadline.
        contact_due: When the resident is to be contacted (a complaint's contact deadline), if set.
        contact_minutes: That deadline's window in minutes (720 for a service complaint, 0 for a safety one).
        kinds: The escalation triggers that fired.
        escalated: A person / supervisor has been brought in.
        agent_name: The signed-in agent's name as the resident should read it (``agent_name_of``).
        said: What the resident has already been told in this conversation (assistant and agent turns).
        agent_spoke: An agent has already written in this conversation (no greeting mid-conversation).
        hazard_text: The ticket's description, only to match emergency scripts to the hazard (never rendered).
        now: When the reply is written (deadlines are said relative to it: 今天、明天).
    """

    category: Category
    urgency: Urgency
    department: str
    resident_name: str = ""
    address: str = ""
    phone: str = ""
    issue: str = ""
    ticket_no: str = ""
    deadline: datetime | None = None
    contact_due: datetime | None = None
    kinds: frozenset[TriggerKind] = frozenset()
    contact_minutes: int | None = None
    escalated: bool = False
    agent_name: str = ""
    said: tuple[str, ...] = ()
    agent_spoke: bool = False
    hazard_text: str = ""
    now: datetime | None = None

    @property
    def complaint(self) -> bool:
        """The 投诉 category or a complaint trigger."""
        return self.category is Category.COMPLAINT or bool(
            self.kinds & {TriggerKind.SERVICE_COMPLAINT, TriggerKind.SAFETY_COMPLAINT})

    @property
    def safety(self) -> bool:
        """Level 1 or a safety trigger: the only cases that get a safety script."""
        return self.urgency == Urgency.LEVEL_1 or bool(
            self.kinds & {TriggerKind.EMERGENCY, TriggerKind.SAFETY_COMPLAINT})


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested reply: the filled scripts, where they come from, and its lint verdict."""

    text: str
    script_id: str
    scenario: str
    basis: tuple[str, ...]
    lint: LintResult
    next_steps: tuple[str, ...] = field(default=())
    style: Style = Style.SHORT
    scripts: tuple[str, ...] = ()


def agent_name_of(display_name: str) -> str:
    """The name an agent gives a resident: the last word of a display name such as ``客服 小李`` (→ 小李).

    The scripts already say the role (我是客服{agent_name}), so the title part of the display name is dropped.
    """
    words = _MARKUP.sub("", display_name).split()
    return words[-1] if words else ""


def case_facts(ticket: Ticket, *, issue: str = "", agent_name: str = "", said: Sequence[str] = (),
               agent_spoke: bool = False, now: datetime | None = None) -> CaseFacts:
    """The facts of a stored ticket that suggestions are filled with.

    Args:
        ticket: The stored ticket (with its deadlines).
        issue: The problem in the company's words (``AssistantService.summary_of(ticket.description)``).
        agent_name: The signed-in agent's name (``agent_name_of``).
        said: Replies already sent in the ticket's conversation.
        agent_spoke: Whether an agent has already written in that conversation.
        now: The time of the reply (default: now).
    """
    kinds = frozenset(TriggerKind(k) for k in (ticket.escalation or {}).get("kinds", [])
                      if k in TriggerKind._value2member_map_)
    due = min((d.due_at for d in ticket.deadlines if d.key.startswith("level")), default=None)
    contact = min((d for d in ticket.deadlines if d.key.startswith("complaint")), key=lambda d: d.due_at,
                  default=None)
    return CaseFacts(Category(ticket.category), Urgency(ticket.urgency), ticket.department, ticket.resident_name,
                     ticket.address, ticket.phone, issue, ticket.number or "", due,
                     contact.due_at if contact else None, kinds, contact.minutes if contact else None,
                     escalated=bool(ticket.escalated), agent_name=agent_name, said=tuple(said),
                     agent_spoke=agent_spoke, hazard_text=ticket.description, now=now)


def situations_for(facts: CaseFacts) -> tuple[Situation, ...]:
    """The element sets a reply to this case must satisfy."""
    if facts.urgency == Urgency.LEVEL_1:
        return (Situation.EMERGENCY,)
    if facts.complaint:
        return (Situation.COMPLAINT,)
    return (Situation.REPAIR,)


def _repeats(text: str, before: str) -> bool:
    """Whether ``text`` repeats a run of ``_REPEAT_RUN`` characters of ``before`` (punctuation ignored)."""
    runs = (text[i:i + _REPEAT_RUN] for i in range(len(text) - _REPEAT_RUN + 1))
    return any("\0" not in run and run in before for run in runs)


def _clean(value: str) -> str:
    """A case value as it may appear in a reply: no markup, no braces, no surrounding space."""
    return " ".join(_MARKUP.sub("", value).split())


def _values(kb: KnowledgeBase, facts: CaseFacts) -> dict[str, str]:
    """Every slot a script may have, filled from the case; a slot the case does not give stays empty."""
    zone = local_zone(kb.values)
    now = facts.now or datetime.now(UTC)

    def when(d: datetime | None) -> str:
        return due_words(d, now=now, zone=zone) if d is not None else ""

    # a complaint's first commitment is the supervisor's call ("{deadline}前联系您"), its result comes by the
    # level's deadline ("处理结果会在{callback_time}前告知您"); other cases call back by their deadline
    first, then = facts.deadline, facts.contact_due or facts.deadline
    contact_minutes = facts.contact_minutes
    if facts.complaint and facts.contact_due is not None:
        first, then = facts.contact_due, facts.deadline
        level = next(lv for lv in kb.rules.urgency.levels if lv.level == facts.urgency)
        if facts.deadline is not None and facts.deadline < facts.contact_due:  # a level-2 complaint: 2 hours
            first, contact_minutes = facts.deadline, level.sla_minutes
    contact_sla = contact_words(contact_minutes) if facts.complaint else ""
    raw = {**company_slots(kb.values), "resident_name": facts.resident_name, "address": facts.address,
           "phone": facts.phone, "issue": facts.issue, "department": facts.department, "ticket_no": facts.ticket_no,
           "agent_name": facts.agent_name, "sla_text": sla_text(kb.rules, facts.urgency),
           "deadline": when(first), "callback_time": when(then), "contact_sla": contact_sla}
    return {k: _clean(v) for k, v in raw.items()}


def said_scripts(scripts: Sequence[ReplyScript], said: Sequence[str]) -> frozenset[str]:
    """Ids of the scripts whose filled text appears in what was already said (any slot values)."""
    out = set()
    for s in scripts:
        parts = _SLOT.split(s.text)
        if sum(len(p) for p in parts) < 8:
            continue
        pattern = re.compile(".{1,60}?".join(re.escape(p) for p in parts), re.S)
        if any(pattern.search(text) for text in said):
            out.add(s.id)
    return frozenset(out)


def _context(kb: KnowledgeBase, facts: CaseFacts) -> ScriptContext:
    # the hazard is matched on the normalised words (冒緊煙 names smoke as 烟 does)
    return ScriptContext(kinds=facts.kinds, complaint=facts.complaint, escalated=facts.escalated,
                         safety=facts.safety, first_contact=not facts.agent_spoke, ticket=bool(facts.ticket_no),
                         speaker="agent", hazard_text=_NORMALIZE(facts.hazard_text),
                         said=said_scripts(kb.scripts, facts.said))


@dataclass(frozen=True, slots=True)
class _Part:
    script: ReplyScript
    text: str


class _Composer:
    """Builds one option: picks, per scenario, the best fitting script that can be filled and repeats no fact."""

    def __init__(self, kb: KnowledgeBase, facts: CaseFacts, linter: ReplyLinter) -> None:
        self.kb = kb
        self.facts = facts
        self.linter = linter
        self.values = _values(kb, facts)
        self.ctx = _context(kb, facts)
        self.situations = situations_for(facts)

    def _plain(self, text: str) -> str:
        """The text without punctuation, the case's facts masked (an address said twice is no doubled phrase)."""
        for value in sorted((v for v in self.values.values() if len(v) >= 2), key=len, reverse=True):
            text = text.replace(value, "\0")
        return _PLAIN.sub("", text)

    def _options(self, scenario: ScriptScenario, words: str) -> list[ReplyScript]:
        f = self.facts
        hazard = scenario in _ANY_CATEGORY
        variants = VARIANT_TAGS.intersection(words.split())
        # a safety script is chosen by the hazard its tags name, whatever the category (a fire reported as a
        # complaint still gets the fire instruction); the general one only where no specific one fits
        # (the safety scripts are written for level 1 and widen to any level; a problem's guidance keeps its levels)
        found = candidates(self.kb.scripts, scenario, category=None if hazard else f.category, urgency=f.urgency,
                           text=f"{words} {self.ctx.hazard_text}" if hazard else words, context=self.ctx,
                           widen=scenario is ScriptScenario.EMERGENCY, variants=variants)
        if scenario is ScriptScenario.EMERGENCY and not found:
            # the full instruction already said (the chat gives it when the report comes in): its short version
            # names the same hazard; the general instruction only where no script names the hazard at all
            found = candidates(self.kb.scripts, scenario, urgency=f.urgency, text=f"{words} {self.ctx.hazard_text}",
                               context=self.ctx, variants=variants | {SHORT_TAG})
            found = found or candidates(self.kb.scripts, scenario, urgency=f.urgency, text=words, context=self.ctx,
                                        variants=variants | {GENERAL_TAG})
        return found

    def _fitting(self, scenario: ScriptScenario, words: str, parts: list[_Part], avoid: frozenset[str],
                 required: bool = False) -> list[_Part]:
        """The scripts of a scenario that fit, fill and repeat no stated fact, best first."""
        stated = {self.values[k] for p in parts for k in _ONCE if k in p.script.placeholders}
        used = {p.script.id for p in parts}
        ranked = self._options(scenario, words)
        if required:
            ranked = [s for s in ranked if set(s.tags) & set(words.split())]
        out = []
        # stable: scripts other options use come last, except the safety instruction, which is chosen for the hazard
        keep = scenario in _ANY_CATEGORY
        so_far = self._plain("".join(p.text for p in parts))
        for s in sorted(ranked, key=lambda s: not keep and s.id in avoid):
            text = fill(s, self.values)
            if text is None or s.id in used or any(self.values[k] in stated for k in _ONCE if k in s.placeholders):
                continue
            if _repeats(self._plain(text), so_far):
                continue  # says again what the option already says (升级到客服主管专人督办 twice)
            out.append(_Part(s, text))
        return out

    def build(self, style: Style, avoid: frozenset[str]) -> list[_Part]:
        """The parts of one option (the scripts other options already use are taken only if nothing else fits)."""
        parts: list[_Part] = []
        for scenario, words, required in _PLANS[style]:
            found = self._fitting(scenario, words, parts, avoid, required)
            if found:
                parts.append(found[0])
        for _ in range(len(_COMPLETIONS)):
            missing = [f.rule.removeprefix("missing:") for f in self.lint(parts).findings if f.kind == "missing"]
            part = next((p for name in missing if (p := self._completion(name, parts, avoid)) is not None), None)
            if part is None:
                break
            opening = part.script.scenario in _OPENING
            at = sum(1 for p in parts if p.script.scenario in _OPENING) if opening else len(parts)
            parts.insert(at, part)
        return parts

    def _completion(self, element: str, parts: list[_Part], avoid: frozenset[str]) -> _Part | None:
        cues = next((e.cues for e in self.kb.rules.banned.elements if e.name == element), [])
        for scenario in _COMPLETIONS:
            for part in self._fitting(scenario, "", parts, avoid):
                if any(c in part.text for c in cues):
                    return part
        return None

    def lint(self, parts: list[_Part]) -> LintResult:
        """The linter's verdict on the joined parts."""
        # the same checks as the console's reply check for this ticket: its words and its level's time limit
        return self.linter.run("".join(p.text for p in parts), situations=self.situations,
                               case=CaseAdvice(context=self.facts.hazard_text), urgency=self.facts.urgency,
                               category=self.facts.category)


def suggest(kb: KnowledgeBase, facts: CaseFacts, *, linter: ReplyLinter | None = None, k: int = 3) -> list[Suggestion]:
    """Up to ``k`` different replies for a case (short, warm, full), filled, cited and linted clean.

    An option that cannot be built from fitting scripts with every slot filled, or that the linter rejects
    for the case's situation, is not offered.
    """
    linter = linter or ReplyLinter(kb.rules, clauses=kb.clause_index())
    composer = _Composer(kb, facts, linter)
    steps = _next_steps(kb, facts)
    out: list[Suggestion] = []
    seen: set[str] = set()
    used: set[str] = set()
    for style in Style:
        parts = composer.build(style, frozenset(used))
        if not parts:
            continue
        text = "".join(p.text for p in parts)
        result = composer.lint(parts)
        if text in seen or not result.ok:
            continue
        seen.add(text)
        used.update(p.script.id for p in parts)
        ids = tuple(p.script.id for p in parts)
        basis = tuple(dict.fromkeys(ref for p in parts for ref in p.script.basis))
        out.append(Suggestion(text, "+".join(ids), style.value, basis, result, steps, style, ids))
    return out[:k]


def _next_steps(kb: KnowledgeBase, facts: CaseFacts) -> tuple[str, ...]:
    """The SOP clauses behind the case's level and category, for the console's next-steps list."""
    clauses = kb.clause_index()
    rules = kb.rules
    level = next(lv for lv in rules.urgency.levels if lv.level == facts.urgency)
    routing = next(c for c in rules.routing.categories if c.category == facts.category)
    return tuple(f"{ref}：{clauses[ref].text[:120]}" for ref in (*level.basis, *routing.basis) if ref in clauses)


def values_for_check(kb: KnowledgeBase, facts: CaseFacts) -> Mapping[str, str]:
    """The filled slot values of a case (the checks mask them: they are the case's facts, not copied text)."""
    return _values(kb, facts)
