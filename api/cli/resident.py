"""Resident commands: ask the KB, triage messages, chat in the terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from api.cli import batch, wiring
from api.cli.app import app
from api.cli.console import echo_json, fail, message
from api.schemas_knowledge import AskOut, TriageOut


@app.command("ask")
def ask_cmd(
    text: Annotated[str | None, typer.Argument(help="The resident's question")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    batch_in: Annotated[Path | None, typer.Option("--batch", help="JSONL of {\"id\",\"text\"} lines")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --batch writes its JSONL answers")] = None,
) -> None:
    """Answer a question from the KB with citations, or say it is not covered and hand off."""
    items = batch.inputs(text, batch_in, out, "question")  # a bad file fails before the model loads
    text = message(text, "question") if text is not None else None
    service = wiring.service(wiring.settings())
    if batch_in is not None and out is not None:
        batch.run(items, out, lambda ln: AskOut.of(service.handle(ln.text, profile=ln.profile())).model_dump(
            mode="json"), "questions")
        return
    assert text is not None
    reply = service.handle(text)
    if as_json:
        echo_json(AskOut.of(reply))
        return
    typer.echo(reply.text)
    if reply.citations:  # a terminal has no citation cards: name the sources on their own line
        from assistant.compose import source_line

        typer.echo(source_line(reply.citations))


@app.command("triage")
def triage_cmd(
    text: Annotated[str | None, typer.Argument(help="One resident message")] = None,
    batch_in: Annotated[Path | None, typer.Option("--batch", help="JSONL of {\"id\",\"text\",\"resident\"?} "
                                                                 "lines")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --batch writes its JSONL results")] = None,
) -> None:
    """Triage messages: category, urgency 1–4, department, escalation, deadlines, missing fields, reply."""
    from assistant.desk import case_deadlines

    items = batch.inputs(text, batch_in, out, "message")  # a bad file fails before the model loads
    text = message(text) if text is not None else None
    service = wiring.service(wiring.settings())

    def one(said: str, line: batch.BatchLine | None = None) -> TriageOut:
        reply = service.handle(said, profile=line.profile() if line else None)
        return TriageOut.of(reply, case_deadlines(service, reply))

    if batch_in is not None and out is not None:
        batch.run(items, out, lambda ln: one(ln.text, ln).model_dump(mode="json"), "messages")
        return
    assert text is not None
    echo_json(one(text))


@app.command("chat")
def chat_cmd(
    conversation: Annotated[str | None, typer.Option(help="Continue this conversation id")] = None,
) -> None:
    """Chat with the assistant as a resident (multi-turn; tickets are stored in the database)."""
    from assistant.desk import handle_turn
    from assistant.errors import ConversationNotFoundError

    settings = wiring.settings()
    service = wiring.service(settings)
    sessions = wiring.sessions(settings)
    company = service.kb.values.get("company.name")
    conv_id = conversation
    typer.echo(f"您好，这里是{company.value if company else ''}客服助手。请描述您的问题（空行或 Ctrl-D 退出）。")
    for line in sys.stdin:
        if not line.strip():
            break
        try:
            with sessions.begin() as session:
                reply, turn = handle_turn(session, service, text=message(line), conversation_id=conv_id)
                conv_id = turn.conversation_id
        except ConversationNotFoundError as exc:
            raise fail(str(exc)) from exc
        if reply.emergency:
            typer.secho("【紧急】", fg=typer.colors.RED, bold=True, nl=False)
        typer.echo(reply.text)
        if reply.ticket_number:
            typer.secho(f"工单号：{reply.ticket_number}", fg=typer.colors.GREEN)
    typer.echo(f"(conversation {conv_id})", err=True)
