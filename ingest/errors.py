"""Errors raised while preparing the model, loading documents and building the index.

IngestError
 ├── ModelError            the embedding model cannot be prepared or loaded
 ├── LoaderError           a source document cannot be read or parsed
 ├── IndexMissingError     no index has been built yet at the configured path
 └── IndexMismatchError    the index on disk was built with another model or settings
"""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """Base class for every ingest failure."""


class ModelError(IngestError):
    """The embedding model cannot be prepared or loaded."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class LoaderError(IngestError):
    """A source document cannot be read or parsed; names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexMissingError(IngestError):
    """No index has been built at the configured directory."""

    def __init__(self, index_dir: Path) -> None:
        super().__init__(
            f"no index at {index_dir}: build it with `wuye ingest` (or `make run`)"
        )
        self.index_dir = index_dir


class IndexMismatchError(IngestError):
    """The index on disk does not match the configured model or settings."""

    def __init__(self, field: str, on_disk: object, configured: object) -> None:
        super().__init__(
            f"index was built with {field}={on_disk!r} but the configured {field} is "
            f"{configured!r}; rebuild it with `wuye ingest --full`"
        )
        self.field = field
        self.on_disk = on_disk
        self.configured = configured
