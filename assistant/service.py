"""AssistantService.handle: one resident message → triage, answer, ticket or hand-off. Readable top to bottom.

The service holds no database handle: the caller passes the conversation state and the household's
ticket history in, and a ``submit`` callback that stores a complete ticket and returns its number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from assistant.answering import Answering
from assistant.compose import ExtractiveComposer, LLMComposer
from assistant.conversation import (
    AgentState,
    Amend,
    Case,
    ConversationState,
    History,
    HistoryItem,
    Rate,
    Reply,
    Submit,
    TicketRequest,
    Tickets,
    TicketView,
    make_reply,
)
from assistant.escalation import Decision, decide
from assistant.intake import Intake
from assistant.precedents import Precedents, load_precedents
from assistant.retrieve import HybridRetriever
from assistant.settings import AssistantSettings
from assistant.tickets import TicketDraft
from assistant.triage import Intent, LevelExamples, Triage, Triager
from assistant.turn import TurnClassifier, TurnContext, TurnKind
from assistant.turn_replies import TurnReplies
from assistant.types import ResidentProfile
from ingest.settings import IngestSettings
from kb.load import KnowledgeBase
from kb.schema import TriggerKind, Urgency

# the conversation's types are re-exported: callers (the desk, the API, the eval) import them from here
__all__ = ["AgentState", "AssistantService", "Case", "ConversationState", "HistoryItem", "Reply", "TicketRequest",
           "TicketView"]


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
        self.composer = composer or ExtractiveComposer(retriever)
        self.clock = clock
        self._fields = {f.name: f for f in kb.rules.fields.fields}
        self.answering = Answering(kb, retriever, self.composer, self.turns, self.turn_replies, clock)
        self.intake = Intake(kb, self.triager, self.answering, self.turns, self.turn_replies, clock)

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
        from ingest.embed import build_embedder
        from kb.load import load_kb

        kb = load_kb(ingest.kb_root)
        embedder = build_embedder(ingest)
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
        rate: Rate | None = None,
    ) -> Reply:
        """Handle one resident message.

        1. triage (always first; a level-1 message never waits on retrieval or on anything else),
        2. what the turn is (kb/rules/turns.yaml): small talk, a field reply, a correction, a status query,
           a request for a person, a report, or a question,
        3. a report fills the ticket draft and asks for what is missing, one field at a time; a complete draft
           is submitted through ``submit`` and the reply commits its deadline; a question is answered from the
           KB, or handed to a person when the KB does not cover it; a score after a resolution update is
           recorded through ``rate``.
        """
        reply = self._turn(text, state or ConversationState(), profile, history, submit, tickets, amend, rate)
        return replace(reply, prior_agent=state.agent if state else AgentState.NONE)

    def _turn(self, text: str, state: ConversationState, profile: ResidentProfile | None, history: History | None,
              submit: Submit | None, tickets: Tickets | None, amend: Amend | None, rate: Rate | None) -> Reply:
        triage = self.triager.assess(text)
        case = state.case
        missing = case.draft.missing(self.rules.fields.fields) if case else ()
        if self.turns.small_talk(text) is not None:  # pleasantries only ("有人吗？？？") are never a report
            triage = replace(triage, intent=Intent.QUESTION, urgency=Urgency.LEVEL_4, issues=())
        reading = self.turns.classify(text, triage, TurnContext(missing[0] if missing else None, case is not None,
                                                                state.ticket_number, bool(state.known),
                                                                state.rating_ticket is not None))
        kind = reading.kind
        report = kind in (TurnKind.EMERGENCY, TurnKind.REPORT, TurnKind.COMPLAINT) or bool(
            triage.signals.get(TriggerKind.SAFETY_COMPLAINT))
        fill = not report and case is not None and (kind in (TurnKind.SLOT, TurnKind.CORRECTION) or (
            kind is TurnKind.QUESTION and bool(reading.fields or triage.signals or not triage.asks)))
        draft = self.intake.draft(text, state, profile, report=report, kind=kind) if report or fill else None
        related = self.intake.related(draft, triage, history) if draft is not None else ()
        decision = decide(triage, self.rules, profile=profile, repeat_in_history=bool(related))  # once per turn
        if state.agent is AgentState.JOINED and kind is not TurnKind.EMERGENCY:
            # an agent holds the conversation: the assistant stays silent, the agent sees the message
            return self._say("", triage, decision, state, kind)
        if kind is TurnKind.RATING and reading.score is not None and state.rating_ticket:
            return self._rated(state.rating_ticket, reading.score, triage, decision, state, rate)
        if draft is not None and report:
            return self.intake.report(text, triage, decision, draft, related, state, submit, kind)
        if draft is not None and case is not None:
            return self.intake.fill(triage, decision, draft, related, state, case, submit, kind)
        if kind in (TurnKind.SLOT, TurnKind.CORRECTION):
            fields = reading.fields
            if kind is TurnKind.CORRECTION:
                known = TicketDraft(resident_name=state.known.get("resident_name"), phone=state.known.get("phone"),
                                    address=state.known.get("address"))
                fields = {**fields, **self.turns.corrected(text, known)}
            if state.ticket_number and amend is not None and fields:
                amend(state.ticket_number, fields)  # the filed ticket follows a correction or a visit time
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
                                    self.turn_replies.text("just_filed"))]
            body = self.turn_replies.status(views, self.clock())
            return self._say(body, triage, decision, state, kind)
        if kind.small_talk:
            return self._say(self._small_talk(kind, state), triage, decision, state, kind)
        return self.answering.run(text, triage, decision, state, community=profile.community if profile else None)

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
        what = "、".join(f"{labels.get(k, k)}{v}" for k, v in fields.items() if k != "preferred_time") or "您的信息"
        if "preferred_time" in fields and state.ticket_number:  # the resident's own words stay on the ticket
            body = self.turn_replies.text("visit_time", ticket_no=state.ticket_number)
        else:
            body = self.turn_replies.text("corrected" if kind is TurnKind.CORRECTION else "slot_ack", what=what)
        return self._say(body, triage, decision, replace(state, known={**state.known, **fields}), kind)

    def _rated(self, number: str, score: int, triage: Triage, decision: Decision, state: ConversationState,
               rate: Rate | None) -> Reply:
        """The resident scored a resolved ticket: recorded, thanked; a low score is not closed and an agent calls."""
        if rate is not None:
            rate(number, score)
        use = "rating_thanks" if score >= self.turn_replies.satisfied_min else "rating_low"
        body = self.turn_replies.text(use, ticket_no=number, score=str(score))
        return self._say(body, triage, decision, replace(state, rating_ticket=None), TurnKind.RATING)

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

    def summary_of(self, description: str) -> str:
        """A stored ticket's problem in the company's words (for status replies)."""
        return self.intake.summary(self.triager.assess(description), TicketDraft().merge_text(description,
                                                                                                is_problem=True))

    def _say(self, text: str, triage: Triage, decision: Decision, state: ConversationState,
             kind: TurnKind) -> Reply:
        """A reply that is neither a KB answer nor a ticket step (small talk, status, a person, a field noted)."""
        return make_reply(text, Intent.QUESTION, triage, decision, None, None, state, kind=kind)

