"""Photos over HTTP: a resident attaches one to their own ticket, staff see it, nobody else does."""

import io

import pytest
from PIL import Image

pytestmark = pytest.mark.integration


def _jpeg() -> bytes:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 26.0)}
    Image.new("RGB", (400, 300), (120, 60, 20)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_resident_uploads_a_photo_for_their_ticket_and_the_agent_sees_it(client, login) -> None:  # type: ignore[no-untyped-def]
    resident, agent = login("resident"), login("agent")
    number = client.post("/api/chat", json={"message": "卫生间水龙头一直滴水，3栋2单元501，王女士13912345678"},
                         headers=resident).json()["ticket_number"]
    r = client.post(f"/api/tickets/{number}/photos", files={"file": ("leak.jpg", _jpeg(), "image/jpeg")},
                    headers=resident)
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    got = client.get(f"/api/photos/{sha}", headers=agent)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(got.content)).getexif()  # GPS gone
    assert client.get(f"/api/photos/{sha}?thumb=true", headers=resident).status_code == 200
    detail = client.get(f"/api/tickets/{number}", headers=agent).json()
    assert sha in detail["photos"] and any("上传照片" in (e["note"] or "") for e in detail["events"])


@pytest.mark.parametrize(("name", "data", "ctype"), [
    pytest.param("a.jpg", b"not an image at all", "image/jpeg", id="disguised-text"),
    pytest.param("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "image/png", id="corrupt-png"),
    pytest.param("a.jpg", b"", "image/jpeg", id="empty"),
])
def test_corrupt_or_disguised_uploads_get_a_clear_422(client, login, name, data, ctype) -> None:  # type: ignore[no-untyped-def]
    resident = login("resident")
    number = client.post("/api/chat", json={"message": "客厅灯不亮了，3栋2单元501，王芳13800138000"},
                         headers=resident).json()["ticket_number"]
    r = client.post(f"/api/tickets/{number}/photos", files={"file": (name, data, ctype)}, headers=resident)
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_photo" and "file:" in r.json()["error"]["message"]


def test_photos_are_access_checked_like_the_ticket(client, login) -> None:  # type: ignore[no-untyped-def]
    resident, agent = login("resident"), login("agent")
    made = client.post("/api/tickets", json={"resident_name": "李四", "phone": "13700001111", "address": "9栋1单元101",
                                             "description": "楼道灯不亮"}, headers=agent)
    number = made.json()["number"]
    # a resident cannot attach to (or see) a ticket that is not theirs
    assert client.post(f"/api/tickets/{number}/photos", files={"file": ("a.jpg", _jpeg(), "image/jpeg")},
                       headers=resident).status_code == 404
    sha = client.post(f"/api/tickets/{number}/photos", files={"file": ("a.jpg", _jpeg(), "image/jpeg")},
                      headers=agent).json()["sha256"]
    assert client.get(f"/api/photos/{sha}", headers=resident).status_code == 404
    assert client.get("/api/photos/../../etc/passwd", headers=agent).status_code in (404, 422)
