"""Pydantic models for every knowledge-base file: articles, FAQ, scripts, values and triage rules.

Every model forbids unknown keys, so a misspelled field in a KB file fails loudly
with the file and the field named (see ``kb.load``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import IntEnum, StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

ID_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
CLAUSE_REF_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+#\d+(\.\d+)*$"
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

EntryId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ClauseRef = Annotated[str, StringConstraints(pattern=CLAUSE_REF_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArticleType(StrEnum):
    """Kinds of long-form KB documents."""

    POLICY = "policy"
    SOP = "sop"
    EMERGENCY_PLAN = "emergency_plan"
    REGULATION = "regulation"


class Category(StrEnum):
    """Ticket categories (seed 1.2 专业领域标签化, extended with 费用 and 咨询建议)."""

    ENGINEERING = "工程"
    CLEANING = "保洁"
    SECURITY = "安保"
    COMPLAINT = "投诉"
    FEE = "费用"
    ENQUIRY = "咨询建议"


class Urgency(IntEnum):
    """The four urgency levels of seed 1.2."""

    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3
    LEVEL_4 = 4


class Effective(_Strict):
    """Validity window shared by articles and FAQ entries."""

    effective_from: date
    effective_to: date | None = None

    @model_validator(mode="after")
    def _window_is_ordered(self) -> Effective:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} is before effective_from {self.effective_from}"
            )
        return self

    def is_effective(self, on: date) -> bool:
        """Return True when the entry applies on the given day."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


class ArticleMeta(Effective):
    """Front matter of a policy, SOP, emergency plan or regulation (Markdown file)."""

    id: EntryId
    title: Text
    type: ArticleType
    department: Text
    tags: list[Text] = Field(min_length=1)
    scope: Text = Field(description="Where the document applies, e.g. 示例物业全部在管项目")
    seed_refs: list[Text] = Field(default_factory=list, description="Seed sections it implements")
    level: Text | None = Field(None, description="Regulation tier: 国家/地方/行业标准/企业")
    note: Text | None = Field(None, description="Reviewer note, e.g. how a seed contradiction was resolved")


class Curated(_Strict):
    """Where a curated FAQ entry came from: an agent's correction an admin approved (the improvement loop)."""

    correction: int = Field(ge=1, description="The correction's id in the database")
    agent: Text = Field(description="Who wrote the answer")
    approved_by: Text
    approved_at: datetime


