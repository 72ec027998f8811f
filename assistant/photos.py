"""Photos: a resident's (or an agent's) picture for a ticket, decoded before it is kept, stored by content hash.

On disk (outside the web root, ``PhotoStore.root``)::

    <root>/<sha[:2]>/<sha>.jpg        the photo, re-encoded: EXIF (GPS, camera, time) dropped, orientation applied
    <root>/<sha[:2]>/<sha>.thumb.jpg  a thumbnail (longest side ``thumb_px``)

The hash is of the re-encoded bytes, so the same picture sent twice is stored once. A file is accepted only when
Pillow decodes all of it as JPEG, PNG, WebP or HEIC/HEIF within the byte and pixel limits; anything else — a
corrupt file, a text file named .jpg, a decompression bomb — is refused with a ``PhotoError`` naming why.
Files are written to a temporary name and renamed, so a crash never leaves half a photo.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from assistant.errors import AssistantError

ACCEPTED = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "HEIC", "MPO"})


class PhotoError(AssistantError):
    """A photo was refused; ``reason`` says why in words a resident understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Photo:
    """A stored photo."""

    sha256: str
    width: int
    height: int
    source_format: str
    size: int


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # HEIC is then refused as an unknown format, with the same clear message
        return
    register_heif_opener()


class PhotoStore:
    """Validates and keeps photos. Cheap ``__init__``; the folder is created on first store."""

    def __init__(self, root: Path, *, max_bytes: int = 10 * 1024 * 1024, max_pixels: int = 40_000_000,
                 thumb_px: int = 320) -> None:
        if max_bytes <= 0 or max_pixels <= 0 or thumb_px <= 0:
            raise ValueError(f"limits must be positive: max_bytes={max_bytes}, max_pixels={max_pixels}, "
                             f"thumb_px={thumb_px}")
        self.root = root
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.thumb_px = thumb_px
        _register_heif()

    def path(self, sha256: str, *, thumb: bool = False) -> Path:
        """Where a photo (or its thumbnail) lives; raises PhotoError for anything but a hex digest."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise PhotoError(f"not a photo id: {sha256[:80]!r}")
        return self.root / sha256[:2] / f"{sha256}{'.thumb' if thumb else ''}.jpg"

    def store(self, data: bytes) -> Photo:
        """Decode, check, strip metadata, re-encode and keep one photo.

        Raises:
            PhotoError: Empty, too large, not an accepted image format, corrupt, or too many pixels.
        """
        if not data:
            raise PhotoError("the file is empty")
        if len(data) > self.max_bytes:
            raise PhotoError(f"the file is {len(data) / 1e6:.1f} MB; photos up to {self.max_bytes / 1e6:.0f} MB "
                             "are accepted")
        try:
            with Image.open(io.BytesIO(data)) as probe:
                fmt = (probe.format or "").upper()
                if fmt not in ACCEPTED:
                    raise PhotoError(f"{fmt or 'this file'} is not accepted; send a JPEG, PNG, WebP or HEIC photo")
                if probe.width * probe.height > self.max_pixels:
                    raise PhotoError(f"the photo has {probe.width}×{probe.height} pixels; at most "
                                     f"{self.max_pixels:,} pixels are accepted")
                probe.load()  # decode all of it: a truncated or corrupt file fails here, not later
                image = ImageOps.exif_transpose(probe).convert("RGB")  # orientation kept, EXIF not copied
        except PhotoError:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
            raise PhotoError("the file is not a photo we can read (JPEG, PNG, WebP or HEIC)") from exc
        except (OSError, ValueError, SyntaxError) as exc:
            raise PhotoError(f"the photo is damaged and cannot be read ({type(exc).__name__})") from exc
        out = io.BytesIO()
        image.save(out, "JPEG", quality=88, optimize=True)  # no exif= argument: nothing of the original's metadata
        body = out.getvalue()
        sha = hashlib.sha256(body).hexdigest()
        target = self.path(sha)
        if not target.exists():
            thumb = image.copy()
            thumb.thumbnail((self.thumb_px, self.thumb_px))
            small = io.BytesIO()
            thumb.save(small, "JPEG", quality=80)
            self._write(self.path(sha, thumb=True), small.getvalue())
            self._write(target, body)
        return Photo(sha, image.width, image.height, fmt, len(body))

    def read(self, sha256: str, *, thumb: bool = False) -> bytes:
        """The stored bytes; raises PhotoError when there is no such photo."""
        path = self.path(sha256, thumb=thumb)
        if not path.is_file():
            raise PhotoError(f"no photo {sha256}")
        return path.read_bytes()

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
