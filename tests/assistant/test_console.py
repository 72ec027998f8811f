"""The agent console's casework against a real database: suggestions with the household's similar tickets."""

from datetime import UTC, datetime

import pytest

from assistant.console import suggestions_for, year_before
from assistant.errors import TicketNotFoundError
from assistant.sla import deadlines_for
from assistant.store import repository as repo
from assistant.tickets import TicketStatus
from assistant.triage import Triager
from kb.schema import Category, Urgency

LEAP_DAY = datetime(2028, 2, 29, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "expected"), [
    pytest.param(LEAP_DAY, datetime(2027, 2, 28, 10, 0, tzinfo=UTC), id="29-february"),
    pytest.param(datetime(2027, 6, 1, 8, 30, tzinfo=UTC), datetime(2026, 6, 1, 8, 30, tzinfo=UTC), id="ordinary"),
])
def test_a_year_before(moment: datetime, expected: datetime) -> None:
    assert year_before(moment) == expected


def _ticket(session, rules, now: datetime, *, category: Category = Category.ENGINEERING,  # type: ignore[no-untyped-def]
            address: str = "3栋2单元501室", description: str = "卫生间水龙头滴水") -> str:
    deadlines = deadlines_for(rules, urgency=Urgency.LEVEL_3, category=category, kinds=(), created_at=now)
    return repo.create_ticket(session, actor="agent", now=now, deadlines=deadlines, resident_name="王女士",
                              phone="13912345678", address=address, description=description,
                              category=category.value, urgency=3, department="工程部", route="水电").number or ""


def test_suggestions_on_29_february_list_the_households_tickets_of_the_year(sessions, real_kb) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        too_old = _ticket(s, real_kb.rules, datetime(2027, 2, 27, 9, 0, tzinfo=UTC))
        earlier = _ticket(s, real_kb.rules, datetime(2027, 6, 1, 9, 0, tzinfo=UTC), description="厨房水龙头漏水")
        for target, extra in ((TicketStatus.DISPATCHED, {"assignee": "张师傅"}), (TicketStatus.IN_PROGRESS, {}),
                              (TicketStatus.RESOLVED, {"photos": ["after.jpg"], "note": "更换了阀芯"})):
            repo.transition(s, number=earlier, target=target, actor="agent", now=datetime(2027, 6, 1, 12, 0, tzinfo=UTC),
                            **extra)
        _ticket(s, real_kb.rules, datetime(2027, 9, 1, 9, 0, tzinfo=UTC), category=Category.CLEANING)
        _ticket(s, real_kb.rules, datetime(2027, 9, 2, 9, 0, tzinfo=UTC), address="9栋101室")
        today = _ticket(s, real_kb.rules, LEAP_DAY)
    with sessions() as s:
        found = suggestions_for(s, real_kb, Triager(real_kb.rules), number=today, agent="客服 小李", draft="好的")
    assert too_old not in {t.number for t in found.similar}
    assert [(t.number, t.status, t.resolution) for t in found.similar] == [(earlier, "resolved", "更换了阀芯")]
    assert found.ticket == today and len(found.suggestions) == 3
    assert {s.style.value for s in found.suggestions} == {"short", "warm", "full"}
    assert all(s.lint.ok for s in found.suggestions) and "小李" in "".join(s.text for s in found.suggestions)
    assert found.draft_lint is not None and not found.draft_lint.ok  # "好的" commits to nothing


def test_suggestions_for_an_unknown_ticket_name_it(sessions, real_kb) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s, pytest.raises(TicketNotFoundError, match="GD20280229-999999"):
        suggestions_for(s, real_kb, Triager(real_kb.rules), number="GD20280229-999999", agent="")