class FaqEntry(Effective):
    """One frequently asked question with its paraphrases and grounded answer.

    A curated entry (``curated`` set: an agent's answer an admin approved) is returned as written; it may have fewer
    than three paraphrases and no basis clause yet (``wuye kb lint`` warns), an authored entry may not.
    """

    id: EntryId
    curated: Curated | None = None  # before the fields whose rules depend on it (validators run in field order)
    question: Text
    paraphrases: list[Text] = Field(default_factory=list, validate_default=True)
    answer: Text
    basis: list[ClauseRef] = Field(default_factory=list, validate_default=True,
                                   description="Clauses the answer rests on")
    department: Text
    tags: list[Text] = Field(min_length=1)
    effective_from: date = date(2026, 1, 1)

    @field_validator("paraphrases")
    @classmethod
    def _enough_paraphrases(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("curated") is None and len(v) < 3:
            raise ValueError(f"an authored entry needs at least 3 colloquial paraphrases (got {len(v)})")
        return v

    @field_validator("basis")
    @classmethod
    def _has_basis(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("curated") is None and not v:
            raise ValueError("an authored entry needs at least 1 clause it rests on")
        return v


class FaqFile(_Strict):
    """A YAML file of FAQ entries."""

    entries: list[FaqEntry] = Field(min_length=1)


class ScriptScenario(StrEnum):
    """Situations a standard reply script (标准话术) is written for."""

    GREETING = "greeting"
    REPEAT = "repeat"
    COMMIT_TIME = "commit_time"
    APOLOGY = "apology"
    EMERGENCY = "emergency"
    SOOTHING = "soothing"
    FOLLOW_UP = "follow_up"
    CLOSING = "closing"
    HANDOFF = "handoff"
    DELAY = "delay"
    MISSING_INFO = "missing_info"
    NEXT_STEPS = "next_steps"
    GUIDANCE = "guidance"  # what the resident can do meanwhile for a problem that is not an emergency (接水、拍照)
    CHAT = "chat"


class TriggerKind(StrEnum):
    """Why a case goes to a human."""

    EMERGENCY = "emergency"
    SAFETY_COMPLAINT = "safety_complaint"
    VULNERABLE = "vulnerable"
    REPEAT = "repeat"
    SERVICE_COMPLAINT = "service_complaint"
    HANDOFF_REQUEST = "handoff_request"
    SLA = "sla"


class ScriptWhen(_Strict):
    """When a script fits a case: every condition that is set must hold (an empty ``when`` always fits).

    These are the selection rules of the agent's suggestions and of the chat replies that share scripts with
    them (assistant/scripts.py ``fits``): an apology for staff behaviour only for a service complaint, a safety
    script only with a safety element, an escalation line only when the case is escalated, a greeting only at
    the first contact.
    """

    kinds: list[TriggerKind] = Field(default_factory=list, description="At least one of these triggers fired")
    without_kinds: list[TriggerKind] = Field(default_factory=list, description="None of these triggers fired")
    complaint: bool | None = Field(None, description="The case is (not) a complaint (投诉 or a complaint trigger)")
    upset: bool | None = Field(None, description="The resident is (not) upset: a complaint, a repeat, vulnerable")
    escalated: bool | None = Field(None, description="The case is (not) escalated to a person / supervisor")
    safety: bool | None = Field(None, description="The case has (no) safety element: level 1 or a safety flag")
    first_contact: bool | None = Field(None, description="Nothing has been said to the resident about it yet")
    ticket: bool | None = Field(None, description="A ticket exists (False: the script asks what the problem is)")
    speaker: Literal["assistant", "agent"] | None = Field(None, description="Only the assistant / a person says it")
    hazard: bool = Field(False, description="One of the script's tags must name the case's hazard")


class ReplyScript(_Strict):
    """A standard reply with ``{placeholder}`` slots."""

    id: EntryId
    scenario: ScriptScenario
    title: Text
    text: Text
    placeholders: list[str] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list, description="Empty = any category")
    urgency: list[Urgency] = Field(default_factory=list, description="Empty = any level")
    basis: list[ClauseRef] = Field(min_length=1)
    tags: list[Text] = Field(default_factory=list)
    when: ScriptWhen = Field(default_factory=lambda: ScriptWhen(), description="When the script fits a case")

    @model_validator(mode="after")
    def _placeholders_match_text(self) -> ReplyScript:
        used = sorted(set(PLACEHOLDER.findall(self.text)))
        if used != sorted(set(self.placeholders)):
            raise ValueError(f"placeholders {sorted(self.placeholders)} do not match the text, which uses {used}")
        return self


class ScriptFile(_Strict):
    """A YAML file of standard reply scripts."""

    scripts: list[ReplyScript] = Field(min_length=1)


class SampleValue(_Strict):
    """A company-specific figure (fee rate, deposit, quiet hours): sample data, edited in one place."""

    value: str | int | float
    unit: str = ""
    description: Text


class ValuesFile(_Strict):
    """kb/content/values.yaml: every company-specific figure, referenced as ``{{key}}`` in KB text."""

    sample: bool = Field(description="True while the figures are illustrative sample values")
    values: dict[str, SampleValue]

    @field_validator("values")
    @classmethod
    def _keys_are_dotted_names(cls, v: dict[str, SampleValue]) -> dict[str, SampleValue]:
        for key in v:
            if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*", key):
                raise ValueError(f"value key {key!r} must be dotted lower_snake_case")
        return v


class ValueOverride(_Strict):
    """A community's own figure for a company value (``fee.rate_highrise`` …); the unit is the company's if unset."""

    value: str | int | float
    unit: str | None = None
    description: Text | None = None


class CommunityMeta(_Strict):
    """Front matter of a community's document (kb/content/communities/*.md): who it is and what differs.

    Every value not in ``values`` is the company's (kb/content/values/); the body's numbered clauses state the
    community's own figures and rules and are cited when an answer uses one of them.
    """

    id: EntryId
    name: Text = Field(description="The community's name (小区名), e.g. 绿荷苑")
    address: Text
    department: Text = "客服部"
    tags: list[Text] = Field(default_factory=list)
    effective_from: date = date(2026, 1, 1)
    values: dict[str, ValueOverride] = Field(default_factory=dict,
                                             description="Company values this community sets differently")


# ---------------------------------------------------------------- triage rules


class SlaKind(StrEnum):
    """What the deadline of an urgency level commits to."""

    ON_SITE = "on_site"
    RESOLVE = "resolve"
    HANDLE = "handle"
    FEEDBACK = "feedback"


class Combo(_Strict):
    """A co-occurrence rule: it matches when every group has one of its words in the same sentence."""

    name: Text
    all: list[list[Text]] = Field(min_length=2, description="Groups of alternatives; all groups must match")
    category: Category | None = Field(None, description="Category this situation belongs to, if it decides it")


class UrgencyLevel(_Strict):
    """One urgency level: its time limit and the cues that select it."""

    level: Urgency
    name: Text
    label: Text
    description: Text
    sla_minutes: int = Field(gt=0)
    sla_kind: SlaKind
    softeners: list[Text] = Field(default_factory=list,
                                  description="Slow or mild wordings: without a cue of this level, likeness "
                                              "alone does not select it (a drip is not a burst)")
    cues: list[Text] = Field(default_factory=list, description="Phrases that select this level")
    combos: list[Combo] = Field(default_factory=list, description="Co-occurrence rules that select this level")
    examples: list[Text] = Field(default_factory=list)
    basis: list[ClauseRef] = Field(min_length=1)


class Deadline(_Strict):
    """A named time limit that is not an urgency level (ack, callback, complaint contact)."""

    key: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]
    label: Text
    minutes: int = Field(ge=0)
    stops_at: Literal["submitted", "dispatched", "in_progress", "resolved", "callback_done"] = Field(
        "resolved", description="Ticket status that stops this clock")
    basis: list[ClauseRef] = Field(min_length=1)


