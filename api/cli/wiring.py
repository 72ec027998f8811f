"""The one place the commands build what they use: settings, the embedder, the retriever, the service, the database.

Each builder fails with a one-line error naming the fix (``wuye model prepare``, ``wuye ingest``) instead of a
traceback. The HTTP server has its own root (``api/app.py``); the eval and the benchmarks get what they need from
here, passed in (``eval/`` never reads the settings itself).
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from api.cli.console import fail
from api.settings import Settings, get_settings
from assistant.retrieve import HybridRetriever
from assistant.service import AssistantService
from assistant.store.db import make_engine, make_sessionmaker, migrate
from ingest.embed import Embedder, build_embedder
from ingest.errors import IngestError
from kb.errors import KBValidationError
from kb.load import KnowledgeBase, load_kb


def settings() -> Settings:
    """The settings (environment and ``.env``), read once."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise fail(f"invalid configuration: {exc}") from exc


def embedder(s: Settings) -> Embedder:
    """The configured embedder, not loaded yet (``ingest.embed.build_embedder``)."""
    return build_embedder(s.ingest)


def knowledge_base(s: Settings) -> KnowledgeBase:
    """The KB files, validated."""
    try:
        return load_kb(s.ingest.kb_root)
    except KBValidationError as exc:
        raise fail(str(exc)) from exc


def retriever(s: Settings) -> HybridRetriever:
    """The hybrid retriever over the live index, warmed (model and index loaded)."""
    r = HybridRetriever(s.assistant.retrieval, embedder(s), s.ingest.index_dir)
    try:
        r.warm_up()
    except IngestError as exc:
        raise fail(str(exc)) from exc
    return r


def service(s: Settings) -> AssistantService:
    """The assistant the product runs, warmed: the KB, the model, the index, the optional LLM."""
    try:
        built = AssistantService.from_settings(s.ingest, s.assistant)
        built.warm_up()
    except (IngestError, KBValidationError) as exc:
        raise fail(str(exc)) from exc
    return built


def sessions(s: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, migrated to the newest schema."""
    engine = make_engine(s.assistant.database_url)
    migrate(engine)
    return make_sessionmaker(engine)
