"""Tickets in a real SQLite database: numbers, lifecycle with audit trail, SLA monitor, concurrency."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from assistant.errors import TicketNotFoundError, TransitionError
from assistant.monitor import SlaMonitor
from assistant.sla import callback_deadline, deadlines_for
from assistant.store import repository as repo
from assistant.store.db import migrate
from assistant.store.tables import DeadlineRow, Ticket, TicketEvent
from assistant.tickets import TicketStatus
from kb.schema import Category, Urgency


def _create(session, rules, now, urgency=Urgency.LEVEL_3, category=Category.ENGINEERING, address="3栋2单元501室"):
    deadlines = deadlines_for(rules, urgency=urgency, category=category, kinds=(), created_at=now)
    return repo.create_ticket(
        session, actor="assistant", now=now, deadlines=deadlines, notifications=[("escalation", "工程部", "x")],
        resident_name="王女士", phone="13912345678", address=address, description="卫生间水龙头滴水",
        category=category.value, urgency=int(urgency), department="工程部", route="水电",
    )


def test_ticket_gets_a_readable_number_events_and_deadlines(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        t = _create(s, real_kb.rules, clock())
        number = t.number
    assert number == "GD20261127-000001"
    with sessions() as s:
        t = repo.get_ticket(s, number=number)
        assert t.status == "submitted"
        assert [(e.from_status, e.to_status) for e in t.events] == [("draft", "submitted")]
        keys = {d.key: d for d in t.deadlines}
        assert keys["level3"].minutes == 1440
        assert keys["ack_online"].met_at is not None  # acknowledged by the ticket number itself


def test_full_lifecycle_keeps_an_audit_trail(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        number = _create(s, real_kb.rules, clock()).number
    steps = [
        (TicketStatus.DISPATCHED, {"assignee": "张师傅"}),
        (TicketStatus.IN_PROGRESS, {}),
        (TicketStatus.RESOLVED, {"photos": ["after.jpg"], "note": "更换阀芯"}),
    ]
    for target, kwargs in steps:
        clock.advance(minutes=30)
        with sessions.begin() as s:
            repo.transition(s, number=number, target=target, actor="agent1", now=clock(), **kwargs)
    with sessions.begin() as s:
        cb = callback_deadline(real_kb.rules, category=Category.ENGINEERING, resolved_at=clock())
        repo.transition(s, number=number, target=TicketStatus.CALLBACK_DONE, actor="agent1", now=clock(),
                        note="业主满意", satisfaction=5)
        assert cb is not None and cb.minutes == 1440
    with sessions() as s:
        t = repo.get_ticket(s, number=number)
        assert [e.to_status for e in t.events] == ["submitted", "dispatched", "in_progress", "resolved",
                                                   "callback_done"]
        assert all(e.actor and e.at for e in t.events)
        assert t.satisfaction == 5
        assert {d.key: d.met_at is not None for d in t.deadlines}["level3"]


def test_bad_transition_changes_nothing(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        number = _create(s, real_kb.rules, clock()).number
    with pytest.raises(TransitionError, match="photo"), sessions.begin() as s:
        repo.transition(s, number=number, target=TicketStatus.DISPATCHED, actor="a", now=clock(), assignee="x")
        repo.transition(s, number=number, target=TicketStatus.IN_PROGRESS, actor="a", now=clock())
        repo.transition(s, number=number, target=TicketStatus.RESOLVED, actor="a", now=clock(), note="done")
    with sessions() as s:
        t = repo.get_ticket(s, number=number)
        assert t.status == "submitted"
        assert len(t.events) == 1


def test_resident_cannot_see_another_residents_ticket(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        a = repo.add_resident(s, name="甲")
        b = repo.add_resident(s, name="乙")
        t = _create(s, real_kb.rules, clock())
        t.resident_id = a.id
        number, b_id = t.number, b.id
    with sessions() as s, pytest.raises(TicketNotFoundError):
        repo.get_ticket(s, number=number, resident_id=b_id)


def test_sla_monitor_warns_then_breaches_exactly_once_and_survives_restart(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        number = _create(s, real_kb.rules, clock(), urgency=Urgency.LEVEL_2).number  # 2 h to resolve
    monitor = SlaMonitor(sessions, real_kb.rules, clock=clock)
    clock.advance(minutes=60)
    assert monitor.run_once().warnings == 0
    clock.advance(minutes=37)  # 97 min of 120 → past 80 %
    assert monitor.run_once().warnings == 1
    assert monitor.run_once().warnings == 0
    restarted = SlaMonitor(sessions, real_kb.rules, clock=clock)  # state lives in the database
    assert restarted.run_once().warnings == 0
    clock.advance(minutes=30)
    assert restarted.run_once().breaches == 1
    assert restarted.run_once().breaches == 0
    with sessions() as s:
        t = repo.get_ticket(s, number=number)
        kinds = [n.kind for n in repo.notifications(s, ticket_id=t.id)]
        assert kinds.count("sla_warning") == 1 and kinds.count("sla_breach") == 1
        resident = [n.message for n in repo.notifications(s, ticket_id=t.id, kind="resident_notice")]
        assert any("原因" in m for m in resident)
        row = next(d for d in t.deadlines if d.key == "level2")
        assert row.warned_at is not None and row.breached_at is not None


def test_only_one_worker_sweeps_and_a_standby_takes_over_when_the_leader_dies(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        _create(s, real_kb.rules, clock(), urgency=Urgency.LEVEL_2)
    workers = [SlaMonitor(sessions, real_kb.rules, clock=clock, interval=5) for _ in range(3)]

    def tick_all() -> list[bool]:
        with ThreadPoolExecutor(max_workers=3) as pool:
            return [r is not None for r in pool.map(lambda m: m.tick(), workers)]

    first = tick_all()
    assert first.count(True) == 1  # one leader, two standbys
    leader = first.index(True)
    assert workers[leader].is_leader() and not any(w.is_leader() for i, w in enumerate(workers) if i != leader)
    clock.advance(seconds=5)
    assert tick_all() == first  # the leader renews; the others keep waiting
    clock.advance(minutes=97)  # the leader "dies": it stops renewing, its lease runs out
    survivors = [w for i, w in enumerate(workers) if i != leader]
    results = [w.tick() for w in survivors]
    taken = [r for r in results if r is not None]
    assert len(taken) == 1 and taken[0].warnings == 1  # the new leader sweeps, the warning is sent once


def test_met_deadline_never_warns(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        number = _create(s, real_kb.rules, clock(), urgency=Urgency.LEVEL_1).number  # 30 min on site
    clock.advance(minutes=10)
    with sessions.begin() as s:
        repo.transition(s, number=number, target=TicketStatus.DISPATCHED, actor="a", now=clock(), assignee="x")
        repo.transition(s, number=number, target=TicketStatus.IN_PROGRESS, actor="a", now=clock())
    clock.advance(minutes=60)
    result = SlaMonitor(sessions, real_kb.rules, clock=clock).run_once()
    assert result.warnings == 0 and result.breaches == 0


def test_concurrent_ticket_creation_gives_unique_numbers(sessions, real_kb, clock) -> None:
    def create(i: int) -> str:
        with sessions.begin() as s:
            return _create(s, real_kb.rules, clock(), address=f"{i % 9 + 1}栋{i}室").number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(60)))
    assert len(set(numbers)) == 60
    with sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 60
        assert s.scalar(select(func.count(TicketEvent.id))) == 60
        assert s.scalar(select(func.count(DeadlineRow.id))) >= 120


def test_migrations_are_idempotent(sessions) -> None:
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect, text

    from assistant.store.db import alembic_config

    engine = sessions.kw["bind"]

    def schema() -> tuple[list[str], list[str]]:
        with engine.connect() as conn:
            versions = [str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()]
        return versions, sorted(inspect(engine).get_table_names())

    before = schema()
    migrate(engine)
    migrate(engine)
    assert schema() == before
    assert before[0] == [ScriptDirectory.from_config(alembic_config()).get_current_head()]  # the newest, once
    assert {"ticket", "turn", "conversation"} <= set(before[1])


def test_household_history_finds_earlier_tickets(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        _create(s, real_kb.rules, clock())
        _create(s, real_kb.rules, clock(), address="9栋101室")
    with sessions() as s:
        items = repo.household_tickets(s, address="3栋2单元501室", since=clock().replace(year=2026, month=1))
        assert [i.description for i in items] == ["卫生间水龙头滴水"]


def test_the_migrated_schema_matches_the_tables(sessions) -> None:
    """Every table and column the ORM declares (the improvement loop's too) exists as migrated, nothing else."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assistant.store.tables import Base

    with sessions.kw["bind"].connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_correction_and_a_visit_time_amend_the_ticket_with_an_audit_event(sessions, real_kb, clock) -> None:
    with sessions.begin() as s:
        number = _create(s, real_kb.rules, clock()).number
    with sessions.begin() as s:
        repo.amend_ticket(s, number=number, fields={"phone": "13900001111", "preferred_time": "明天下午两点以后都在家"},
                          actor="resident", now=clock())
    with sessions.begin() as s:  # the same again changes nothing and adds no event
        repo.amend_ticket(s, number=number, fields={"preferred_time": "明天下午两点以后都在家"}, actor="resident",
                          now=clock())
    with sessions() as s:
        t = repo.get_ticket(s, number=number)
        assert t.phone == "13900001111" and t.details["preferred_time"] == "明天下午两点以后都在家"
        notes = [e.note for e in t.events if e.note and "业主更正" in e.note]
        assert len(notes) == 1 and "预约上门时间" in notes[0] and "13900001111" in notes[0]