class UrgencyRules(_Strict):
    """kb/rules/urgency.yaml."""

    levels: list[UrgencyLevel] = Field(min_length=4, max_length=4)
    deadlines: list[Deadline]
    sla_warning_share: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _one_of_each_level(self) -> UrgencyRules:
        if sorted(lv.level for lv in self.levels) != [1, 2, 3, 4]:
            raise ValueError("levels must define each of 1, 2, 3 and 4 exactly once")
        return self


class Route(_Strict):
    """A sub-area of a category and the department that handles it."""

    name: Text
    department: Text
    cues: list[Text] = Field(min_length=1)


class CategoryRule(_Strict):
    """A ticket category: cues, default department, sub-routes and required attachments."""

    category: Category
    department: Text
    cues: list[Text] = Field(min_length=1)
    routes: list[Route] = Field(default_factory=list)
    required_attachments: list[Text] = Field(default_factory=list)
    device_attachments: list[Text] = Field(default_factory=list,
                                           description="Asked for only when the report names a device")
    device_cues: list[Text] = Field(default_factory=list, description="Words that name a device (热水器, 门禁…)")
    default_urgency: Urgency = Field(Urgency.LEVEL_3, description="Level when no urgency cue matches")
    keeps_questions: bool = Field(False, description="A pure question stays in this category (else questions_go_to)")
    basis: list[ClauseRef] = Field(min_length=1)


class RoutingRules(_Strict):
    """kb/rules/routing.yaml."""

    categories: list[CategoryRule]
    questions_go_to: Category = Field(Category.ENQUIRY, description="Category of a pure question about a repair area")
    question_cues: list[Text] = Field(default_factory=list, description="Marks a message as a question")
    procedure_cues: list[Text] = Field(default_factory=list,
                                       description="Asks about a rule or procedure, not reporting a problem")
    request_cues: list[Text] = Field(default_factory=list, description="Asks staff to act (能不能派人…)")
    suggestion_cues: list[Text] = Field(default_factory=list, description="A suggestion → questions_go_to")
    report_cues: list[Text] = Field(default_factory=list, description="Marks a message as a problem report")
    segment_markers: list[Text] = Field(default_factory=list, description="Split several problems apart")
    follow_up_patterns: list[Text] = Field(
        default_factory=list, description="Regexes marking a short follow-up that leans on the previous question")
    deadline_question_cues: list[Text] = Field(
        default_factory=list, description="Asks how long the open case will take (answered from its deadline)")

    @model_validator(mode="after")
    def _every_category_once(self) -> RoutingRules:
        seen = [c.category for c in self.categories]
        if sorted(seen) != sorted(Category):
            raise ValueError(f"routing must list every category exactly once, got {seen}")
        return self


