"""The Typer application and its command groups, and the console script's entry point."""

from __future__ import annotations

import logging

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="wuye — 物业客服知识库助手")
model_app = typer.Typer(no_args_is_help=True, help="The embedding model.")
kb_app = typer.Typer(no_args_is_help=True, help="The knowledge base files.")
quiz_app = typer.Typer(no_args_is_help=True, help="Trainer scenario quizzes.")
app.add_typer(model_app, name="model")
app.add_typer(kb_app, name="kb")
app.add_typer(quiz_app, name="quiz")


def main() -> None:
    """Entry point of the ``wuye`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "jieba", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from assistant.privacy import install_log_masking

    install_log_masking()
    app()
