"""Shapes of the trainer's scenario quizzes: building one, an agent's answer, the bank, grades, results."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas import MAX_MESSAGE, _In
from assistant.quiz import ItemGrade
from assistant.store.quizzes import QuizResults
from assistant.store.tables import Quiz
from kb.schema import Difficulty, ExpectedHandling, Scenario


class QuizIn(_In):
    """A quiz: chosen scenarios, or N drawn at random (optionally of one difficulty), and its agents."""

    title: str = Field(min_length=1, max_length=128)
    scenario_ids: list[str] = Field(default_factory=list, max_length=50)
    count: int | None = Field(None, ge=1, le=50)
    difficulty: Difficulty | None = None
    assignees: list[str] = Field(min_length=1, max_length=100)


class QuizAnswerIn(_In):
    """An agent's answer to one scenario."""

    scenario_id: str = Field(min_length=1, max_length=32)
    category: str = Field(max_length=16)
    urgency: int = Field(ge=1, le=4)
    department: str = Field(max_length=32)
    time_limit_minutes: int = Field(ge=0, le=100_000)
    reply: str = Field(max_length=MAX_MESSAGE)
    seconds: float = Field(ge=0, le=86_400)


class ScenarioOut(BaseModel):
    """A scenario of the bank with its expected handling (trainers only)."""

    id: str
    title: str
    difficulty: Difficulty
    messages: list[str]
    expected: ExpectedHandling

    @classmethod
    def of(cls, s: Scenario) -> ScenarioOut:
        """Map a KB scenario."""
        return cls(id=s.id, title=s.title, difficulty=s.difficulty, messages=s.messages, expected=s.expected)


class QuizCreatedOut(BaseModel):
    """A quiz built and assigned."""

    id: int
    title: str
    scenario_ids: list[str]
    assignees: list[str]


class QuizSummaryOut(BaseModel):
    """A quiz in a list."""

    id: int
    title: str
    scenarios: int = Field(description="How many scenarios it has")
    assignees: list[str]
    created_at: datetime

    @classmethod
    def of(cls, q: Quiz) -> QuizSummaryOut:
        """Map a quiz row."""
        return cls(id=q.id, title=q.title, scenarios=len(q.scenario_ids), assignees=q.assignees,
                   created_at=q.created_at)


class QuizScenarioOut(BaseModel):
    """A scenario as the agent taking the quiz sees it: the residents' messages only."""

    id: str
    title: str
    messages: list[str]


class QuizTakeOut(BaseModel):
    """An assigned quiz to take, with the rubric it is graded by."""

    id: int
    title: str
    rubric: dict[str, int] = Field(description="Points per rubric line (100 in all)")
    scenarios: list[QuizScenarioOut]


class PointCheckOut(BaseModel):
    """One must-say point and whether the reply made it."""

    point: str
    best_sentence: str
    similarity: float
    made: bool


class GradeOut(BaseModel):
    """The grade of one answer, per rubric line, with feedback quoting the KB."""

    scenario_id: str
    score: float
    parts: dict[str, float]
    points: list[PointCheckOut]
    violations: list[str]
    feedback: list[str]

    @classmethod
    def of(cls, grade: ItemGrade) -> GradeOut:
        """Map a grade (its fields are this schema's)."""
        return cls.model_validate(grade, from_attributes=True)


class AttemptOut(BaseModel):
    """One graded answer of an agent."""

    at: datetime
    scenario: str
    score: float
    quiz: int | None
    seconds: float


class FailedScenarioOut(BaseModel):
    """A scenario agents often fail (score below the kb's pass mark)."""

    scenario: str
    failed: int
    attempts: int
    mean_score: float


class QuizResultsOut(BaseModel):
    """Every agent's scores over time, and the scenarios most often failed."""

    pass_score: float = Field(description="An answer below this fails (kb value ops.quiz_pass_score)")
    agents: dict[str, list[AttemptOut]]
    most_failed: list[FailedScenarioOut]

    @classmethod
    def of(cls, r: QuizResults) -> QuizResultsOut:
        """Map the results."""
        return cls.model_validate(r, from_attributes=True)
