"""Knowledge: search, entry detail, background re-ingest with progress and atomic swap."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile

from api.deps import Admin, AssistantDep, PrincipalDep
from api.errors import ApiError
from assistant.reindex import IngestJob
from assistant.types import Filters

router = APIRouter(prefix="/api/kb", tags=["knowledge"])


@router.get("/search")
def search(assistant: AssistantDep, _: PrincipalDep, q: Annotated[str, Query(min_length=1, max_length=500)],
           top_k: Annotated[int, Query(ge=1, le=50)] = 5, kind: Annotated[list[str] | None, Query()] = None,
           department: Annotated[str | None, Query(max_length=32)] = None,
           community: Annotated[str | None, Query(max_length=32, description="Search as a resident of this 小区: "
                                                  "other communities' documents are left out")] = None,
           ) -> dict[str, Any]:
    """Hybrid search over the KB (every community's documents, or one community's with ``community``)."""
    r = assistant.retriever.run(q, top_k=top_k, filters=Filters(tuple(kind or ()),
                                                               (department,) if department else (),
                                                               community=community, scoped=community is not None))
    return {"query": q, "found": r.found, "best_dense": r.best_dense, "hits": [
        {"entry_id": h.chunk.entry_id, "citation": h.citation, "title": h.chunk.title, "clause": h.chunk.clause,
         "heading": " › ".join(h.chunk.heading_path), "kind": h.chunk.kind, "snippet": h.chunk.text[:200],
        "community": h.chunk.community,
         "score": h.score, "dense": h.dense, "bm25": h.sparse} for h in r.hits]}


@router.get("/entries/{entry_id}")
def entry(entry_id: str, assistant: AssistantDep, _: PrincipalDep) -> dict[str, Any]:
    """An article (with its clauses) or an FAQ entry."""
    kb = assistant.kb
    article = kb.article(entry_id.split("#")[0])
    if article is not None:
        m = article.meta
        return {"id": m.id, "kind": m.type.value, "title": m.title, "department": m.department, "tags": m.tags,
                "effective_from": m.effective_from, "effective_to": m.effective_to, "scope": m.scope,
                "note": m.note, "clauses": [{"ref": c.ref, "number": c.number, "heading": c.heading, "text": c.text}
                                            for c in article.clauses]}
    faq = next((e for e in kb.faqs if e.id == entry_id), None)
    if faq is None:
        # a curated entry approved after this worker loaded the KB is already in the live index
        chunk = next((c for c in assistant.retriever.index.chunks if c.entry_id == entry_id and c.kind == "curated"),
                     None)
        if chunk is None:
            raise ApiError(404, f"KB entry {entry_id} not found", code="not_found")
        return {"id": chunk.entry_id, "kind": "curated", "title": chunk.title, "question": chunk.title,
                "paraphrases": list(chunk.views[1:-1]), "answer": chunk.text, "basis": list(chunk.basis),
                "department": chunk.department, "tags": list(chunk.tags)}
    return {"id": faq.id, "kind": "curated" if faq.curated else "faq", "title": faq.question, "question": faq.question,
            "paraphrases": faq.paraphrases, "answer": faq.answer, "basis": faq.basis, "department": faq.department,
            "tags": faq.tags}


@router.post("/documents", status_code=201)
def upload_document(request: Request, _: Admin,
                    file: Annotated[UploadFile, File(description="A .md/.txt/.html/.docx/.pdf company document")],
                    ) -> dict[str, Any]:
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
    return {"name": path.name, "title": doc.title, "sections": len(doc.sections), "bytes": len(data),
            "next": "POST /api/kb/ingest to make it searchable"}


@router.post("/ingest", status_code=202)
def ingest(request: Request, _: Admin, full: bool = False) -> dict[str, Any]:
    """Re-ingest the KB in the background; the new index is swapped in atomically when complete."""
    job: IngestJob = request.app.state.ingest_job
    if not job.start(request.app.state.settings.ingest, request.app.state.assistant.retriever, full=full):
        raise ApiError(409, "an ingest is already running", code="ingest_running")
    return {"state": job.state, "message": job.message}


@router.get("/ingest")
def ingest_status(request: Request, _: Admin) -> dict[str, Any]:
    """Progress of the background ingest."""
    job: IngestJob = request.app.state.ingest_job
    return {"state": job.state, "message": job.message, "report": job.report, "started": job.started,
            "finished": job.finished}
