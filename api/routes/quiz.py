"""Trainer scenario quizzes: build and assign, take, grade, results."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from api.deps import Agent, AssistantDep, PrincipalDep, SessionDep, Trainer
from api.errors import ApiError
from api.schemas_training import (
    GradeOut,
    QuizAnswerIn,
    QuizCreatedOut,
    QuizIn,
    QuizResultsOut,
    QuizScenarioOut,
    QuizSummaryOut,
    QuizTakeOut,
    ScenarioOut,
)
from api.security import Role
from assistant.quiz import RUBRIC, Grader, QuizAnswer, draw, pass_score
from assistant.store import quizzes

router = APIRouter(prefix="/api/quiz", tags=["training"])


def _grader(request: Request) -> Grader:
    grader: Grader | None = getattr(request.app.state, "grader", None)
    if grader is None:  # built on first use: the bank's must-say points are embedded once per worker
        service = request.app.state.assistant
        grader = Grader(service.kb, service.retriever.embedder)
        request.app.state.grader = grader
    return grader


@router.get("/scenarios", response_model=list[ScenarioOut])
def scenarios(assistant: AssistantDep, _: Trainer) -> list[ScenarioOut]:
    """The scenario bank with the expected handling (trainers only)."""
    return [ScenarioOut.of(s) for s in assistant.kb.scenarios]


@router.post("", status_code=201, response_model=QuizCreatedOut)
def create(body: QuizIn, session: SessionDep, assistant: AssistantDep, principal: Trainer) -> QuizCreatedOut:
    """Build a quiz from chosen scenarios or N random ones, and assign it to agents."""
    known = {s.id for s in assistant.kb.scenarios}
    if body.scenario_ids:
        unknown = [i for i in body.scenario_ids if i not in known]
        if unknown:
            raise ApiError(422, f"scenario_ids: unknown scenarios {unknown}", code="invalid_request")
        ids = list(dict.fromkeys(body.scenario_ids))
    elif body.count:
        try:
            ids = [s.id for s in draw(assistant.kb, count=body.count, difficulty=body.difficulty)]
        except ValueError as exc:
            raise ApiError(422, f"count: {exc}", code="invalid_request") from exc
    else:
        raise ApiError(422, "give scenario_ids or count", code="invalid_request")
    quiz = quizzes.add_quiz(session, title=body.title, created_by=principal.username, scenario_ids=ids,
                            assignees=list(dict.fromkeys(body.assignees)), now=datetime.now(UTC))
    return QuizCreatedOut(id=quiz.id, title=quiz.title, scenario_ids=ids, assignees=quiz.assignees)


@router.get("", response_model=list[QuizSummaryOut])
def mine(session: SessionDep, principal: PrincipalDep) -> list[QuizSummaryOut]:
    """Quizzes assigned to the calling agent, or every quiz for trainers and managers."""
    if principal.role not in (Role.AGENT, Role.TRAINER, Role.MANAGER, Role.ADMIN):
        raise ApiError(403, "this needs an agent or trainer role", code="forbidden")
    agent = principal.username if principal.role is Role.AGENT else None
    return [QuizSummaryOut.of(q) for q in quizzes.quizzes(session, agent=agent)]


@router.get("/{quiz_id}", response_model=QuizTakeOut)
def take(quiz_id: int, session: SessionDep, assistant: AssistantDep, principal: Agent) -> QuizTakeOut:
    """The scenarios of an assigned quiz: the residents' messages only (never the expected handling)."""
    quiz = quizzes.get_quiz(session, quiz_id=quiz_id, agent=principal.username)
    bank = {s.id: s for s in assistant.kb.scenarios}
    return QuizTakeOut(id=quiz.id, title=quiz.title, rubric=RUBRIC, scenarios=[
        QuizScenarioOut(id=sid, title=bank[sid].title, messages=bank[sid].messages) for sid in quiz.scenario_ids
        if sid in bank])


@router.post("/{quiz_id}/answers", response_model=GradeOut)
def answer(quiz_id: int, body: QuizAnswerIn, request: Request, session: SessionDep, assistant: AssistantDep,
           principal: Agent) -> GradeOut:
    """Grade and store one answer; the grade comes back with per-item feedback quoting the KB."""
    quiz = quizzes.get_quiz(session, quiz_id=quiz_id, agent=principal.username)
    if body.scenario_id not in quiz.scenario_ids:
        raise ApiError(422, f"scenario_id: {body.scenario_id} is not in quiz {quiz_id}", code="invalid_request")
    scenario = next(s for s in assistant.kb.scenarios if s.id == body.scenario_id)
    qa = QuizAnswer(body.category, body.urgency, body.department, body.time_limit_minutes, body.reply, body.seconds)
    grade = _grader(request).grade(scenario, qa)
    quizzes.add_attempt(session, quiz_id=quiz_id, agent=principal.username, scenario_id=scenario.id,
                        answer=body.model_dump(), grade=asdict(grade), score=grade.score, seconds=body.seconds,
                        now=datetime.now(UTC))
    return GradeOut.of(grade)


@router.get("/results/all", response_model=QuizResultsOut)
def results(session: SessionDep, assistant: AssistantDep, _: Trainer) -> QuizResultsOut:
    """Every agent's scores over time and the scenarios most often failed (below the kb's pass mark)."""
    return QuizResultsOut.of(quizzes.results(session, pass_score=pass_score(assistant.kb)))
