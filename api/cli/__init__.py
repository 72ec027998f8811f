"""The ``wuye`` command line (the CLI's composition root): one Typer app, its commands in a module per area.

- ``knowledge``: model prepare, kb lint, kb gaps, ingest, search
- ``resident``: ask, triage, chat
- ``staff``: suggest, lint-reply, quiz take
- ``ops``: serve, eval, bench, profile, bench-gaps

``wiring`` is the one place that builds what the commands use (settings, embedder, retriever, service, database).
"""

from api.cli import knowledge, ops, resident, staff
from api.cli.app import app, main

__all__ = ["app", "knowledge", "main", "ops", "resident", "staff"]
