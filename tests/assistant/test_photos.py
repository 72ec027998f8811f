"""Photos are decoded before they are kept, lose their EXIF (GPS), and are stored once by content hash."""

import io
from pathlib import Path

import pytest
from PIL import Image

from assistant.photos import PhotoError, PhotoStore


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 26.0), 3: "E", 4: (116.0, 23.0, 29.0)}  # GPS: a home's position
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def _png(size=(300, 200), mode="RGBA") -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    Image.new(mode, size, (0, 128, 255, 200) if mode == "RGBA" else (0, 128, 255)).save(buf, "PNG")
    return buf.getvalue()


def _webp() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (10, 200, 10)).save(buf, "WEBP")
    return buf.getvalue()


def _heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", (128, 96), (40, 40, 200)).save(buf, "HEIF")
    return buf.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> PhotoStore:
    return PhotoStore(tmp_path / "photos", max_bytes=2 * 1024 * 1024, max_pixels=5_000_000)


def test_gps_and_camera_data_are_stripped(store: PhotoStore) -> None:
    original = _jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif()  # the phone's photo carries EXIF
    photo = store.store(original)
    kept = Image.open(io.BytesIO(store.read(photo.sha256)))
    assert not kept.getexif() and kept.size == (640, 480)
    thumb = Image.open(io.BytesIO(store.read(photo.sha256, thumb=True)))
    assert max(thumb.size) == 320


@pytest.mark.parametrize("make", [pytest.param(_png, id="png"), pytest.param(_webp, id="webp"),
                                  pytest.param(_heic, id="heic")])
def test_accepted_formats_are_kept_as_jpeg(store: PhotoStore, make) -> None:  # type: ignore[no-untyped-def]
    photo = store.store(make())
    assert Image.open(io.BytesIO(store.read(photo.sha256))).format == "JPEG"


def test_the_same_photo_twice_is_stored_once(store: PhotoStore, tmp_path: Path) -> None:
    a = store.store(_png(mode="RGB"))
    b = store.store(_png(mode="RGB"))
    assert a.sha256 == b.sha256
    assert len(list((tmp_path / "photos").rglob("*.jpg"))) == 2  # the photo and its thumbnail


@pytest.mark.parametrize(("data", "reason"), [
    pytest.param(b"", "empty", id="empty"),
    pytest.param(b"hello, this is not a photo", "not a photo", id="text-named-jpg"),
    pytest.param(b"%PDF-1.4 fake", "not a photo", id="pdf"),
    pytest.param(_jpeg_with_gps()[:400], "damaged", id="truncated-jpeg"),
    pytest.param(b"GIF89a" + b"\x00" * 50, "not", id="gif"),
])
def test_corrupt_or_disguised_files_are_refused_naming_why(store: PhotoStore, data: bytes, reason: str) -> None:
    with pytest.raises(PhotoError, match=reason):
        store.store(data)


def test_size_and_pixel_limits(tmp_path: Path) -> None:
    small = PhotoStore(tmp_path / "p", max_bytes=1000, max_pixels=10_000)
    with pytest.raises(PhotoError, match="MB"):
        small.store(b"x" * 2000)
    tiny_limit = PhotoStore(tmp_path / "q", max_pixels=10_000)
    with pytest.raises(PhotoError, match="pixels"):
        tiny_limit.store(_png(size=(200, 200), mode="RGB"))


def test_photo_ids_are_hex_digests_only(store: PhotoStore) -> None:
    with pytest.raises(PhotoError):
        store.path("../../etc/passwd")
