"""Photos for a ticket: upload (the resident who owns it, or staff), and the access-checked picture itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response

from api.deps import PrincipalDep, SessionDep
from api.errors import ApiError
from api.schemas_tickets import PhotoOut
from assistant.photos import PhotoError, PhotoStore
from assistant.store import repository as repo

router = APIRouter(prefix="/api", tags=["photos"])


def _store(request: Request) -> PhotoStore:
    store: PhotoStore = request.app.state.photos
    return store


@router.post("/tickets/{number}/photos", status_code=201, response_model=PhotoOut)
def upload_photo(number: str, request: Request, session: SessionDep, principal: PrincipalDep,
                 file: Annotated[UploadFile, File(description="A JPEG, PNG, WebP or HEIC photo")]) -> PhotoOut:
    """Attach a photo to a ticket: decoded before it is kept, EXIF (GPS) dropped, stored by content hash.

    A resident may add photos to their own tickets only (another's looks absent, 404); staff to any.
    A corrupt or disguised file, or one over the size or pixel limit, is refused with 422 naming why.
    """
    ticket = repo.get_ticket(session, number=number,
                             resident_id=None if principal.is_staff else (principal.resident_id or -1))
    store = _store(request)
    data = file.file.read(store.max_bytes + 1)
    try:
        photo = store.store(data)
    except PhotoError as exc:
        raise ApiError(422, f"file: {exc.reason}", code="bad_photo") from exc
    repo.add_photo(session, ticket=ticket, sha256=photo.sha256, actor=principal.name, now=datetime.now(UTC))
    return PhotoOut(sha256=photo.sha256, url=f"/api/photos/{photo.sha256}",
                    thumb_url=f"/api/photos/{photo.sha256}?thumb=true", width=photo.width, height=photo.height)


@router.get("/photos/{sha256}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "The photo (or its thumbnail)"}})
def photo(sha256: str, request: Request, session: SessionDep, principal: PrincipalDep,
          thumb: bool = Query(False, description="The thumbnail instead of the photo")) -> Response:
    """A stored photo, for staff or for the resident whose ticket it belongs to (others: 404)."""
    if not principal.is_staff and not repo.resident_has_photo(session, resident_id=principal.resident_id,
                                                             sha256=sha256):
        raise ApiError(404, "photo not found", code="not_found")
    try:
        body = _store(request).read(sha256, thumb=thumb)
    except PhotoError as exc:
        raise ApiError(404, "photo not found", code="not_found") from exc
    return Response(body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