class EscalationTrigger(_Strict):
    """One escalation rule: what sets it off and what happens."""

    id: EntryId
    kind: TriggerKind
    description: Text
    cues: list[Text] = Field(default_factory=list)
    patterns: list[Text] = Field(default_factory=list,
                                 description="Regular expressions (on normalised text) that also set the trigger off")
    action: Text
    notify: list[Text] = Field(min_length=1, description="Roles told, e.g. 客服主管, 管理层, 管家")
    upgrade_levels: int = Field(0, ge=0, le=3)
    escalates: bool = Field(True, description="False: the trigger only adds a deadline or notice, no handoff")
    route_to: Category | None = Field(None, description="Re-categorise the case (below level 1), e.g. repeat → 投诉")
    set_urgency: Urgency | None = Field(None, description="Force this level (e.g. safety complaints → 1)")
    basis: list[ClauseRef] = Field(min_length=1)


class EscalationRules(_Strict):
    """kb/rules/escalation.yaml."""

    @model_validator(mode="after")
    def _patterns_compile(self) -> EscalationRules:
        for t in self.triggers:
            for p in t.patterns:
                try:
                    re.compile(p)
                except re.error as exc:
                    raise ValueError(f"{t.id}: pattern {p!r} is not a valid regular expression: {exc}") from exc
        return self

    triggers: list[EscalationTrigger] = Field(min_length=1)


class BannedPhrase(_Strict):
    """A deflecting phrase agents must never use, with its variants and a better wording."""

    phrase: Text
    variants: list[Text] = Field(default_factory=list)
    reason: Text
    rewrite: Text
    basis: list[ClauseRef] = Field(min_length=1)


class Situation(StrEnum):
    """What a reply answers, which decides the elements it must contain (``any``: every reply)."""

    ANY = "any"
    FIRST_CONTACT = "first_contact"
    REPAIR = "repair"
    COMPLAINT = "complaint"
    EMERGENCY = "emergency"


class ReplyElement(_Strict):
    """Something a reply must contain in a situation (greeting, a committed time limit, an apology …)."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]
    label: Text
    cues: list[Text] = Field(min_length=1, description="Any of these shows the element is present")
    situations: list[Situation] = Field(min_length=1)
    suggestion: Text
    basis: list[ClauseRef] = Field(min_length=1)


class BannedPhrases(_Strict):
    """kb/rules/banned_phrases.yaml: deflecting phrases, and the elements a reply needs."""

    phrases: list[BannedPhrase] = Field(min_length=1)
    elements: list[ReplyElement] = Field(default_factory=list)


class TicketField(_Strict):
    """A mandatory ticket field and the short question that asks for it."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]
    label: Text
    question: Text
    required: bool = True
    basis: list[ClauseRef] = Field(min_length=1)


class TicketFields(_Strict):
    """kb/rules/ticket_fields.yaml."""

    fields: list[TicketField] = Field(min_length=1)


# The chat scripts the assistant renders by their first tag (kb/content/scripts/chat.yaml); `wuye kb lint`
# names any that is missing, so a company's own KB cannot break a turn at run time.
CHAT_SCRIPT_TAGS = frozenset({
    "greeting", "thanks", "thanks_ticket", "out_of_scope", "status_none", "status_one", "status_which",
    "status_pending", "agent_waiting", "agent_off_hours", "slot_ack", "corrected", "not_found",
    "not_found_off_hours", "report_ack", "level1_ack", "emergency_notice", "vulnerable_note", "safety_note",
    "attachments", "guidance", "repeat_note", "service_note", "just_filed",
    "update_dispatched", "update_in_progress", "update_resolved", "update_reopened", "rating_thanks", "rating_low",
    "visit_time",
})


