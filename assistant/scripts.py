"""Standard reply scripts (标准话术): choosing one for a case and filling its placeholders.

Which scripts fit a case is data: each script's ``categories``, ``urgency`` and ``when`` conditions in kb/
(``kb.schema.ScriptWhen``). ``fits`` applies them for the agent's suggestions (assistant/suggest.py) and for the
chat replies that share scripts with them (assistant/intake.py), so both follow the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kb.schema import Category, ReplyScript, SampleValue, ScriptScenario, TriggerKind, Urgency

_SLOT = re.compile(r"\{([a-z_]+)\}")
# Tags that make a script a variant of another: a one-sentence version (简短), a warmer wording (体贴), or the
# general safety instruction for a case no specific plan covers (通用). A variant is only chosen when asked for
# (``variants``); the chat, which asks for none, keeps to the plain scripts.
SHORT_TAG = "简短"
WARM_TAG = "体贴"
GENERAL_TAG = "通用"
VARIANT_TAGS = frozenset({SHORT_TAG, WARM_TAG, GENERAL_TAG})
DEFAULTS = {
    "resident_name": "您",
    "address": "您反映的地点",
    "phone": "",
    "issue": "这个问题",
    "department": "责任部门",
    "ticket_no": "（提交后生成）",
    "agent_name": "",
    "deadline": "承诺时限",
    "sla_text": "我们会尽快处理",
    "callback_time": "约定时间",
    "delay_reason": "现场情况复杂",
    "new_deadline": "新的承诺时间",
    "missing_field": "相关信息",
    "contact_sla": "会尽快",
}
# The company's own slots come from the kb values (kb/content/values/ops.yaml), never from code.
COMPANY_SLOTS = {"company": "company.name", "hotline": "company.hotline"}


@dataclass(frozen=True, slots=True)
class ScriptContext:
    """What the ``when`` conditions of a script are checked against.

    Attributes:
        kinds: The escalation triggers that fired for the case.
        complaint: A complaint (the 投诉 category or a complaint trigger).
        escalated: Handed to a person / supervisor.
        safety: A safety element (level 1 or a safety trigger).
        first_contact: Nothing has been said to the resident about this case yet.
        ticket: A ticket exists.
        speaker: Who says it: ``assistant`` (the chat) or ``agent`` (a person).
        hazard_text: Words naming the hazard (KB cues and the message), matched against a script's tags.
        said: Ids of scripts already said in the conversation (never said twice).
    """

    kinds: frozenset[TriggerKind] = frozenset()
    complaint: bool = False
    escalated: bool = False
    safety: bool = False
    first_contact: bool = True
    ticket: bool = False
    speaker: str = "assistant"
    hazard_text: str = ""
    said: frozenset[str] = field(default_factory=frozenset)

    @property
    def upset(self) -> bool:
        """A complaint, a repeat or a vulnerable resident: the reply should be warm."""
        return self.complaint or bool(self.kinds & {TriggerKind.REPEAT, TriggerKind.VULNERABLE})


def fits(script: ReplyScript, ctx: ScriptContext) -> bool:
    """Whether a script's ``when`` conditions hold for a case (and it has not been said already)."""
    w = script.when
    if script.id in ctx.said:
        return False
    if w.kinds and not set(w.kinds) & ctx.kinds:
        return False
    if set(w.without_kinds) & ctx.kinds:
        return False
    checks = ((w.complaint, ctx.complaint), (w.upset, ctx.upset), (w.escalated, ctx.escalated),
              (w.safety, ctx.safety), (w.first_contact, ctx.first_contact), (w.ticket, ctx.ticket))
    if any(want is not None and want != have for want, have in checks):
        return False
    if w.speaker is not None and w.speaker != ctx.speaker:
        return False
    text = ctx.hazard_text.lower()
    return not w.hazard or any(t and t.lower() in text for t in script.tags)


def company_slots(values: Mapping[str, SampleValue]) -> dict[str, str]:
    """``{company}`` and ``{hotline}`` filled from the kb values (an undefined value fills nothing)."""
    return {slot: str(values[key].value) if key in values else "" for slot, key in COMPANY_SLOTS.items()}


def render(script: ReplyScript, values: Mapping[str, str]) -> str:
    """Fill a script's ``{slots}``; a slot with no value gets a neutral default (the company's come from
    ``company_slots``)."""
    return _SLOT.sub(lambda m: values.get(m.group(1)) or DEFAULTS.get(m.group(1), ""), script.text)


def fill(script: ReplyScript, values: Mapping[str, str]) -> str | None:
    """Fill a script's ``{slots}`` from the case only: None when any slot has no (non-blank) value."""
    if any(not (values.get(name) or "").strip() for name in _SLOT.findall(script.text)):
        return None
    return _SLOT.sub(lambda m: values[m.group(1)], script.text)


def pick(
    scripts: Iterable[ReplyScript],
    scenario: ScriptScenario,
    *,
    category: Category | None = None,
    urgency: Urgency | None = None,
    text: str = "",
    context: ScriptContext | None = None,
    widen: bool = True,
    variants: frozenset[str] = frozenset(),
) -> ReplyScript | None:
    """The best script of a scenario for a case: matching category/level first, then tag overlap with the text.

    With ``context``, only scripts whose ``when`` conditions hold are considered. With ``widen`` (the default),
    when no script is written for this category (or level) the search widens to any category, then any level.
    """
    ranked = candidates(scripts, scenario, category=category, urgency=urgency, text=text, context=context,
                        widen=widen, variants=variants)
    return ranked[0] if ranked else None


def candidates(
    scripts: Iterable[ReplyScript],
    scenario: ScriptScenario,
    *,
    category: Category | None = None,
    urgency: Urgency | None = None,
    text: str = "",
    context: ScriptContext | None = None,
    widen: bool = True,
    variants: frozenset[str] = frozenset(),
) -> list[ReplyScript]:
    """Every script of a scenario that fits, best first (see ``pick``).

    ``variants`` (``VARIANT_TAGS``) admits the scripts carrying those tags and ranks the short or warm ones
    first; a plain script still fits when no variant is written for the case.
    """
    pool = [s for s in scripts if s.scenario is scenario and (context is None or fits(s, context))
            and VARIANT_TAGS.intersection(s.tags) <= variants]
    steps = ((category, urgency), (None, urgency), (None, None)) if widen else ((category, urgency),)
    for cat, lvl in steps:
        found = _ranked(pool, cat, lvl, text, variants - {GENERAL_TAG})
        if found:
            return found
    return []


def _ranked(scripts: list[ReplyScript], category: Category | None, urgency: Urgency | None,
            text: str, preferred: frozenset[str] = frozenset()) -> list[ReplyScript]:
    scored: list[tuple[float, int, ReplyScript]] = []
    for i, s in enumerate(scripts):
        if s.categories and category is not None and category not in s.categories:
            continue
        if s.urgency and urgency is not None and urgency not in s.urgency:
            continue
        score = 2.0 * bool(s.categories) + 2.0 * bool(s.urgency) + 100.0 * len(preferred.intersection(s.tags))
        score += sum(len(t) for t in s.tags if t and t.lower() in text and t not in VARIANT_TAGS)
        scored.append((-score, i, s))
    return [s for _, _, s in sorted(scored, key=lambda x: (x[0], x[1]))]
