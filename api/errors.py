"""The one mapping from domain errors to HTTP: a JSON body naming the problem, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import (
    AgentMessageError,
    ConversationNotFoundError,
    CorrectionError,
    MissingFieldError,
    RosterConflictError,
    RosterError,
    TicketNotFoundError,
    TransitionError,
    TurnNotFoundError,
)
from ingest.errors import IndexMismatchError, IndexMissingError, IngestError
from kb.errors import KBValidationError

log = logging.getLogger("wuye.api")


class ApiError(Exception):
    """An error raised by a route with its status and message."""

    def __init__(self, status: int, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def _body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def json_error(status: int, code: str, message: str) -> JSONResponse:
    """An error response in the one shape every error has."""
    return JSONResponse(_body(code, message), status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"]}
                  for e in exc.errors()]
        first = fields[0] if fields else {"field": "", "problem": "invalid request"}
        return JSONResponse(_body("invalid_request", f"{first['field'] or 'body'}: {first['problem']}",
                                  fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 400 and message.startswith("There was an error parsing the body"):
            message = "body: cannot be read as JSON (is it UTF-8?)"
        return JSONResponse(_body("http_error", message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(_body("not_found", str(exc)), status_code=404)

    for absent in (TicketNotFoundError, TurnNotFoundError, ConversationNotFoundError):
        app.add_exception_handler(absent, not_found)

    @app.exception_handler(AgentMessageError)
    async def agent_message(_: Request, exc: AgentMessageError) -> JSONResponse:
        return JSONResponse(_body(exc.code, str(exc)), status_code=exc.status)

    @app.exception_handler(CorrectionError)
    async def correction(_: Request, exc: CorrectionError) -> JSONResponse:
        code = {404: "not_found", 409: "already_reviewed"}.get(exc.status, "invalid_correction")
        return JSONResponse(_body(code, str(exc)), status_code=exc.status)

    @app.exception_handler(MissingFieldError)
    async def missing(_: Request, exc: MissingFieldError) -> JSONResponse:
        return JSONResponse(_body("missing_fields", str(exc), fields=list(exc.fields)), status_code=422)

    @app.exception_handler(TransitionError)
    async def transition(_: Request, exc: TransitionError) -> JSONResponse:
        return JSONResponse(_body("invalid_transition", str(exc)), status_code=409)

    @app.exception_handler(RosterError)
    async def roster(_: Request, exc: RosterError) -> JSONResponse:
        if isinstance(exc, RosterConflictError):
            return JSONResponse(_body("conflict", str(exc)), status_code=409)
        return JSONResponse(_body("invalid_request", str(exc), fields=[{"field": exc.field, "problem": exc.problem}]),
                            status_code=422)

    @app.exception_handler(KBValidationError)
    async def kb_invalid(_: Request, exc: KBValidationError) -> JSONResponse:
        return JSONResponse(_body("kb_invalid", str(exc)), status_code=422)

    @app.exception_handler(IngestError)
    async def index_error(_: Request, exc: IngestError) -> JSONResponse:
        status = 503 if isinstance(exc, IndexMissingError | IndexMismatchError) else 409
        return JSONResponse(_body("index_unavailable" if status == 503 else "ingest_error", str(exc)),
                            status_code=status)

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc.__class__.__name__)
        return JSONResponse(_body("database_unavailable", "the database is unavailable; try again shortly"),
                            status_code=503)

    @app.exception_handler(PoolTimeoutError)
    async def busy(_: Request, exc: PoolTimeoutError) -> JSONResponse:
        log.error("no free database connection in time")
        return JSONResponse(_body("busy", "the server is busy; try again in a few seconds"), status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(DataError)
    async def bad_value(_: Request, exc: DataError) -> JSONResponse:
        log.warning("value refused by the database: %s", exc.orig.__class__.__name__)
        return JSONResponse(_body("invalid_value", "a value in the request cannot be stored or searched"),
                            status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:  # the only blind catch
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_body("internal_error", "unexpected server error; it has been logged"),
                            status_code=500)