class TurnRules(_Strict):
    """kb/rules/turns.yaml: the phrasings that tell what a chat turn is, before any retrieval."""

    greeting: list[Text] = Field(min_length=1)
    thanks: list[Text] = Field(min_length=1)
    fillers: list[Text] = Field(default_factory=list)
    person: list[Text] = Field(min_length=1)
    status: list[Text] = Field(min_length=1)
    status_personal: list[Text] = Field(default_factory=list, description="Marks a status query as the resident's own")
    correction: list[Text] = Field(min_length=1)
    visit_times: list[Text] = Field(default_factory=list, description="Words of a time (明天、下午、周六、after 6pm)")
    availability: list[Text] = Field(default_factory=list, description="Words that offer a time for a visit "
                                     "(在家、方便、都可以、anytime): with a time word, the turn is the ticket's "
                                     "preferred visit time")
    chitchat: list[Text] = Field(min_length=1)
    property_words: list[Text] = Field(min_length=1, description="A not-found question naming none is chit-chat")
    summary_stopwords: list[Text] = Field(default_factory=list, description="Generic words a ticket summary skips")
    ratings: dict[Text, Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict, description="Words a resident rates a resolved ticket with (非常满意 → 5); digits "
        "1–5 with 分/星 are read without a table")
    status_max_chars: int = Field(24, gt=0, le=200)
    small_talk_max_chars: int = Field(16, gt=0, le=100)


class Ask(_Strict):
    """A kind of figure a question asks for, and how an answer states it (both regular expressions)."""

    name: str = Field(min_length=1)
    question: str = Field(min_length=1, description="Matches a question that asks for the figure")
    answer: str = Field(min_length=1, description="Matches a text that states it")

    @model_validator(mode="after")
    def _patterns_compile(self) -> Ask:
        for which, p in (("question", self.question), ("answer", self.answer)):
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"ask {self.name}: {which} pattern {p!r} is not a valid regular expression: "
                                 f"{exc}") from exc
        return self


class Dictionary(_Strict):
    """kb/rules/dictionary.yaml: domain words for the tokenizer, and synonyms for query expansion."""

    terms: list[Text] = Field(min_length=1)
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    stopwords: list[str] = Field(default_factory=list, description="Words BM25 ignores (的、了、吗 …)")
    generic: list[str] = Field(default_factory=list, description="Words that never tell what a question is about "
                               "(多少钱、规定、情况 …): grounding does not weigh them")
    ambient: list[str] = Field(default_factory=list, description="Words nearly every entry mentions (小区、物业): "
                               "grounding weighs them lightly and never counts them alone as covering a question")
    asks: list[Ask] = Field(default_factory=list, description="Questions that ask for a figure (多少钱、几号、多久): "
                            "an entry answers one only when it states such a figure")


# ---------------------------------------------------------------- on-call roster (paging for level 1)

_HOURS = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"


class PagingChannel(StrEnum):
    """How a person on the roster is paged; the console always shows every page."""

    CONSOLE = "console"
    WECOM = "wecom"
    SMS = "sms"
    WEBHOOK = "webhook"


class OnCallPerson(_Strict):
    """One person on a department's roster."""

    name: Text = Field(max_length=64)
    phone: str = Field(pattern=r"^1\d{10}$", description="Mobile number, 11 digits")
    channel: PagingChannel = PagingChannel.CONSOLE
    wecom_user: str | None = Field(None, description="The person's WeChat Work userid (channel wecom)")
    hours: str | None = Field(None, pattern=_HOURS, description="On duty HH:MM-HH:MM local time; empty = always "
                              "(a backup, paged when the first page is not acknowledged)")

    def on_duty(self, local: time) -> bool:
        """Whether the local time of day falls in this person's hours."""
        if self.hours is None:
            return True
        start, end = (time.fromisoformat(x) for x in self.hours.split("-"))
        return start <= local < end if start <= end else (local >= start or local < end)


