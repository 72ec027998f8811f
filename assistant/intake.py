"""Intake: a reported problem → a case filled turn by turn (one missing field at a time) → a complete ticket
with its deadlines, submitted through the caller's ``submit``. What the reply promises (level, department,
time limit, escalation) comes from the rules and the scripts in kb/. Never calls back into the service.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime

from assistant.answering import Answering
from assistant.compose import Answer
from assistant.conversation import (
    AgentState,
    Case,
    ConversationState,
    History,
    Reply,
    Submit,
    TicketRequest,
    make_reply,
)
from assistant.escalation import Decision
from assistant.scripts import ScriptContext, company_slots, pick, render
from assistant.sla import Deadline, contact_words, deadlines_for, sla_text
from assistant.tickets import TicketDraft, parse_address, parse_phone
from assistant.triage import Intent, Triage, Triager
from assistant.turn import TurnClassifier, TurnKind
from assistant.turn_replies import TurnReplies
from assistant.types import ResidentProfile, Retrieval
from kb.load import KnowledgeBase, Rules
from kb.schema import Category, ScriptScenario, TriggerKind, Urgency


class Intake:
    """Turns reports into tickets."""

    def __init__(self, kb: KnowledgeBase, triager: Triager, answering: Answering, turns: TurnClassifier,
                 turn_replies: TurnReplies, clock: Callable[[], datetime]) -> None:
        self.kb = kb
        self.rules = kb.rules
        self.triager = triager
        self.answering = answering
        self.turns = turns
        self.turn_replies = turn_replies
        self.clock = clock
        self._fields = {f.name: f for f in kb.rules.fields.fields}
        self._company = company_slots(kb.values)

    def draft(self, text: str, state: ConversationState, profile: ResidentProfile | None, *, report: bool,
              kind: TurnKind) -> TicketDraft:
        """The ticket draft after this turn: a new report (kept beside an open case), or fields for the open case."""
        case = state.case
        if report:
            known = state.known
            # what the resident writes wins (a report for another flat, another contact); the account's
            # profile and what they said earlier in the chat only fill what the message leaves out
            said = TicketDraft().merge_text(text, is_problem=True)
            draft = replace(
                said,
                resident_name=said.resident_name or (profile.name if profile else None) or known.get("resident_name"),
                phone=said.phone or (profile.phone if profile else None) or known.get("phone"),
                address=said.address or (profile.address if profile else None) or known.get("address"),
            )
            if case is not None:  # another problem while a ticket is being filled: keep both
                draft = replace(case.draft, description=f"{case.draft.description}；{draft.description}")
                draft = draft.merge_text(text, is_problem=False)
            return draft
        assert case is not None
        asked = case.draft.missing(self.rules.fields.fields)
        draft = case.draft
        if kind is TurnKind.CORRECTION:  # "不是5楼，是6楼": what the correction gives replaces what was there
            fixed = self.turns.corrected(text, draft)
            draft = replace(draft, resident_name=fixed.get("resident_name", draft.resident_name),
                            phone=fixed.get("phone", draft.phone), address=fixed.get("address", draft.address))
        draft = draft.merge_text(text, is_problem=False, expecting=asked[0] if asked else None)
        if not draft.description and len(re.sub(r"\W", "", text)) >= 6 and not any(
                (parse_phone(text), parse_address(text))):
            draft = case.draft.merge_text(text, is_problem=True)
        return draft

    def report(self, text: str, triage: Triage, decision: Decision, draft: TicketDraft, related: tuple[str, ...],
               state: ConversationState, submit: Submit | None, kind: TurnKind) -> Reply:
        """A problem report: open (or extend) the case, say what happens next, ask for what is missing."""
        urgency = decision.urgency
        category, department, route = triage.category, triage.department, triage.route
        if state.case is not None and state.case.urgency <= urgency:
            urgency = state.case.urgency
            category, department, route = state.case.category, state.case.department, state.case.route
        case = Case(
            draft=draft,
            category=category,
            urgency=urgency,
            department=department,
            route=route,
            escalate=decision.escalate or (state.case.escalate if state.case else False),
            kinds=tuple(k.value for k in decision.kinds),
            reasons=tuple(r.detail for r in (*triage.reasons, *decision.reasons)),
            notify=decision.notify,
            issue=self.summary(triage, draft),
        )
        intent = Intent.EMERGENCY if urgency == Urgency.LEVEL_1 else Intent.REPORT
        lines = [self._opening(case, triage, decision)]
        # The opening (with any emergency script) is final before retrieval runs; the KB guidance that
        # follows only adds to it, so a level-1 reply never depends on retrieval succeeding.
        retrieval, answer = self.answering.guidance(text, state)
        if answer is not None:  # the KB's guidance for this problem (phone numbers, what not to do)
            lines.append(self.turn_replies.text("guidance", what=answer.text))
        agent = AgentState.WAITING if urgency == Urgency.LEVEL_1 and state.agent is AgentState.NONE else state.agent
        return self._continue_case(lines, intent, triage, decision, replace(state, case=case, agent=agent), related,
                                   submit, answer=answer, retrieval=retrieval, kind=kind)

    def fill(self, triage: Triage, fresh: Decision, draft: TicketDraft, related: tuple[str, ...],
             state: ConversationState, case: Case, submit: Submit | None, kind: TurnKind) -> Reply:
        """A later turn of an open case: fields, corrections, or facts that change it (a vulnerable resident…)."""
        known = set(case.kinds)
        added = [k for k in fresh.kinds if k.value not in known and k is not TriggerKind.EMERGENCY]
        lines: list[str] = []
        if added:  # something said later changes the case: a vulnerable resident, a repeat, a hand-off request
            urgency = case.urgency
            for trigger in self.rules.escalation.triggers:
                if trigger.kind in added and trigger.upgrade_levels:
                    urgency = Urgency(max(1, urgency - trigger.upgrade_levels))
            category, department, route = case.category, case.department, case.route
            route_to = next((t.route_to for t in self.rules.escalation.triggers
                             if t.kind in added and t.route_to is not None), None)
            if route_to is not None and urgency != Urgency.LEVEL_1:
                rule = next(c for c in self.rules.routing.categories if c.category == route_to)
                category, department, route = rule.category, rule.department, None
            case = replace(case, urgency=urgency, category=category, department=department, route=route,
                           escalate=case.escalate or fresh.escalate,
                           kinds=case.kinds + tuple(k.value for k in added),
                           reasons=case.reasons + tuple(r.detail for r in fresh.reasons),
                           notify=tuple(dict.fromkeys(case.notify + fresh.notify)))
            lines.append(self._opening(case, triage, fresh))
        if kind is TurnKind.CORRECTION:
            changed = {k: v for k, v in asdict(draft).items() if k != "details" and v != getattr(case.draft, k)}
            labels = {f.name: f.label for f in self.rules.fields.fields}
            what = "、".join(f"{labels.get(k, k)}{v}" for k, v in changed.items() if k in labels)
            if what:
                lines.append(self.turn_replies.text("corrected", what=what))
        decision = replace(fresh, urgency=case.urgency, escalate=case.escalate)
        new_case = replace(case, draft=draft)
        intent = Intent.EMERGENCY if case.urgency == Urgency.LEVEL_1 else Intent.REPORT
        return self._continue_case(lines, intent, triage, decision, replace(state, case=new_case), related, submit,
                                   kind=kind)

    def _continue_case(self, lines: list[str], intent: Intent, triage: Triage, decision: Decision,
                       state: ConversationState, related: tuple[str, ...], submit: Submit | None, *,
                       answer: Answer | None = None, retrieval: Retrieval | None = None,
                       kind: TurnKind | None = None) -> Reply:
        case = state.case
        assert case is not None
        missing = case.draft.missing(self.rules.fields.fields)
        if missing:
            lines.append(self._fields[missing[0]].question)
            return make_reply("\n".join(lines), intent, triage, decision, answer, retrieval, state, missing=missing,
                               related=related, kind=kind)
        now = self.clock()
        kinds = [TriggerKind(k) for k in case.kinds]
        deadlines = tuple(deadlines_for(self.rules, urgency=case.urgency, category=case.category, kinds=kinds,
                                        created_at=now))
        routing = next(c for c in self.rules.routing.categories if c.category == case.category)
        description = case.draft.description or ""
        attachments = tuple(routing.required_attachments) + tuple(
            routing.device_attachments if any(d in description for d in routing.device_cues) else ())
        request = TicketRequest(
            draft=case.draft, category=case.category, urgency=case.urgency, department=case.department,
            route=case.route, escalate=case.escalate, kinds=case.kinds, reasons=case.reasons, notify=case.notify,
            deadlines=deadlines, required_attachments=attachments, related=related,
        )
        number = submit(request) if submit else None
        lines.append(self._commitment(case, deadlines, number))
        if attachments and case.urgency != Urgency.LEVEL_1:
            lines.append(self.turn_replies.text("attachments", what="、".join(attachments)))
        filed = {k: v for k, v in (("resident_name", case.draft.resident_name), ("phone", case.draft.phone),
                                    ("address", case.draft.address)) if v}
        new_state = replace(state, case=None, ticket_number=number, ticket_urgency=int(case.urgency),
                            ticket_category=case.category.value, known={**state.known, **filed})
        return make_reply("\n".join(lines), intent, triage, decision, answer, retrieval, new_state, ticket=number,
                           deadlines=deadlines, related=related, kind=kind)

    def _opening(self, case: Case, triage: Triage, decision: Decision) -> str:
        lines: list[str] = []
        values = self._values(case)
        situation = triage.issues[0] if triage.issues else None
        cues = " ".join((*situation.level_cues, triage.normalized)) if situation is not None else ""
        # the same selection rules as the agent's suggestions (the scripts' ``when`` in kb/): e.g. an emergency
        # script only for a hazard one of its tags names, never the burst-pipe advice for a lift or a gas leak
        kinds = frozenset(TriggerKind(k) for k in case.kinds) | frozenset(decision.kinds)
        ctx = ScriptContext(kinds=kinds, complaint=case.category is Category.COMPLAINT or bool(
                                kinds & {TriggerKind.SERVICE_COMPLAINT, TriggerKind.SAFETY_COMPLAINT}),
                            escalated=case.escalate, safety=case.urgency == Urgency.LEVEL_1 or bool(
                                kinds & {TriggerKind.EMERGENCY, TriggerKind.SAFETY_COMPLAINT}),
                            hazard_text=cues)
        if case.urgency == Urgency.LEVEL_1 and situation is not None and situation.urgency == Urgency.LEVEL_1:
            script = pick(self.kb.scripts, ScriptScenario.EMERGENCY, text=cues, context=ctx)
            if script is not None:
                lines.append(render(script, values))
            lines.append(self.turn_replies.text("emergency_notice"))
        elif case.urgency == Urgency.LEVEL_1:
            lines.append(self.turn_replies.text("level1_ack", department=case.department,
                                                sla_text=sla_text(self.rules, case.urgency)))
        else:
            level = next(lv for lv in self.rules.urgency.levels if lv.level == case.urgency)
            lines.append(self.turn_replies.text("report_ack", category=case.category.value, level_name=level.name,
                                                level_label=level.label, department=case.department,
                                                sla_text=sla_text(self.rules, case.urgency)))
        if TriggerKind.VULNERABLE in decision.kinds:
            lines.append(self.turn_replies.text("vulnerable_note"))
        if TriggerKind.REPEAT in decision.kinds:
            s = pick(self.kb.scripts, ScriptScenario.SOOTHING, text="多次 重复 好几次 反映", context=ctx)
            lines.append(render(s, values) if s else self.turn_replies.text("repeat_note"))
        elif TriggerKind.SERVICE_COMPLAINT in decision.kinds and case.urgency != Urgency.LEVEL_1:
            s = pick(self.kb.scripts, ScriptScenario.SOOTHING, category=Category.COMPLAINT, text="态度 服务",
                     context=ctx)
            lines.append(render(s, values) if s else self.turn_replies.text("service_note"))
        if TriggerKind.SAFETY_COMPLAINT in decision.kinds and case.urgency != Urgency.LEVEL_1:
            lines.append(self.turn_replies.text("safety_note"))
        return "\n".join(lines)

    def _commitment(self, case: Case, deadlines: tuple[Deadline, ...], number: str | None) -> str:
        values = self._values(case)
        level_deadline = next(d for d in deadlines if d.key.startswith("level"))
        due = level_deadline
        contact = min((d for d in deadlines if d.key.startswith("complaint")), key=lambda d: d.due, default=None)
        if contact is not None and case.category is Category.COMPLAINT:
            # a complaint commits first to the supervisor's call (POL-COMPLAINT-001#1), as the agent's scripts do
            due = contact
            values["contact_sla"] = contact_words(contact.minutes)
        values.update(ticket_no=number or "（未保存）", deadline=f"{due.due.astimezone():%m月%d日 %H:%M}")
        script = pick(self.kb.scripts, ScriptScenario.COMMIT_TIME, category=case.category, urgency=case.urgency)
        return render(script, values) if script else (
            f"工单{number}已提交，承诺{sla_text(self.rules, case.urgency)}。")

    def _values(self, case: Case) -> dict[str, str]:
        d = case.draft
        return {**self._company, "resident_name": d.resident_name or "", "address": d.address or "",
                "phone": d.phone or "", "issue": case.issue, "department": case.department,
                "sla_text": sla_text(self.rules, case.urgency)}

    def related(self, draft: TicketDraft, triage: Triage, history: History | None) -> tuple[str, ...]:
        """Earlier tickets of the same household about the same kind of problem (a repeat complaint)."""
        if history is None or not draft.address:
            return ()
        out = []
        for item in history(draft.address):
            old = self.triager.assess(item.description)
            same_kind = item.category == triage.category.value and (item.route or None) == (triage.route or None)
            shared = set(old.issues[0].category_cues if old.issues else ()) & set(
                triage.issues[0].category_cues if triage.issues else ())
            if same_kind and shared:
                out.append(item.number)
        return tuple(out)

    def summary(self, triage: Triage, draft: TicketDraft) -> str:
        """The problem in the company's words (place + the KB's name for it), never the resident's raw text."""
        return problem_summary(self.rules, triage, draft)

    def summary_of(self, description: str) -> str:
        """A stored ticket's problem in the company's words (for status replies)."""
        return summary_of(self.rules, self.triager, description)


