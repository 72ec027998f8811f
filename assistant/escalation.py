"""Escalation policy: who must hear about a case, and when urgency is raised. Lives here only."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.triage import Reason, Triage
from assistant.types import ResidentProfile
from kb.load import Rules
from kb.schema import EscalationTrigger, TriggerKind, Urgency


@dataclass(frozen=True, slots=True)
class Decision:
    """The escalation outcome for one message."""

    urgency: Urgency
    escalate: bool
    kinds: tuple[TriggerKind, ...]
    notify: tuple[str, ...]
    actions: tuple[str, ...]
    reasons: tuple[Reason, ...]

    @property
    def handoff(self) -> bool:
        """A person must take over the conversation now."""
        return self.escalate

    @property
    def butler_follow_up(self) -> bool:
        """A 管家 follows the case one-to-one (vulnerable residents)."""
        return TriggerKind.VULNERABLE in self.kinds

    @property
    def supervisor(self) -> bool:
        """The case goes to the customer-service supervisor (repeat complaints)."""
        return TriggerKind.REPEAT in self.kinds


def decide(
    triage: Triage,
    rules: Rules,
    *,
    profile: ResidentProfile | None = None,
    repeat_in_history: bool = False,
) -> Decision:
    """Apply the escalation triggers of kb/rules/escalation.yaml.

    Args:
        triage: The message's triage (its escalation cues are in ``triage.signals``).
        rules: The KB rules.
        profile: The resident, if known; ``vulnerable`` upgrades priority like a cue in the text.
        repeat_in_history: The same household already reported the same problem (from ticket history).

    Returns:
        Final urgency, whether a person takes over, who is told, and why.
    """
    fired: list[tuple[EscalationTrigger, str]] = []
    for trigger in rules.escalation.triggers:
        kind = trigger.kind
        cues = triage.signals.get(kind, ())
        if kind is TriggerKind.EMERGENCY and triage.urgency == Urgency.LEVEL_1:
            fired.append((trigger, "level 1 (personal safety)"))
        elif kind is TriggerKind.VULNERABLE and (cues or (profile is not None and profile.vulnerable)):
            fired.append((trigger, f"matched {'、'.join(cues)}" if cues else "resident profile is flagged vulnerable"))
        elif kind is TriggerKind.REPEAT and (cues or repeat_in_history):
            why = f"matched {'、'.join(cues)}" if cues else "same household and problem in ticket history"
            fired.append((trigger, why))
        elif kind not in (TriggerKind.EMERGENCY, TriggerKind.VULNERABLE, TriggerKind.REPEAT, TriggerKind.SLA) and cues:
            fired.append((trigger, f"matched {'、'.join(cues)}"))

    urgency = triage.urgency
    reasons: list[Reason] = []
    seen: set[TriggerKind] = set()
    for trigger, why in fired:
        if trigger.kind in seen:
            continue
        seen.add(trigger.kind)
        if trigger.set_urgency is not None and trigger.set_urgency < urgency:
            urgency = trigger.set_urgency
        if trigger.upgrade_levels:
            urgency = Urgency(max(1, urgency - trigger.upgrade_levels))
        reasons.append(Reason(trigger.id, f"{trigger.description} — {why}", tuple(trigger.basis)))
    if urgency == Urgency.LEVEL_1 and TriggerKind.EMERGENCY not in seen:
        emergency = next((t for t in rules.escalation.triggers if t.kind is TriggerKind.EMERGENCY), None)
        if emergency is not None:
            fired.append((emergency, "raised to level 1"))
            seen.add(TriggerKind.EMERGENCY)
            reasons.append(Reason(emergency.id, f"{emergency.description} — raised to level 1", tuple(emergency.basis)))
    kept = [t for t, _ in fired if t.kind in seen]
    notify = tuple(dict.fromkeys(n for t in kept for n in t.notify))
    actions = tuple(dict.fromkeys(t.action for t in kept))
    return Decision(
        urgency=urgency,
        escalate=any(t.escalates for t in kept),
        kinds=tuple(dict.fromkeys(t.kind for t in kept)),
        notify=notify,
        actions=actions,
        reasons=tuple(reasons),
    )
