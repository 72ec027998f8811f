"""AssistantService.handle: one resident message → triage, answer, ticket or hand-off. Readable top to bottom.

The service holds no database handle: the caller passes the conversation state and the household's
ticket history in, and a ``submit`` callback that stores a complete ticket and returns its number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from assistant.compose import HANDOFF_TEXT, Answer, Citation, ExtractiveComposer, LLMComposer
from assistant.conversation import (
    AgentState,
    Amend,
    Case,
    ConversationState,
    History,
    HistoryItem,
    Reply,
    Submit,
    TicketRequest,
    Tickets,
    TicketView,
)
from assistant.escalation import Decision, decide
from assistant.precedents import Precedents, load_precedents
from assistant.retrieve import HybridRetriever
from assistant.scripts import pick, render
from assistant.settings import AssistantSettings
from assistant.sla import Deadline, deadlines_for, sla_text
from assistant.tickets import TicketDraft, parse_address, parse_name, parse_phone
from assistant.triage import Intent, LevelExamples, Triage, Triager
from assistant.turn import TurnClassifier, TurnContext, TurnKind
from assistant.turn_replies import TurnReplies
from assistant.types import ResidentProfile, Retrieval
from ingest.settings import IngestSettings
from kb.load import KnowledgeBase
from kb.schema import Category, ScriptScenario, TriggerKind, Urgency

_QUESTION_SPLIT = re.compile(r"[？?]+")
_SENTENCES = re.compile(r"[^。！？!?\n]+[。！？!?]?")


class AssistantService:
    """The resident assistant. Cheap ``__init__``; ``warm_up()`` loads the model and index once."""

    def __init__(
        self,
        kb: KnowledgeBase,
        retriever: HybridRetriever,
        *,
        composer: ExtractiveComposer | LLMComposer | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        examples: LevelExamples | None = None,
        precedents: Precedents | None = None,
        shares: dict[str, float] | None = None,
    ) -> None:
        self.kb = kb
        self.rules = kb.rules
        self.retriever = retriever
        self._examples = examples
        self._precedents = precedents
        self.triager = Triager(kb.rules, examples=examples, precedents=precedents, **(shares or {}))
        self.turns = TurnClassifier(kb.rules.turns)
        self.turn_replies = TurnReplies(kb)
        self._extractive = ExtractiveComposer(retriever)
        self.composer = composer or self._extractive
        self.clock = clock
        self._fields = {f.name: f for f in kb.rules.fields.fields}
        routing = kb.rules.routing
        self._follow_up = re.compile("|".join(routing.follow_up_patterns)) if routing.follow_up_patterns else None
        self._deadline_cues = tuple(routing.deadline_question_cues)

    def warm_up(self) -> None:
        """Load the embedding model and the index (and embed the level examples)."""
        self.retriever.warm_up()
        if self._examples is not None:
            self._examples.warm_up()
        if self._precedents is not None:
            self._precedents.warm_up()

    @classmethod
    def from_settings(cls, ingest: IngestSettings, settings: AssistantSettings) -> AssistantService:
        """Build the service the product runs: the real KB, the configured model and index, the optional LLM."""
        from ingest.embed import SentenceTransformerEmbedder
        from kb.load import load_kb

        kb = load_kb(ingest.kb_root)
        embedder = SentenceTransformerEmbedder(ingest.embedding_model, query_prompt=ingest.query_prompt,
                                               passage_prompt=ingest.passage_prompt, batch_size=ingest.batch_size)
        retriever = HybridRetriever(settings.retrieval, embedder, ingest.index_dir)
        composer: ExtractiveComposer | LLMComposer = ExtractiveComposer(retriever)
        if settings.llm.base_url:
            from assistant.compose import make_chat_model

            model = make_chat_model(settings.llm.base_url, settings.llm.model,
                                    settings.llm.api_key.get_secret_value(), settings.llm.timeout)
            composer = LLMComposer(model, ExtractiveComposer(retriever))
        examples = None
        if settings.triage.similarity:
            examples = LevelExamples(kb.rules, embedder, floor=settings.triage.similarity_floor,
                                     margin=settings.triage.similarity_margin)
        precedents = None
        path = ingest.kb_root / "rules" / "precedents.jsonl"
        if settings.triage.precedents and path.is_file():
            precedents = Precedents(load_precedents(path), embedder, k=settings.triage.precedents_k)
        t = settings.triage
        shares = {"level1_share": t.level1_share, "category_share": t.category_share,
                  "urgency_share": t.urgency_share}
        return cls(kb, retriever, composer=composer, examples=examples, precedents=precedents, shares=shares)

    # ------------------------------------------------------------------ the flow

    def handle(
        self,
        text: str,
        *,
        state: ConversationState | None = None,
        profile: ResidentProfile | None = None,
        history: History | None = None,
        submit: Submit | None = None,
        tickets: Tickets | None = None,
        amend: Amend | None = None,
    ) -> Reply:
        """Handle one resident message.

        1. triage (always first; a level-1 message never waits on retrieval or on anything else),
        2. what the turn is (kb/rules/turns.yaml): small talk, a field reply, a correction, a status query,
           a request for a person, a report, or a question,
        3. a report fills the ticket draft and asks for what is missing, one field at a time; a complete draft
           is submitted through ``submit`` and the reply commits its deadline; a question is answered from the
           KB, or handed to a person when the KB does not cover it.
        """
        state = state or ConversationState()
        triage = self.triager.assess(text)
        case = state.case
        missing = case.draft.missing(self.rules.fields.fields) if case else ()
        if self.turns.small_talk(text) is not None:  # pleasantries only ("有人吗？？？") are never a report
            triage = replace(triage, intent=Intent.QUESTION, urgency=Urgency.LEVEL_4, issues=())
        reading = self.turns.classify(text, triage, TurnContext(missing[0] if missing else None, case is not None,
                                                                state.ticket_number))
        kind = reading.kind
        if state.agent is AgentState.JOINED and kind is not TurnKind.EMERGENCY:
            # an agent holds the conversation: the assistant stays silent, the agent sees the message
            return self._say("", triage, decide(triage, self.rules, profile=profile), state, kind)
        if kind in (TurnKind.EMERGENCY, TurnKind.REPORT, TurnKind.COMPLAINT) or triage.signals.get(
                TriggerKind.SAFETY_COMPLAINT):
            return self._report(text, triage, state, profile, history, submit, kind)
        if case is not None and (kind in (TurnKind.SLOT, TurnKind.CORRECTION) or (
                kind is TurnKind.QUESTION and (triage.signals or not triage.asks))):
            return self._fill_case(text, triage, state, case, profile, history, submit, kind)
        decision = decide(triage, self.rules, profile=profile)
        if kind in (TurnKind.SLOT, TurnKind.CORRECTION):
            fields = reading.fields
            if kind is TurnKind.CORRECTION:
                known = TicketDraft(**{k: v for k, v in state.known.items() if k in ("resident_name", "phone",
                                                                                       "address")})
                fields = {**fields, **self.turns.corrected(text, known)}
                if state.ticket_number and amend is not None and fields:
                    amend(state.ticket_number, fields)  # the filed ticket follows the correction
            return self._remember(fields, triage, decision, state, kind)
        if kind is TurnKind.PERSON:
            return self._person(triage, decision, state)
        if kind is TurnKind.STATUS and case is not None:  # the report is not filed yet: say what is missing
            pending = case.draft.missing(self.rules.fields.fields)
            body = self.turn_replies.text("status_pending", what=self._fields[pending[0]].label) + "\n" + (
                self._fields[pending[0]].question) if pending else self.turn_replies.text("status_none")
            return self._say(body, triage, decision, state, kind)
        if kind is TurnKind.STATUS:
            views = list(tickets()) if tickets else []
            if not views and state.ticket_number:  # no store at hand (CLI, eval): the ticket filed in this chat
                views = [TicketView(state.ticket_number, state.ticket_category or "", "submitted", "", None, None,
                                    "刚才登记的问题")]
            body = self.turn_replies.status(views, self.clock())
            return self._say(body, triage, decision, state, kind)
        if kind.small_talk:
            return self._say(self._small_talk(kind, state), triage, decision, state, kind)
        return self._question(text, triage, decision, state)

    def _small_talk(self, kind: TurnKind, state: ConversationState) -> str:
        if kind is TurnKind.CHITCHAT:
            body = self.turn_replies.text("out_of_scope")
        elif kind is TurnKind.GREETING:
            body = self.turn_replies.text("greeting")
        elif state.ticket_number:
            body = self.turn_replies.text("thanks_ticket", ticket_no=state.ticket_number)
        else:
            body = self.turn_replies.text("thanks")
        if state.case is not None:  # a ticket is half-filled: ask again for what is missing
            missing = state.case.draft.missing(self.rules.fields.fields)
            if missing:
                body = f"{body}\n{self._fields[missing[0]].question}" if kind is not TurnKind.GREETING else (
                    self._fields[missing[0]].question)
        return body

    def _remember(self, fields: dict[str, str], triage: Triage, decision: Decision, state: ConversationState,
                  kind: TurnKind) -> Reply:
        """A name, phone or address given outside a case: kept for the next ticket, and acknowledged."""
        labels = {f.name: f.label for f in self.rules.fields.fields}
        what = "、".join(f"{labels.get(k, k)}{v}" for k, v in fields.items()) or "您的信息"
        body = self.turn_replies.text("corrected" if kind is TurnKind.CORRECTION else "slot_ack", what=what)
        return self._say(body, triage, decision, replace(state, known={**state.known, **fields}), kind)

    def _person(self, triage: Triage, decision: Decision, state: ConversationState) -> Reply:
        """The resident asked for a person: wait for an agent, or book a callback outside the agents' hours."""
        if self.turn_replies.agents_on_duty(self.clock()):
            body, agent = self.turn_replies.text("agent_waiting"), AgentState.WAITING
        else:
            body = self.turn_replies.text("agent_off_hours", hours=self.turn_replies.hours,
                                          callback_time=self.turn_replies.callback)
            agent = AgentState.CALLBACK
        if state.case is not None:
            missing = state.case.draft.missing(self.rules.fields.fields)
            if missing:
                body += "\n" + self._fields[missing[0]].question
        return self._say(body, triage, decision, replace(state, agent=agent), TurnKind.PERSON)

    # ------------------------------------------------------------------ questions

    def _question(self, text: str, triage: Triage, decision: Decision, state: ConversationState) -> Reply:
        case = state.case
        if (case is not None or state.ticket_number) and any(c in triage.normalized for c in self._deadline_cues):
            return self._sla_answer(triage, decision, state)
        parts = [p for p in _QUESTION_SPLIT.split(text) if len(re.sub(r"\W", "", p)) >= 4]
        if 2 <= len(parts) <= 4 and all(len(p) <= 40 for p in parts):
            return self._multi_part(parts, text, triage, decision, state)
        retrieval = self._retrieve_with_context(text, state)
        answer = self._compose(retrieval, text)
        reply_text = answer.text
        if answer.handoff:
            return self._not_found(text, triage, decision, answer, retrieval, state)
        if case is not None:
            missing = case.draft.missing(self.rules.fields.fields)
            if missing:
                reply_text += "\n" + self._fields[missing[0]].question
        new_state = replace(state, last_question=retrieval.query if retrieval.found else state.last_question)
        return self._reply(reply_text, Intent.QUESTION, triage, decision, answer, retrieval, new_state)

    def _retrieve_with_context(self, text: str, state: ConversationState, *, top_k: int | None = None) -> Retrieval:
        retrieval = self.retriever.run(text, top_k=top_k)
        short = len(re.sub(r"\W", "", text)) <= 12
        follow_up = self._follow_up is not None and self._follow_up.search(text.strip()) is not None
        if state.last_question and short and (follow_up or not retrieval.found):
            # "那押金呢？" after "装修要办什么手续": the current words plus the earlier topic, not the earlier question
            combined = self.retriever.run(f"{text} {self._topic(state.last_question)}", top_k=top_k)
            if combined.found:
                return combined
        return retrieval

    def _topic(self, question: str) -> str:
        """The content words of an earlier question (question words and procedure words dropped)."""
        segmenter = self.retriever.index.segmenter
        noise = set(self.rules.routing.question_cues) | set(self.rules.routing.procedure_cues)
        words = [w for w in segmenter(question) if w not in noise and len(w) >= 2]
        return " ".join(dict.fromkeys(words))

    def _compose(self, retrieval: Retrieval, question: str) -> Answer:
        if isinstance(self.composer, LLMComposer):
            return self.composer.run(retrieval, question=question)
        return self.composer.run(retrieval)

    def _multi_part(self, parts: list[str], text: str, triage: Triage, decision: Decision,
                    state: ConversationState) -> Reply:
        answers: list[Answer] = []
        retrievals: list[Retrieval] = []
        for part in parts[:4]:
            r = self.retriever.run(part)
            retrievals.append(r)
            answers.append(self._compose(r, part))
        found = [a for a in answers if not a.handoff]
        if not found:
            answer = Answer(HANDOFF_TEXT, (), True, "extractive")
        else:
            lines = []
            for i, (part, a) in enumerate(zip(parts, answers, strict=False), 1):
                body = a.text if not a.handoff else "这个问题知识库里没有明确规定，我已请人工客服稍后答复您。"
                lines.append(f"{i}. {part.strip()}？\n{body}")
            cites = tuple(dict.fromkeys(c for a in found for c in a.citations))
            answer = Answer("\n".join(lines), cites, False, found[0].composer)
        best = max(retrievals, key=lambda r: r.best_dense)
        return self._reply(answer.text, Intent.QUESTION, triage, decision, answer, best,
                           replace(state, last_question=parts[-1]))

    def _sla_answer(self, triage: Triage, decision: Decision, state: ConversationState) -> Reply:
        urgency = Urgency(state.case.urgency if state.case else (state.ticket_urgency or 4))
        level = next(lv for lv in self.rules.urgency.levels if lv.level == urgency)
        subject = f"工单{state.ticket_number}" if state.ticket_number else "您反映的问题"
        text = (f"{subject}属于{level.name}（{level.label}），按公司规定{sla_text(self.rules, urgency)}。"
                f"超过时限未处理，系统会自动预警并由客服主管督办。")
        clause = self.kb.clause_index().get(level.basis[0])
        cites = (Citation(level.basis[0].split("#")[0], clause.heading_path[0] if clause else level.name,
                          level.basis[0].split("#")[1], 1.0, level.basis[0]),)
        answer = Answer(text, cites, False, "sla")
        return self._reply(answer.text, Intent.QUESTION, triage, decision, answer, None, state)

    def _not_found(self, text: str, triage: Triage, decision: Decision, answer: Answer, retrieval: Retrieval,
                   state: ConversationState) -> Reply:
        """The KB does not cover the question: a person answers it, or, off the property's topic, a polite no."""
        if not triage.issues and not self.turns.about_property(text):
            body = self.turn_replies.text("out_of_scope")
            return self._reply(body, Intent.QUESTION, triage, decision, answer, retrieval, state,
                               kind=TurnKind.CHITCHAT)
        if self.turn_replies.agents_on_duty(self.clock()):
            body, agent = self.turn_replies.text("not_found"), AgentState.WAITING
        else:
            body = self.turn_replies.text("not_found_off_hours", hours=self.turn_replies.hours,
                                          callback_time=self.turn_replies.callback)
            agent = AgentState.CALLBACK
        return self._reply(body, Intent.QUESTION, triage, decision, answer, retrieval, replace(state, agent=agent))

    # ------------------------------------------------------------------ reports and tickets

    def _report(self, text: str, triage: Triage, state: ConversationState, profile: ResidentProfile | None,
                history: History | None, submit: Submit | None, kind: TurnKind) -> Reply:
        known = state.known
        draft = TicketDraft(
            resident_name=(profile.name if profile else None) or known.get("resident_name"),
            phone=(profile.phone if profile else None) or known.get("phone"),
            address=(profile.address if profile else None) or known.get("address"),
        ).merge_text(text, is_problem=True)
        if state.case is not None:  # another problem while a ticket is being filled: keep both
            draft = replace(state.case.draft, description=f"{state.case.draft.description}；{draft.description}")
            draft = draft.merge_text(text, is_problem=False)
        related = self._related(draft, triage, history)
        decision = decide(triage, self.rules, profile=profile, repeat_in_history=bool(related))
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
            issue=self._summary(triage, draft),
        )
        intent = Intent.EMERGENCY if urgency == Urgency.LEVEL_1 else Intent.REPORT
        lines = [self._opening(case, triage, decision)]
        # The opening (with any emergency script) is final before retrieval runs; the KB guidance that
        # follows only adds to it, so a level-1 reply never depends on retrieval succeeding.
        retrieval, answer = self._guidance(text, state)
        if answer is not None:  # the KB's guidance for this problem (phone numbers, what not to do)
            lines.append("温馨提示：" + answer.text)
        agent = AgentState.WAITING if urgency == Urgency.LEVEL_1 and state.agent is AgentState.NONE else state.agent
        return self._continue_case(lines, intent, triage, decision, replace(state, case=case, agent=agent), related,
                                   submit, answer=answer, retrieval=retrieval, kind=kind)

    def _guidance(self, text: str, state: ConversationState) -> tuple[Retrieval | None, Answer | None]:
        """The KB entry that covers a reported problem, if any (never a hand-off text)."""
        try:
            retrieval = self._retrieve_with_context(text, state)
        except Exception:  # noqa: BLE001 - guidance is optional; the report is handled without it
            return None, None
        if not retrieval.found:
            return retrieval, None
        return retrieval, self._compose(retrieval, text)

    def _fill_case(self, text: str, triage: Triage, state: ConversationState, case: Case,
                   profile: ResidentProfile | None, history: History | None, submit: Submit | None,
                   kind: TurnKind) -> Reply:
        asked = case.draft.missing(self.rules.fields.fields)
        draft = case.draft
        if kind is TurnKind.CORRECTION:  # "不是5楼，是6楼": what the correction gives replaces what was there
            draft = replace(draft, **self.turns.corrected(text, draft))
        draft = draft.merge_text(text, is_problem=False, expecting=asked[0] if asked else None)
        if not draft.description and len(re.sub(r"\W", "", text)) >= 6 and not any(
                (parse_phone(text), parse_address(text))):
            draft = case.draft.merge_text(text, is_problem=True)
        related = self._related(draft, triage, history)
        fresh = decide(triage, self.rules, profile=profile, repeat_in_history=bool(related))
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
            return self._reply("\n".join(lines), intent, triage, decision, answer, retrieval, state, missing=missing,
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
            lines.append(f"为便于维修，方便的话请补充：{'、'.join(attachments)}（可直接发送照片）。")
        filed = {k: v for k, v in (("resident_name", case.draft.resident_name), ("phone", case.draft.phone),
                                    ("address", case.draft.address)) if v}
        new_state = replace(state, case=None, ticket_number=number, ticket_urgency=int(case.urgency),
                            ticket_category=case.category.value, known={**state.known, **filed})
        return self._reply("\n".join(lines), intent, triage, decision, answer, retrieval, new_state, ticket=number,
                           deadlines=deadlines, related=related, kind=kind)

    def _opening(self, case: Case, triage: Triage, decision: Decision) -> str:
        lines: list[str] = []
        values = self._values(case)
        situation = triage.issues[0] if triage.issues else None
        if case.urgency == Urgency.LEVEL_1 and situation is not None and situation.urgency == Urgency.LEVEL_1:
            cues = " ".join((*situation.level_cues, triage.normalized))
            script = pick(self.kb.scripts, ScriptScenario.EMERGENCY, text=cues)
            # only a script written for this hazard (one of its tags is in the message): never the burst-pipe
            # advice for a lift or a gas leak
            if script is not None and any(t and t.lower() in cues for t in script.tags):
                lines.append(render(script, values))
            lines.append("【紧急】已同时通知值班人员和管理层，人工客服会马上与您联系。")
        elif case.urgency == Urgency.LEVEL_1:
            lines.append(f"已收到您反映的问题，已按一级（最高优先级）处理，由{case.department}负责，"
                         f"{sla_text(self.rules, case.urgency)}，并已通知值班负责人。")
        else:
            level = next(lv for lv in self.rules.urgency.levels if lv.level == case.urgency)
            lines.append(f"已收到您反映的问题，归类为{case.category}（{level.name}·{level.label}），"
                         f"由{case.department}处理，我们承诺{sla_text(self.rules, case.urgency)}。")
        if TriggerKind.VULNERABLE in decision.kinds:
            lines.append("考虑到家里的实际情况，已为您提升处理优先级，并安排专属管家一对一跟进。")
        if TriggerKind.REPEAT in decision.kinds:
            s = pick(self.kb.scripts, ScriptScenario.SOOTHING, text="多次 重复 好几次 反映")
            lines.append(render(s, values) if s else "这个问题已升级到客服主管专人督办。")
        elif TriggerKind.SERVICE_COMPLAINT in decision.kinds and case.urgency != Urgency.LEVEL_1:
            s = pick(self.kb.scripts, ScriptScenario.SOOTHING, category=Category.COMPLAINT, text="态度 服务")
            lines.append(render(s, values) if s else "非常抱歉给您带来不好的体验，客服主管会在12小时内联系您。")
        if TriggerKind.SAFETY_COMPLAINT in decision.kinds and case.urgency != Urgency.LEVEL_1:
            lines.append("这关系到住户安全，我们已立即介入并上报管理层。")
        return "\n".join(lines)

    def _commitment(self, case: Case, deadlines: tuple[Deadline, ...], number: str | None) -> str:
        values = self._values(case)
        level_deadline = next(d for d in deadlines if d.key.startswith("level"))
        values.update(ticket_no=number or "（未保存）", deadline=f"{level_deadline.due.astimezone():%m月%d日 %H:%M}")
        script = pick(self.kb.scripts, ScriptScenario.COMMIT_TIME, category=case.category, urgency=case.urgency)
        return render(script, values) if script else (
            f"工单{number}已提交，承诺{sla_text(self.rules, case.urgency)}。")

    def _values(self, case: Case) -> dict[str, str]:
        d = case.draft
        return {"resident_name": d.resident_name or "", "address": d.address or "", "phone": d.phone or "",
                "issue": case.issue, "department": case.department, "sla_text": sla_text(self.rules, case.urgency)}

    def _related(self, draft: TicketDraft, triage: Triage, history: History | None) -> tuple[str, ...]:
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

    def _summary(self, triage: Triage, draft: TicketDraft) -> str:
        """The problem in the company's words (place + the KB's name for it), never the resident's raw text."""
        issue = triage.issues[0] if triage.issues else None
        generic = set(self.rules.turns.summary_stopwords)
        cues = (issue.level_cues + tuple(sorted(issue.category_cues, key=len, reverse=True))) if issue else ()
        name = next((c.split("（")[0] for c in cues
                     if len(c) >= 2 and not c.startswith("相似") and c.split("（")[0] not in generic), "")
        where = (draft.details or {}).get("where", "")
        if name and where and where not in name:
            return f"{where}{name}问题" if not name.endswith("问题") else f"{where}{name}"
        if name:
            return name if name.endswith("问题") else f"{name}问题"
        category = issue.category if issue else triage.category
        return f"{where}的{category}问题" if where else f"{category}方面的问题"

    def summary_of(self, description: str) -> str:
        """A stored ticket's problem in the company's words (for status replies)."""
        return self._summary(self.triager.assess(description), TicketDraft().merge_text(description, is_problem=True))

    def _say(self, text: str, triage: Triage, decision: Decision, state: ConversationState,
             kind: TurnKind) -> Reply:
        """A reply that is neither a KB answer nor a ticket step (small talk, status, a person, a field noted)."""
        return self._reply(text, Intent.QUESTION, triage, decision, None, None, state, kind=kind)

    def _reply(self, text: str, intent: Intent, triage: Triage, decision: Decision, answer: Answer | None,
               retrieval: Retrieval | None, state: ConversationState, *, missing: tuple[str, ...] = (),
               ticket: str | None = None, deadlines: tuple[Deadline, ...] = (),
               related: tuple[str, ...] = (), kind: TurnKind | None = None) -> Reply:
        if kind is None:
            kind = {Intent.EMERGENCY: TurnKind.EMERGENCY, Intent.QUESTION: TurnKind.QUESTION}.get(
                intent, TurnKind.COMPLAINT if triage.category is Category.COMPLAINT else TurnKind.REPORT)
        return Reply(text=text, intent=intent, triage=triage, decision=decision, answer=answer, retrieval=retrieval,
                     missing=missing, ticket_number=ticket, deadlines=deadlines, state=state, related=related,
                     citations=answer.citations if answer else (), kind=kind)

