"""Standard reply scripts (标准话术): choosing one for a situation and filling its placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kb.schema import Category, ReplyScript, ScriptScenario, Urgency

_SLOT = re.compile(r"\{([a-z_]+)\}")
DEFAULTS = {
    "resident_name": "您",
    "address": "您反映的地点",
    "phone": "",
    "issue": "这个问题",
    "department": "责任部门",
    "ticket_no": "（提交后生成）",
    "agent_name": "",
    "company": "示例物业",
    "deadline": "承诺时限",
    "sla_text": "我们会尽快处理",
    "callback_time": "约定时间",
    "delay_reason": "现场情况复杂",
    "new_deadline": "新的承诺时间",
    "missing_field": "相关信息",
    "hotline": "客服热线",
}


def render(script: ReplyScript, values: dict[str, str]) -> str:
    """Fill a script's ``{slots}``; a slot with no value gets a neutral default."""
    return _SLOT.sub(lambda m: values.get(m.group(1)) or DEFAULTS.get(m.group(1), ""), script.text)


def pick(
    scripts: Iterable[ReplyScript],
    scenario: ScriptScenario,
    *,
    category: Category | None = None,
    urgency: Urgency | None = None,
    text: str = "",
) -> ReplyScript | None:
    """The best script of a scenario for a case: matching category/level first, then tag overlap with the text.

    When no script is written for this category (or level), the search widens to any category, then any level.
    """
    scripts = list(scripts)
    for cat, lvl in ((category, urgency), (None, urgency), (None, None)):
        found = _best(scripts, scenario, cat, lvl, text)
        if found is not None:
            return found
    return None


def _best(scripts: list[ReplyScript], scenario: ScriptScenario, category: Category | None, urgency: Urgency | None,
          text: str) -> ReplyScript | None:
    best: tuple[float, ReplyScript] | None = None
    for s in scripts:
        if s.scenario is not scenario:
            continue
        if s.categories and category is not None and category not in s.categories:
            continue
        if s.urgency and urgency is not None and urgency not in s.urgency:
            continue
        score = 2.0 * bool(s.categories) + 2.0 * bool(s.urgency)
        score += sum(len(t) for t in s.tags if t and t.lower() in text)
        if best is None or score > best[0]:
            best = (score, s)
    return best[1] if best else None
