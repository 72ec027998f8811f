"""Alembic environment: runs migrations on the connection handed over by ``assistant.store.db``."""

from __future__ import annotations

from alembic import context

from assistant.store.tables import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through assistant.store.db.migrate(engine)")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
