"""Company documents uploaded by an administrator: checked, parsed, then stored atomically.

A document is only stored once it parses, so a corrupted PDF or DOCX never reaches the folder the next
ingest reads; a name that could leave the folder (``../``, ``/``, ``\\``) is refused, never rewritten.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ingest.errors import IngestError, LoaderError
from ingest.loaders import SUPPORTED, SourceDocument, load_document

MAX_BYTES = 10 * 1024 * 1024
_NAME = re.compile(r"^[\w\u4e00-\u9fff][\w\u4e00-\u9fff .()（）-]{0,119}$")


class UploadError(IngestError):
    """An uploaded document is refused; the message names the problem."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def check_name(name: str) -> str:
    """The file name to store under, or UploadError saying why it is refused."""
    if not name:
        raise UploadError("file name: missing")
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise UploadError(f"file name {name!r}: must be a plain name, without folders or '..'")
    if not _NAME.match(name):
        raise UploadError(f"file name {name!r}: use letters, digits, Chinese, spaces, '.', '-', '_' "
                          "(max 120 characters, not starting with '.')")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise UploadError(f"file name {name!r}: unsupported type {suffix or '(none)'}; "
                          f"supported: {', '.join(SUPPORTED)}")
    return name


def store(folder: Path, name: str, data: bytes) -> tuple[Path, SourceDocument]:
    """Validate and parse ``data``; on success move it into ``folder`` under ``name`` (replacing one there).

    Raises:
        UploadError: Bad name, empty, too large, or not a readable document of its type.
    """
    name = check_name(name)
    if not data:
        raise UploadError(f"{name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise UploadError(f"{name}: {len(data)} bytes is over the {MAX_BYTES // 2**20} MB limit", status=413)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=Path(name).suffix.lower(), dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            doc = load_document(Path(tmp))
        except LoaderError as exc:
            raise UploadError(f"{name}: {exc.reason}") from exc
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target, doc