class OnCall(_Strict):
    """kb/rules/oncall.yaml: who is paged for a level-1 ticket or an SLA breach, and how fast they must answer."""

    ack_minutes: int = Field(5, ge=1, le=60, description="Minutes to acknowledge a page before the next person "
                             "and the duty manager are paged (repeated until someone acknowledges)")
    duty_manager: OnCallPerson | None = None
    departments: dict[str, list[OnCallPerson]] = Field(default_factory=dict)

    @field_validator("departments")
    @classmethod
    def _non_empty(cls, v: dict[str, list[OnCallPerson]]) -> dict[str, list[OnCallPerson]]:
        empty = [k for k, people in v.items() if not people]
        if empty:
            raise ValueError(f"departments with nobody on the roster: {empty}")
        return v


# ---------------------------------------------------------------- what a reply advises (kb/rules/advice.yaml)


def _compiled(patterns: list[str]) -> list[str]:
    """Raise a ValueError naming the first pattern that is not a valid regular expression."""
    for i, p in enumerate(patterns):
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"pattern {i} {p!r} is not a valid regular expression: {exc}") from exc
    return patterns


Regex = Annotated[str, StringConstraints(min_length=1)]


class MustNotDo(_Strict):
    """An action that endangers people: a reply advising it fails, whatever else it says.

    ``patterns`` name the action in positive wordings (verbs × objects); whether a sentence advises it or
    forbids it is decided by the negation rules of ``AdviceRules``, not by the pattern.
    """

    id: EntryId
    plan: EntryId = Field(description="The emergency plan (or policy) the item belongs to")
    action: Text = Field(description="The dangerous action, as a trainer would name it")
    danger: Text = Field(description="Why it endangers people")
    patterns: list[Regex] = Field(min_length=1, description="Regexes (simplified, NFKC text) naming the action")
    context: list[Text] = Field(default_factory=list,
                                description="Words that show the hazard (in the reply or the case); empty = always")
    unless: list[Regex] = Field(default_factory=list,
                                description="Regexes that make the action safe when found in the same sentence")
    rewrite: Text = Field(description="A safe wording to use instead")
    basis: list[ClauseRef] = Field(min_length=1)

    @field_validator("patterns", "unless")
    @classmethod
    def _patterns_compile(cls, v: list[str]) -> list[str]:
        return _compiled(v)


class Contradiction(_Strict):
    """A statement that contradicts a policy fact (照样收 vs 不收): a finding with the clause."""

    id: EntryId
    claim: Text = Field(description="The wrong statement, described")
    fact: Text = Field(description="What the KB says instead (close to the must-say point it contradicts)")
    patterns: list[Regex] = Field(min_length=1)
    context: list[Text] = Field(default_factory=list, description="Words that show the topic; empty = always")
    basis: list[ClauseRef] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, v: list[str]) -> list[str]:
        return _compiled(v)


class TimeUnit(_Strict):
    """A unit of a promised time limit (分钟, 小时, 工作日 …) and its length in minutes."""

    words: list[Text] = Field(min_length=1)
    minutes: int = Field(gt=0)


class RelativeTime(_Strict):
    """A relative promise (明天, 后天, 这周内 …) read as a time limit of ``minutes``."""

    pattern: Regex
    minutes: int = Field(gt=0)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, v: str) -> str:
        return _compiled([v])[0]


class OffTopicRules(_Strict):
    """When a reply speaks about something other than its case (assistant/topic.py)."""

    ignore: list[Text] = Field(default_factory=list, description="Courtesy words and forms of address (记下, 阿姨) "
                                                                 "that never tell what a reply is about")
    max_coverage: float = Field(0.5, ge=0, le=1, description="Off topic below this share of content weight in the case")
    min_uncovered: float = Field(7.0, ge=0, description="…and when the words not in the case weigh at least this")


