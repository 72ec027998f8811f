"""Errors raised when knowledge-base files are malformed.

KBError
 └── KBValidationError   a KB file breaks its schema; names the file and the field
"""

from __future__ import annotations

from pathlib import Path


class KBError(Exception):
    """Base class for knowledge-base failures."""


class KBValidationError(KBError):
    """A KB file is malformed: carries the file, the field path and the reason."""

    def __init__(self, path: Path, field: str, reason: str, *, located: bool = False) -> None:
        where = f"{path}: {field}" if field and not located else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.field = field
        self.reason = reason
