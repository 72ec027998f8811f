"""Deadlines (SLA clocks) computed from kb/rules/urgency.yaml, and their warning/breach state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kb.load import Rules
from kb.schema import Category, SampleValue, SlaKind, TriggerKind, Urgency

_KIND_VERB = {SlaKind.ON_SITE: "到场", SlaKind.RESOLVE: "解决", SlaKind.HANDLE: "处理", SlaKind.FEEDBACK: "反馈"}


class ClockState(StrEnum):
    """Where a deadline stands."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True, slots=True)
class Deadline:
    """One committed time limit of a case."""

    key: str
    label: str
    minutes: int
    due: datetime
    basis: tuple[str, ...]
    stops_at: str = "resolved"

    def state(self, now: datetime, warning_share: float, done_at: datetime | None = None) -> ClockState:
        """Where the clock stands at ``now`` (``done_at`` set once the step was done)."""
        if done_at is not None:
            return ClockState.MET if done_at <= self.due else ClockState.BREACHED
        if now > self.due:
            return ClockState.BREACHED
        start = self.due - timedelta(minutes=self.minutes)
        elapsed = (now - start).total_seconds()
        if self.minutes and elapsed >= warning_share * self.minutes * 60:
            return ClockState.WARNING
        return ClockState.OK


def sla_text(rules: Rules, urgency: Urgency) -> str:
    """Human wording of a level's commitment, e.g. ``30分钟内到场``."""
    level = next(lv for lv in rules.urgency.levels if lv.level == urgency)
    return f"{_duration(level.sla_minutes)}内{_KIND_VERB[level.sla_kind]}"


def contact_words(minutes: int | None) -> str:
    """How soon a complaint's supervisor calls, as a script says it: 会在12小时内 / 会马上 ("" when unknown)."""
    if minutes is None:
        return ""
    if minutes == 0:
        return "会马上"
    hours, rest = divmod(minutes, 60)
    return f"会在{hours}小时内" if not rest else f"会在{minutes}分钟内"


def _duration(minutes: int) -> str:
    if minutes == 0:
        return "立即"
    if minutes % 60 == 0:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"


def deadlines_for(
    rules: Rules,
    *,
    urgency: Urgency,
    category: Category,
    kinds: Iterable[TriggerKind],
    created_at: datetime,
    online: bool = True,
) -> list[Deadline]:
    """Every deadline a new case commits to, earliest first.

    Args:
        rules: The KB rules (levels and named deadlines).
        urgency: The final urgency level (after escalation upgrades).
        category: The case's category.
        kinds: Escalation triggers that fired (complaint kinds add their own limits).
        created_at: When the case was received (timezone-aware).
        online: Received through APP/WeChat/e-mail/chat (adds the 15-minute acknowledgement).

    Returns:
        The deadlines, sorted by due time.
    """
    named = {d.key: d for d in rules.urgency.deadlines}
    level = next(lv for lv in rules.urgency.levels if lv.level == urgency)
    stops = "in_progress" if level.sla_kind is SlaKind.ON_SITE else "resolved"
    out = [Deadline(f"level{level.level}", f"{level.name}（{level.label}）{sla_text(rules, urgency)}",
                    level.sla_minutes, created_at + timedelta(minutes=level.sla_minutes), tuple(level.basis), stops)]
    wanted: list[str] = []
    if online and "ack_online" in named:
        wanted.append("ack_online")
    kinds = set(kinds)
    if TriggerKind.SERVICE_COMPLAINT in kinds or category is Category.COMPLAINT:
        wanted.append("complaint_service_contact")
    if TriggerKind.SAFETY_COMPLAINT in kinds:
        wanted.append("complaint_safety")
    for key in wanted:
        d = named.get(key)
        if d is not None:
            out.append(Deadline(d.key, d.label, d.minutes, created_at + timedelta(minutes=d.minutes),
                                tuple(d.basis), d.stops_at))
    return sorted(out, key=lambda d: d.due)


def callback_deadline(rules: Rules, *, category: Category, resolved_at: datetime) -> Deadline | None:
    """The satisfaction-callback deadline once a case is resolved (24 h after a repair, 48 h otherwise)."""
    key = "callback_repair" if category in (Category.ENGINEERING, Category.CLEANING) else "callback_other"
    d = next((x for x in rules.urgency.deadlines if x.key == key), None)
    if d is None:
        return None
    return Deadline(d.key, d.label, d.minutes, resolved_at + timedelta(minutes=d.minutes), tuple(d.basis), d.stops_at)


_DAY_WORDS = {0: "今天", 1: "明天", 2: "后天"}


def due_words(due: datetime, *, now: datetime, zone: tzinfo) -> str:
    """A deadline as a resident reads it, in local time: ``今天18:30``, ``明天09:00``, else ``12月01日 09:00``."""
    local, today = due.astimezone(zone), now.astimezone(zone)
    days = (local.date() - today.date()).days
    if days in _DAY_WORDS:
        return f"{_DAY_WORDS[days]}{local:%H:%M}"
    return f"{local:%m月%d日 %H:%M}"


def local_zone(values: Mapping[str, SampleValue]) -> tzinfo:
    """The company's local time zone (``chat.timezone`` in kb/content/values/; UTC when it is not set)."""
    zone = values.get("chat.timezone")
    if zone is None:
        return UTC
    try:
        return ZoneInfo(str(zone.value))
    except ZoneInfoNotFoundError:  # no tz database on this machine: China Standard Time has no DST
        return timezone(timedelta(hours=8))
