"""Knowledge: search, entry detail, background re-ingest with progress and atomic swap."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile

from api.deps import Admin, AssistantDep, PrincipalDep
from api.errors import ApiError
from api.schemas_knowledge import ArticleOut, DocumentOut, FaqOut, IngestStatusOut, SearchOut
from assistant.reindex import IngestJob
from assistant.types import Filters

router = APIRouter(prefix="/api/kb", tags=["knowledge"])


def _job(request: Request) -> IngestJob:
    job: IngestJob = request.app.state.ingest_job
    return job


@router.get("/search", response_model=SearchOut)
def search(assistant: AssistantDep, _: PrincipalDep, q: Annotated[str, Query(min_length=1, max_length=500)],
           top_k: Annotated[int, Query(ge=1, le=50)] = 5, kind: Annotated[list[str] | None, Query()] = None,
           department: Annotated[str | None, Query(max_length=32)] = None,
           community: Annotated[str | None, Query(max_length=32, description="Search as a resident of this 小区: "
                                                  "other communities' documents are left out")] = None,
           ) -> SearchOut:
    """Hybrid search over the KB (every community's documents, or one community's with ``community``)."""
    filters = Filters(tuple(kind or ()), (department,) if department else (), community=community,
                      scoped=community is not None)
    return SearchOut.of(q, assistant.retriever.run(q, top_k=top_k, filters=filters))


@router.get("/entries/{entry_id}", response_model=ArticleOut | FaqOut)
def entry(entry_id: str, assistant: AssistantDep, _: PrincipalDep) -> ArticleOut | FaqOut:
    """An article (with its clauses) or an FAQ entry (curated ones too, as soon as they are live)."""
    kb = assistant.kb
    article = kb.article(entry_id.split("#")[0])
    if article is not None:
        return ArticleOut.of(article)
    faq = next((e for e in kb.faqs if e.id == entry_id), None)
    if faq is not None:
        return FaqOut.of(faq)
    # a curated entry approved after this worker loaded the KB is already in the live index
    chunk = next((c for c in assistant.retriever.index.chunks if c.entry_id == entry_id and c.kind == "curated"), None)
    if chunk is None:
        raise ApiError(404, f"KB entry {entry_id} not found", code="not_found")
    return FaqOut.of_chunk(chunk)


@router.post("/documents", status_code=201, response_model=DocumentOut)
def upload_document(request: Request, _: Admin,
                    file: Annotated[UploadFile, File(description="A .md/.txt/.html/.docx/.pdf company document")],
                    ) -> DocumentOut:
    """Add or replace a company document; it is parsed now and searchable after the next ingest.

    Refused with a message naming the problem: a name with folders or '..', an unsupported type, an empty
    or over-10-MB file, or one that does not parse (corrupted PDF/DOCX, scanned PDF without text).
    """
    from ingest.uploads import MAX_BYTES, UploadError, store

    folder = request.app.state.settings.ingest.upload_dir
    if folder is None:
        raise ApiError(409, "uploads are off (set WUYE_INGEST__UPLOAD_DIR)", code="uploads_off")
    data = file.file.read(MAX_BYTES + 1)
    try:
        path, doc = store(folder, file.filename or "", data)
    except UploadError as exc:
        raise ApiError(exc.status, str(exc), code="invalid_document") from exc
    return DocumentOut(name=path.name, title=doc.title, sections=len(doc.sections), bytes=len(data),
                       next="POST /api/kb/ingest to make it searchable")


@router.post("/ingest", status_code=202, response_model=IngestStatusOut)
def ingest(request: Request, assistant: AssistantDep, _: Admin, full: bool = False) -> IngestStatusOut:
    """Re-ingest the KB in the background; the new index is swapped in atomically when complete."""
    job = _job(request)
    if not job.start(request.app.state.settings.ingest, assistant.retriever, full=full):
        raise ApiError(409, "an ingest is already running", code="ingest_running")
    return IngestStatusOut.of(job)


@router.get("/ingest", response_model=IngestStatusOut)
def ingest_status(request: Request, _: Admin) -> IngestStatusOut:
    """Progress of the background ingest."""
    return IngestStatusOut.of(_job(request))
