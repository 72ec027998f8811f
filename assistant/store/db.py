"""Database engine, sessions and migrations: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout so concurrent writers wait."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # take the write lock at BEGIN so two writers never deadlock upgrading a read lock;
            # read-only work (see ``reader``) begins deferred and never waits for a writer (WAL)
            deferred = conn.get_execution_options().get("sqlite_read_only", False)
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def reader(engine: Engine) -> Engine:
    """The same engine and pool for read-only work: on SQLite its transactions never take the write lock."""
    return engine.execution_options(sqlite_read_only=True)


def alembic_config() -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


_STARTUP_LOCK = 7_274_611  # any constant: the id of the advisory lock workers take while starting up


def serialize_startup(conn: Connection | Session) -> None:
    """Make concurrent workers take turns for the rest of this transaction (migrations, demo accounts).

    PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing to do, ``BEGIN IMMEDIATE`` already
    gives one writer at a time.
    """
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    if bind.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _STARTUP_LOCK})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; safe when several workers start at once)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        serialize_startup(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
