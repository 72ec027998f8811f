"""Operations commands: the server, the eval, the benchmarks and the profile."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from api.cli import wiring
from api.cli.app import app
from api.cli.console import fail
from api.settings import Settings


def _check_ready_to_serve(settings: Settings) -> None:
    """Fail before starting the server when the model or the index is missing or unreadable."""
    from ingest.errors import IngestError
    from ingest.index import KBIndex
    from ingest.model import is_prepared
    from ingest.onnx_model import check_exported
    from ingest.settings import Backend

    model = Path(settings.ingest.embedding_model)
    if (model.parts[:1] == ("var",) or model.is_absolute()) and not is_prepared(model):
        raise fail(f"embedding model folder {model} is missing or incomplete; run `wuye model prepare` "
                   "(or `make run`)")
    try:
        if settings.ingest.backend is Backend.ONNX_INT8:
            check_exported(model)
        KBIndex.load(settings.ingest.index_dir, model_id=wiring.embedder(settings).model_id)
    except IngestError as exc:
        raise fail(str(exc)) from exc


@app.command("serve")
def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings: 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker processes")] = 1,
) -> None:
    """Run the HTTP server: API, OpenAI-compatible endpoint and the web pages."""
    import uvicorn

    settings = wiring.settings()
    _check_ready_to_serve(settings)
    h, p = host or settings.api.host, port or settings.api.port
    if workers > 1 and settings.api.torch_threads is None:  # workers read it from the environment
        os.environ["WUYE_API__TORCH_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    if workers > 1 and settings.ingest.onnx_threads is None:  # the same share for the onnx-int8 backend
        os.environ["WUYE_INGEST__ONNX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    typer.echo(f"wuye serving on http://{h}:{p} ({settings.api.mode} mode, {workers} worker(s))", err=True)
    uvicorn.run("api.asgi:app", host=h, port=p, workers=workers, log_level="warning", factory=False)


@app.command("eval")
def eval_cmd(
    split: Annotated[str | None, typer.Option(help="dev or test (default: both)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON")] = False,
    out: Annotated[Path, typer.Option(help="Folder for report.json, report.md, report.html")] = Path("var/eval"),
    baselines: Annotated[bool, typer.Option(help="Also run BM25-only, dense-only, plain LangChain")] = True,
    limit: Annotated[int | None, typer.Option(help="Only the first N items of each dataset")] = None,
) -> None:
    """Score answers, retrieval, triage, escalation and tickets against baselines; write reports."""
    from eval.datasets import DatasetError, Split
    from eval.report import text_summary, write_reports
    from eval.run import run_eval

    splits: dict[str | None, Split | None] = {None: None, "dev": "dev", "test": "test"}
    if split not in splits:
        raise fail(f"--split must be dev or test, not {split!r}")
    settings = wiring.settings()
    service = wiring.service(settings)
    started = time.perf_counter()
    try:
        result = run_eval(service, split=splits[split], model_path=Path(settings.ingest.embedding_model),
                          baselines=baselines, limit=limit)
    except DatasetError as exc:
        raise fail(str(exc)) from exc
    paths = write_reports(result, out)
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
    else:
        typer.echo(text_summary(result))
    typer.echo(f"reports: {', '.join(str(p) for p in paths.values())} ({time.perf_counter() - started:.0f}s)",
               err=True)


@app.command("bench")
def bench_cmd(
    out: Annotated[Path, typer.Argument(help="Folder for bench.md and bench.json")] = Path("var/bench"),
) -> None:
    """`make bench`: ingest, query path, load, memory and vector search in one run (sizes: BENCH_* variables,
    see eval/bench.py)."""
    from eval.bench import main as bench

    settings = wiring.settings()
    bench(settings.ingest, settings.assistant, out)


@app.command("profile")
def profile_cmd(
    n: Annotated[int, typer.Option(min=1, help="handle calls to profile (dev questions, cycled)")] = 200,
    out: Annotated[Path, typer.Option(help="Folder for the HTML profile")] = Path("var/bench/profile"),
    interval: Annotated[float, typer.Option(min=0.0001, help="Sampling interval in seconds")] = 0.001,
) -> None:
    """Where the time of in-process ``AssistantService.handle`` calls goes (pyinstrument)."""
    from eval.profile import profile

    profile(wiring.service(wiring.settings()), n=n, out=out, interval=interval)


@app.command("bench-gaps")
def bench_gaps_cmd(
    n: Annotated[int, typer.Option(min=1, help="Questions for the clustering time")] = 10_000,
    repeats: Annotated[int, typer.Option(min=1, help="Clustering runs per method (the median is reported)")] = 5,
    out: Annotated[Path, typer.Option(help="Folder for gaps.json and gaps.md")] = Path("var/bench"),
    skip: Annotated[str, typer.Option(help="Comma-separated sections to skip: calibrate, timing, replay")] = "",
) -> None:
    """The gap report's figures: clustering quality, clustering time for N questions, a replay of failed questions."""
    from eval.bench_gaps import SECTIONS, run

    sections = frozenset(s.strip() for s in skip.split(",") if s.strip())
    if sections - set(SECTIONS):  # refused before the model loads
        raise fail(f"--skip: unknown section(s) {sorted(sections - set(SECTIONS))}; known: {', '.join(SECTIONS)}", 2)
    run(wiring.service(wiring.settings()), n=n, repeats=repeats, out=out, skip=sections)
