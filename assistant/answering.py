"""Answering: a resident's question → the KB's answer with its citations, a follow-up read against the earlier
topic, a multi-part question answered part by part, or — when the KB does not cover it — a hand-off (or, off the
property's topic, a polite no). Never a database handle; never calls back into the service.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from assistant.community import Localizer
from assistant.compose import HANDOFF_TEXT, Answer, Citation, ExtractiveComposer, LLMComposer
from assistant.conversation import AgentState, ConversationState, Reply, make_reply
from assistant.escalation import Decision
from assistant.retrieve import HybridRetriever
from assistant.sla import sla_text
from assistant.triage import Intent, Triage
from assistant.turn import TurnClassifier, TurnKind
from assistant.turn_replies import TurnReplies
from assistant.types import Filters, Retrieval
from kb.load import KnowledgeBase
from kb.schema import Urgency

_QUESTION_SPLIT = re.compile(r"[？?]+")


class Answering:
    """Answers questions from the KB. Holds the retriever and the composer the service was built with."""

    def __init__(self, kb: KnowledgeBase, retriever: HybridRetriever, composer: ExtractiveComposer | LLMComposer,
                 turns: TurnClassifier, turn_replies: TurnReplies, clock: Callable[[], datetime]) -> None:
        self.kb = kb
        self.rules = kb.rules
        self.retriever = retriever
        self.composer = composer
        self.turns = turns
        self.turn_replies = turn_replies
        self.clock = clock
        self._fields = {f.name: f for f in kb.rules.fields.fields}
        routing = kb.rules.routing
        self._follow_up = re.compile("|".join(routing.follow_up_patterns)) if routing.follow_up_patterns else None
        self._deadline_cues = tuple(routing.deadline_question_cues)

    def run(self, text: str, triage: Triage, decision: Decision, state: ConversationState, *,
            community: str | None = None) -> Reply:
        """Answer a question from the KB (with citations), or say it is not covered and hand it to a person.

        With a ``community`` the KB's documents of other communities are left out and the answer carries that
        community's values (its fee rates, hours, phones), citing its document.
        """
        case = state.case
        if (case is not None or state.ticket_number) and any(c in triage.normalized for c in self._deadline_cues):
            return self._sla_answer(triage, decision, state)
        parts = [p for p in _QUESTION_SPLIT.split(text) if len(re.sub(r"\W", "", p)) >= 4]
        if 2 <= len(parts) <= 4 and all(len(p) <= 40 for p in parts):
            return self._multi_part(parts, text, triage, decision, state, community)
        retrieval = self.retrieve(text, state, community=community)
        answer = self._compose(retrieval, text, community)
        reply_text = answer.text
        if answer.handoff:
            return self._not_found(text, triage, decision, answer, retrieval, state)
        if case is not None:
            missing = case.draft.missing(self.rules.fields.fields)
            if missing:
                reply_text += "\n" + self._fields[missing[0]].question
        new_state = replace(state, last_question=retrieval.query if retrieval.found else state.last_question)
        return make_reply(reply_text, Intent.QUESTION, triage, decision, answer, retrieval, new_state)

    def retrieve(self, text: str, state: ConversationState, *, top_k: int | None = None,
                 community: str | None = None) -> Retrieval:
        """Retrieve for ``text`` (the company's documents and ``community``'s); a short follow-up ("那押金呢？") is
        read with the earlier topic."""
        filters = Filters(community=community, scoped=True)
        retrieval = self.retriever.run(text, top_k=top_k, filters=filters)
        short = len(re.sub(r"\W", "", text)) <= 12
        follow_up = self._follow_up is not None and self._follow_up.search(text.strip()) is not None
        if state.last_question and short and (follow_up or not retrieval.found):
            # "那押金呢？" after "装修要办什么手续": the current words plus the earlier topic, not the earlier question
            combined = self.retriever.run(f"{text} {self._topic(state.last_question)}", top_k=top_k, filters=filters)
            if combined.found:
                return combined
        return retrieval

    def _topic(self, question: str) -> str:
        """The content words of an earlier question (question words and procedure words dropped)."""
        segmenter = self.retriever.index.segmenter
        noise = set(self.rules.routing.question_cues) | set(self.rules.routing.procedure_cues)
        words = [w for w in segmenter(question) if w not in noise and len(w) >= 2]
        return " ".join(dict.fromkeys(words))

    def _compose(self, retrieval: Retrieval, question: str, community: str | None = None) -> Answer:
        localize = Localizer(self.kb, community)
        if isinstance(self.composer, LLMComposer):
            return self.composer.run(retrieval, question=question, localize=localize)
        return self.composer.run(retrieval, localize=localize)

    def _multi_part(self, parts: list[str], text: str, triage: Triage, decision: Decision,
                    state: ConversationState, community: str | None) -> Reply:
        answers: list[Answer] = []
        retrievals: list[Retrieval] = []
        for part in parts[:4]:
            r = self.retriever.run(part, filters=Filters(community=community, scoped=True))
            retrievals.append(r)
            answers.append(self._compose(r, part, community))
        found = [a for a in answers if not a.handoff]
        if not found or answers[0].handoff:
            # the later parts lean on the first (淘宝店的保证金能退吗？要多久退回来？): without it, none is answered
            answer = Answer(HANDOFF_TEXT, (), True, "extractive")
        else:
            lines = []
            for i, (part, a) in enumerate(zip(parts, answers, strict=False), 1):
                body = a.text if not a.handoff else "这个问题知识库里没有明确规定，我已请人工客服稍后答复您。"
                lines.append(f"{i}. {part.strip()}？\n{body}")
            cites = tuple(dict.fromkeys(c for a in found for c in a.citations))
            answer = Answer("\n".join(lines), cites, False, found[0].composer)
        best = max(retrievals, key=lambda r: r.best_dense)
        return make_reply(answer.text, Intent.QUESTION, triage, decision, answer, best,
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
        return make_reply(answer.text, Intent.QUESTION, triage, decision, answer, None, state)

    def _not_found(self, text: str, triage: Triage, decision: Decision, answer: Answer, retrieval: Retrieval,
                   state: ConversationState) -> Reply:
        """The KB does not cover the question: a person answers it, or, off the property's topic, a polite no."""
        if not triage.issues and not self.turns.about_property(text):
            body = self.turn_replies.text("out_of_scope")
            return make_reply(body, Intent.QUESTION, triage, decision, answer, retrieval, state,
                               kind=TurnKind.CHITCHAT)
        if self.turn_replies.agents_on_duty(self.clock()):
            body, agent = self.turn_replies.text("not_found"), AgentState.WAITING
        else:
            body = self.turn_replies.text("not_found_off_hours", hours=self.turn_replies.hours,
                                          callback_time=self.turn_replies.callback)
            agent = AgentState.CALLBACK
        return make_reply(body, Intent.QUESTION, triage, decision, answer, retrieval, replace(state, agent=agent))

    def guidance(self, text: str, state: ConversationState) -> tuple[Retrieval | None, Answer | None]:
        """The KB entry that covers a reported problem, if any (never a hand-off text)."""
        try:
            retrieval = self.retrieve(text, state)
        except Exception:  # noqa: BLE001 - guidance is optional; the report is handled without it
            return None, None
        if not retrieval.found:
            return retrieval, None
        return retrieval, self._compose(retrieval, text)