def problem_summary(rules: Rules, triage: Triage, draft: TicketDraft) -> str:
    """The problem in the company's words (place + the KB's name for it), never the resident's raw text.

    Args:
        rules: The KB rules (``turns.summary_stopwords``: generic words a summary skips).
        triage: The message's triage (its KB cues name the problem).
        draft: The ticket draft (its 5W1H ``where``: the address and a room from the KB's list).
    """
    issue = triage.issues[0] if triage.issues else None
    # words that ask or urge (什么时候, 多少钱, 我要投诉) and category names do not name a problem
    generic = {*rules.turns.summary_stopwords, *rules.dictionary.generic, *rules.routing.question_cues,
               *(str(c.category) for c in rules.routing.categories)}
    cues = (issue.level_cues + tuple(sorted(issue.category_cues, key=len, reverse=True))) if issue else ()
    name = next((c.split("（")[0] for c in cues
                 if len(c) >= 2 and not c.startswith("相似") and c.split("（")[0] not in generic
                 and not any(g in c.split("（")[0] for g in ("什么", "多少", "怎么", "管不管", "要投诉"))), "")
    where = (draft.details or {}).get("where", "")
    if name and where.endswith(name):  # "3栋 电梯" + "电梯": the place already names it
        where = where[: -len(name)].strip()
    room = where.split()[-1] if where else ""
    if name and room and name.startswith(room):  # "5栋2单元 楼道" + "楼道灯坏了": say 楼道 once
        where = where[: -len(room)].strip()
    if name and where and where not in name:
        return f"{where}{name}问题" if not name.endswith("问题") else f"{where}{name}"
    if name:
        return name if name.endswith("问题") else f"{name}问题"
    category = str(issue.category if issue else triage.category).removesuffix("建议")
    return f"{where}的{category}问题" if where else f"{category}方面的问题"


def summary_of(rules: Rules, triager: Triager, description: str) -> str:
    """A stored ticket's problem in the company's words, from its description."""
    return problem_summary(rules, triager.assess(description), TicketDraft().merge_text(description, is_problem=True))
