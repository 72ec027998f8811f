"""The server's background re-ingest: one at a time, progress readable, the live index swapped in when complete.

The previous index keeps serving until the new version is built and swapped (ingest/index.py); a failed build
leaves it serving and says why. The ingest is incremental: only entries whose text changed are embedded again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from assistant.retrieve import HybridRetriever
from ingest.settings import IngestSettings


@dataclass
class IngestJob:
    """The state of the one background ingest a server runs at a time."""

    state: str = "idle"  # idle | running | done | failed
    started: float | None = None
    finished: float | None = None
    message: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _running: bool = False
    _again: bool = False  # a KB change arrived during a build that may have read the KB before it

    def start(self, settings: IngestSettings, retriever: HybridRetriever, *, full: bool = False) -> bool:
        """Start a re-ingest on a background thread; False when one is already running."""
        with self._guard:
            if self._running:
                return False
            self._running = True
        self._launch(settings, retriever, full)
        return True

    def request(self, settings: IngestSettings, retriever: HybridRetriever) -> str:
        """Make a KB change live: start an incremental ingest, or have the running one build once more when it
        ends. Returns ``running`` or ``queued``."""
        with self._guard:
            if self._running:
                self._again = True
                return "queued"
            self._running = True
        self._launch(settings, retriever, False)
        return "running"

    def _launch(self, settings: IngestSettings, retriever: HybridRetriever, full: bool) -> None:
        self.done.clear()
        self.state, self.message = "running", "starting"  # before the thread: a poll right after sees it running
        threading.Thread(target=self._loop, args=(settings, retriever, full), name="ingest", daemon=True).start()

    def _loop(self, settings: IngestSettings, retriever: HybridRetriever, full: bool) -> None:
        while True:
            self._work(settings, retriever, full)
            with self._guard:
                if not self._again:
                    self._running = False
                    self.done.set()
                    return
                self._again, full = False, False

    def _work(self, settings: IngestSettings, retriever: HybridRetriever, full: bool) -> None:
        from ingest.corpus import collect
        from ingest.index import IndexBuilder
        from ingest.tokens import Segmenter

        self.state, self.started, self.finished, self.report, self.message = "running", time.time(), None, {}, \
            "loading KB"
        try:
            corpus = collect(settings)
            self.message = f"embedding {len(corpus.chunks)} chunks"
            report = IndexBuilder(settings.model_copy(update={"progress": False}), retriever.embedder,
                                  Segmenter(corpus.lexicon)).run(corpus.chunks, full=full)
            retriever.reload()
            self.state, self.message = "done", f"index {report.version} is live"
            self.report = {"version": report.version, "chunks": report.n_chunks, "vectors": report.n_vectors,
                           "embedded": report.vectors_embedded, "reused": report.vectors_reused,
                           "added": list(report.added), "changed": list(report.changed),
                           "removed": list(report.removed), "seconds": report.seconds}
        except Exception as exc:  # noqa: BLE001 - reported to the admin; the old index keeps serving
            self.state, self.message = "failed", f"{exc} (the previous index is still serving)"
        finally:
            self.finished = time.time()