class AdviceRules(_Strict):
    """kb/rules/advice.yaml: what a reply must never advise, promise or claim, and how polarity is read."""

    negators: list[Regex] = Field(min_length=1, description="Prohibitions that negate an action after them "
                                                            "in the same clause (不要, 千万别, 禁止, don't …)")
    adjacent_negators: list[Regex] = Field(default_factory=list,
                                           description="Negate only when right before the action (不开灯)")
    not_negators: list[Regex] = Field(default_factory=list,
                                      description="Words holding a negator that do not negate (不如, 别人, 特别)")
    feelings: list[Regex] = Field(default_factory=list,
                                  description="Negated feelings (别慌, 不要着急): their negation does not carry on")
    scope_breakers: list[Regex] = Field(default_factory=list,
                                        description="Between a negator and the action, end its scope (而是, 赶紧)")
    after_negators: list[Regex] = Field(default_factory=list,
                                        description="After the action in its clause, make it forbidden (很危险)")
    answers: list[Regex] = Field(default_factory=list,
                                 description="A clause that answers a question about the action with no")
    staff_subjects: list[Regex] = Field(default_factory=list,
                                        description="Subjects making the action staff's, not advice (我们, 维保人员)")
    resident_subjects: list[Regex] = Field(default_factory=list, description="Second-person subjects (您, 你)")
    negation_window: int = Field(10, ge=1, le=40, description="Max characters between a negator and the action")
    time_units: list[TimeUnit] = Field(min_length=1)
    time_suffix: Regex = Field(description="What follows a number and unit for it to be a promised limit (内…)")
    relative_times: list[RelativeTime] = Field(default_factory=list)
    promise_exempt: list[Regex] = Field(default_factory=list,
                                        description="A sentence with these states a later step (回访), not the limit")
    service_actions: list[Text] = Field(default_factory=list,
                                        description="What a promised limit commits staff to (到场, 答复 …): a "
                                                    "limit stated for another action (30分钟内免费) excuses no promise")
    level_words: Regex = Field("[一二三四]级", description="A sentence naming an urgency level states that level's "
                                                          "time limit, not one of its own")
    must_not_do: list[MustNotDo] = Field(min_length=1)
    contradictions: list[Contradiction] = Field(default_factory=list)
    off_topic: OffTopicRules = Field(default_factory=lambda: OffTopicRules())

    @field_validator("negators", "adjacent_negators", "not_negators", "feelings", "scope_breakers",
                     "after_negators", "answers", "staff_subjects", "resident_subjects", "promise_exempt")
    @classmethod
    def _lists_compile(cls, v: list[str]) -> list[str]:
        return _compiled(v)

    @field_validator("time_suffix", "level_words")
    @classmethod
    def _suffix_compiles(cls, v: str) -> str:
        return _compiled([v])[0]

    @model_validator(mode="after")
    def _ids_are_unique(self) -> AdviceRules:
        ids = [m.id for m in self.must_not_do] + [c.id for c in self.contradictions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"ids used twice: {dupes}")
        return self


# ---------------------------------------------------------------- training scenarios (seed 5.3)


class ExpectedHandling(_Strict):
    """What a correct handling of a scenario decides and says."""

    category: Category
    urgency: Urgency
    department: Text
    time_limit_minutes: int = Field(ge=0, description="The time limit the agent must commit to")
    escalate: bool
    must_say: list[Text] = Field(min_length=1, description="Points a good reply makes (judged by meaning)")
    must_not_say: list[Text] = Field(default_factory=list, description="Phrases that fail the reply")
    must_not_do: list[EntryId] = Field(default_factory=list,
                                       description="Dangerous actions (kb/rules/advice.yaml) a reply must not advise")
    contradictions: list[EntryId] = Field(default_factory=list,
                                          description="Policy contradictions (kb/rules/advice.yaml) to check for")
    basis: list[ClauseRef] = Field(min_length=1)


class GradedReply(_Strict):
    """An example reply with the grade a trainer gave it (to check the grader agrees with people)."""

    text: Text
    grade: Literal["good", "mediocre", "bad", "deflecting"]


class Difficulty(StrEnum):
    """How hard a quiz scenario is."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Scenario(_Strict):
    """A typical incident for a quiz: the resident's message(s) and the expected handling."""

    id: EntryId
    title: Text
    difficulty: Difficulty
    messages: list[Text] = Field(min_length=1)
    expected: ExpectedHandling
    examples: list[GradedReply] = Field(default_factory=list)
    tags: list[Text] = Field(default_factory=list)


class ScenarioFile(_Strict):
    """kb/content/scenarios/*.yaml."""

    scenarios: list[Scenario] = Field(min_length=1)
