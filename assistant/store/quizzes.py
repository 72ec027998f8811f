"""Quizzes and graded attempts in the database (SQL for training lives here)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.errors import TicketNotFoundError
from assistant.store.tables import Attempt, Quiz


def add_quiz(session: Session, *, title: str, created_by: str, scenario_ids: list[str], assignees: list[str],
             now: datetime) -> Quiz:
    """Create a quiz."""
    quiz = Quiz(title=title, created_by=created_by, scenario_ids=scenario_ids, assignees=assignees, created_at=now)
    session.add(quiz)
    session.flush()
    return quiz


def get_quiz(session: Session, *, quiz_id: int, agent: str | None = None) -> Quiz:
    """A quiz; for an agent only one assigned to them (others look absent)."""
    quiz = session.get(Quiz, quiz_id)
    if quiz is None or (agent is not None and agent not in quiz.assignees):
        raise TicketNotFoundError(f"quiz {quiz_id}")
    return quiz


def quizzes(session: Session, *, agent: str | None = None) -> list[Quiz]:
    """All quizzes (trainers) or those assigned to an agent, newest first."""
    rows = session.scalars(select(Quiz).order_by(Quiz.id.desc())).all()
    return [q for q in rows if agent is None or agent in q.assignees]


def add_attempt(session: Session, *, quiz_id: int | None, agent: str, scenario_id: str, answer: dict[str, Any],
                grade: dict[str, Any], score: float, seconds: float, now: datetime) -> Attempt:
    """Store a graded answer."""
    attempt = Attempt(quiz_id=quiz_id, agent=agent, scenario_id=scenario_id, answer=answer, grade=grade, score=score,
                      seconds=seconds, created_at=now)
    session.add(attempt)
    session.flush()
    return attempt


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One graded answer of an agent."""

    at: datetime
    scenario: str
    score: float
    quiz: int | None
    seconds: float


@dataclass(frozen=True, slots=True)
class FailedScenario:
    """A scenario agents often fail: how many answers fell below the pass mark, of how many."""

    scenario: str
    failed: int
    attempts: int
    mean_score: float


@dataclass(frozen=True, slots=True)
class QuizResults:
    """Every agent's scores over time, and the ten scenarios most often failed."""

    pass_score: float
    agents: dict[str, list[AttemptRow]]
    most_failed: list[FailedScenario]


def results(session: Session, *, pass_score: float) -> QuizResults:
    """Each agent's scores over time, and the scenarios most often failed (score below ``pass_score``)."""
    rows = session.scalars(select(Attempt).order_by(Attempt.created_at)).all()
    by_agent: dict[str, list[AttemptRow]] = defaultdict(list)
    scores: dict[str, list[float]] = defaultdict(list)
    for a in rows:
        by_agent[a.agent].append(AttemptRow(a.created_at, a.scenario_id, a.score, a.quiz_id, a.seconds))
        scores[a.scenario_id].append(a.score)
    hardest = sorted((FailedScenario(sid, sum(s < pass_score for s in ss), len(ss), round(sum(ss) / len(ss), 1))
                      for sid, ss in scores.items()), key=lambda f: (-f.failed, f.mean_score))
    return QuizResults(pass_score, dict(by_agent), hardest[:10])
