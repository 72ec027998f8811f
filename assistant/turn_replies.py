"""Turn replies: the assistant's words for everyday chat turns, rendered from the chat scripts in kb/.

Greetings, thanks, out-of-scope chit-chat, a resident's own ticket status, a request for a person (in or out of
the agents' hours) and the not-found hand-off. No sentence is written here: each comes from
kb/content/scripts/chat.yaml, chosen by its first tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, tzinfo

from assistant.conversation import TicketView
from assistant.scripts import company_slots, render
from assistant.sla import local_zone
from assistant.tickets import TicketStatus
from kb.load import KnowledgeBase
from kb.schema import ReplyScript, ScriptScenario

STATUS_WORDS = {
    TicketStatus.DRAFT: "还在登记中",
    TicketStatus.SUBMITTED: "已受理，正在派单",
    TicketStatus.DISPATCHED: "已派单，等待师傅上门",
    TicketStatus.IN_PROGRESS: "正在处理",
    TicketStatus.RESOLVED: "已处理完成，等待回访确认",
    TicketStatus.CALLBACK_DONE: "已回访",
    TicketStatus.CLOSED: "已办结",
    TicketStatus.REOPENED: "已重新打开，正在返修",
}


class TurnReplies:
    """Renders the chat scripts (scenario ``chat``) for a knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._scripts: dict[str, ReplyScript] = {
            s.tags[0]: s for s in kb.scripts if s.scenario is ScriptScenario.CHAT and s.tags}
        self._company = company_slots(kb.values)
        hours = kb.values.get("chat.agent_hours")
        callback = kb.values.get("chat.agent_callback")
        self.hours = str(hours.value) if hours else "08:00-22:00"
        self.callback = str(callback.value) if callback else "次日上午"
        satisfied = kb.values.get("ops.rating_satisfied_min")
        self.satisfied_min = int(str(satisfied.value)) if satisfied else 4  # a chat score this high closes
        self._zone: tzinfo = local_zone(kb.values)
        start, _, end = self.hours.partition("-")
        self._open = time.fromisoformat(start.strip())
        self._close = time.fromisoformat(end.strip())

    def text(self, use: str, **values: str) -> str:
        """The chat script for ``use`` (its first tag), filled with ``values``."""
        script = self._scripts.get(use)
        if script is None:
            raise KeyError(f"no chat script tagged {use!r} in kb/content/scripts/chat.yaml")
        return render(script, {**self._company, **values})

    def agents_on_duty(self, now: datetime) -> bool:
        """Whether ``now`` (local time) falls in the agents' hours (``chat.agent_hours``)."""
        t = now.astimezone(self._zone).time()
        if self._open <= self._close:
            return self._open <= t < self._close
        return t >= self._open or t < self._close

    def update(self, t: TicketView, note: str | None, now: datetime) -> str | None:
        """What the resident is told when their ticket moves (SOP-TRACK-001#6); None for moves they need not hear."""
        use = {TicketStatus.DISPATCHED: "update_dispatched", TicketStatus.IN_PROGRESS: "update_in_progress",
               TicketStatus.RESOLVED: "update_resolved", TicketStatus.REOPENED: "update_reopened"}.get(
            TicketStatus(t.status))
        if use is None:
            return None
        holder = f"{t.department}的{t.assignee}" if t.assignee else t.department
        if t.due is None:
            due_text = "我们会持续跟进"
        elif t.due > now:
            due_text = f"预计{t.due.astimezone(self._zone):%m月%d日 %H:%M}前处理好"
        else:
            due_text = "已超过承诺时间，客服主管正在督办"
        what = (note or "").strip().rstrip("。") or "现场已处理"
        return self.text(use, ticket_no=t.number, holder=holder, due_text=due_text, what=what)

    def status(self, tickets: Sequence[TicketView], now: datetime) -> str:
        """A resident's open tickets: one in full, several listed with a question which one."""
        if not tickets:
            return self.text("status_none")
        lines = [self._one(t, now) for t in tickets[:5]]
        if len(tickets) == 1:
            return lines[0]
        return "\n".join([self.text("status_which", count=str(len(tickets))), *lines])

    def _one(self, t: TicketView, now: datetime) -> str:
        try:
            status = STATUS_WORDS[TicketStatus(t.status)]
        except ValueError:
            status = t.status
        holder = f"{t.department}的{t.assignee}" if t.assignee else (t.department or "客服中心")
        if t.due is None:
            due_text = "我们会持续跟进"
        elif t.due > now:
            left = int((t.due - now).total_seconds() // 60)
            span = f"{left // 60}小时{left % 60}分钟" if left >= 60 else f"{left}分钟"
            due_text = f"承诺在{t.due.astimezone(self._zone):%m月%d日 %H:%M}前完成，还剩约{span}"
        else:
            due_text = f"已超过承诺时间（{t.due.astimezone(self._zone):%m月%d日 %H:%M}），已自动提醒客服主管督办"
        return self.text("status_one", ticket_no=t.number, issue=t.summary, status=status, holder=holder,
                         due_text=due_text)
