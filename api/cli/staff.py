"""Staff commands: suggested replies for a ticket, the reply linter, a quiz in the terminal."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer

from api.cli import wiring
from api.cli.app import app, quiz_app
from api.cli.console import echo_json, fail, message
from api.schemas_agent import LintOut, SuggestionOut
from kb.schema import Difficulty, Situation

SAFETY_KINDS = ("unsafe", "wrong_promise", "contradiction")  # printed in bold: a reply that endangers someone


@app.command("lint-reply")
def lint_reply_cmd(
    text: Annotated[str, typer.Argument(help="The agent's reply")],
    situation: Annotated[list[Situation] | None, typer.Option(help="What the reply answers (default: first_contact "
                                                                   "and repair)")] = None,
    urgency: Annotated[int | None, typer.Option(min=1, max=4, help="The case's level: promised times are checked "
                                                                   "against it (emergency implies 1)")] = None,
    context: Annotated[str, typer.Option(help="The resident's message, for the hazard cues (煤气味, 着火…)")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Check a reply for unsafe advice, wrong promises, policy contradictions, banned phrases and missing elements.

    Safety findings come first, located in the text, with the KB clause quoted and a safe wording.
    """
    from assistant.advice import CaseAdvice
    from assistant.console import FIRST_REPLY
    from assistant.replies import ReplyLinter
    from kb.schema import Urgency

    text = message(text, "reply")
    kb = wiring.knowledge_base(wiring.settings())
    result = ReplyLinter(kb.rules, clauses=kb.clause_index()).run(
        text, situations=tuple(situation or FIRST_REPLY), case=CaseAdvice(context=context),
        urgency=Urgency(urgency) if urgency is not None else None)
    if as_json:
        echo_json(LintOut.of(result))
    else:
        for f in result.findings:
            where = f" at {f.start}–{f.end}「{f.text}」" if f.text else ""
            typer.secho(f"{f.rule}{where}: {f.message}", fg=typer.colors.RED, bold=f.kind in SAFETY_KINDS)
            if f.quote:
                typer.echo(f"   依据 {f.quote}")
            typer.echo(f"   → {f.suggestion}  ({', '.join(f.basis)})")
        typer.secho("ok: no unsafe advice, no banned phrase, every required element present" if result.ok
                    else f"{len(result.findings)} finding(s)", fg=typer.colors.GREEN if result.ok else None)
    if not result.ok:
        raise typer.Exit(1)


@app.command("suggest")
def suggest_cmd(
    ticket: Annotated[str, typer.Option("--ticket", help="Ticket number, e.g. GD20261127-000001")],
    agent: Annotated[str, typer.Option(help="The agent's display name (scripts that need it are skipped without)")]
    = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Three different suggested replies for a stored ticket (short, warm, full), filled, cited and linted."""
    from assistant.console import suggestions_for
    from assistant.errors import TicketNotFoundError
    from assistant.triage import Triager

    settings = wiring.settings()
    kb = wiring.knowledge_base(settings)
    with wiring.sessions(settings)() as session:
        try:
            found = suggestions_for(session, kb, Triager(kb.rules), number=ticket, agent=agent)
        except TicketNotFoundError as exc:
            raise fail(str(exc)) from exc
    if as_json:
        echo_json([SuggestionOut.of(s) for s in found.suggestions])
        return
    for i, s in enumerate(found.suggestions, 1):
        typer.secho(f"{i}. [{s.style.value}] {s.script_id}  依据 {', '.join(s.basis)}", bold=True)
        typer.echo(f"   {s.text}")


@quiz_app.command("take")
def quiz_take(
    agent: Annotated[str, typer.Option(help="Your agent user name (attempts are stored under it)")],
    quiz: Annotated[int | None, typer.Option(help="An assigned quiz id; default: draw scenarios at random")] = None,
    count: Annotated[int, typer.Option(min=1, max=50, help="Scenarios to draw when no quiz is given")] = 3,
    difficulty: Annotated[Difficulty | None, typer.Option(help="Only scenarios of this difficulty")] = None,
) -> None:
    """Take a quiz in the terminal: for each scenario choose category/urgency/department/time limit and
    write your reply; it is graded at once (with the real model) and stored."""
    from assistant.errors import TicketNotFoundError
    from assistant.quiz import Grader, QuizAnswer, draw, pass_score
    from assistant.store import quizzes

    settings = wiring.settings()
    service = wiring.service(settings)
    kb = service.kb
    sessions = wiring.sessions(settings)
    if quiz is not None:
        with sessions() as session:
            try:
                ids = quizzes.get_quiz(session, quiz_id=quiz, agent=agent).scenario_ids
            except TicketNotFoundError as exc:
                raise fail(f"{exc} (or not assigned to {agent})") from exc
        chosen = [s for s in kb.scenarios if s.id in ids]
    else:
        try:
            chosen = draw(kb, count=count, difficulty=difficulty)
        except ValueError as exc:
            raise fail(str(exc)) from exc
    grader = Grader(kb, service.retriever.embedder)
    passing = pass_score(kb)
    total = 0.0
    for n, scenario in enumerate(chosen, 1):
        typer.secho(f"\n[{n}/{len(chosen)}] {scenario.title}（{scenario.difficulty}）", bold=True)
        for m in scenario.messages:
            typer.echo(f"  业主：{m}")
        started = time.perf_counter()
        category = typer.prompt("类别（工程/保洁/安保/投诉/费用/咨询建议）")
        urgency = typer.prompt("紧急程度（1-4）", type=int)
        department = typer.prompt("负责部门")
        limit = typer.prompt("承诺时限（分钟）", type=int)
        reply = typer.prompt("你的回复")
        answer = QuizAnswer(category, urgency, department, limit, reply, time.perf_counter() - started)
        grade = grader.grade(scenario, answer)
        total += grade.score
        typer.secho(f"  得分 {grade.score:.0f}/100  {grade.parts}",
                    fg=typer.colors.GREEN if grade.score >= passing else typer.colors.RED)
        for line in grade.feedback:
            typer.echo(f"  - {line}")
        with sessions.begin() as session:
            quizzes.add_attempt(session, quiz_id=quiz, agent=agent, scenario_id=scenario.id, answer=asdict(answer),
                                grade=asdict(grade), score=grade.score, seconds=answer.seconds,
                                now=datetime.now(UTC))
    typer.echo(f"\n平均分 {total / max(len(chosen), 1):.1f}")
