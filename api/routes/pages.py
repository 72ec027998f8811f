"""The web pages (server-rendered templates; the data comes from the JSON API)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "web" / "templates"))
router = APIRouter(include_in_schema=False)

PAGES = {"/": "index.html", "/login": "login.html", "/chat": "chat.html", "/agent": "agent.html",
         "/trainer": "trainer.html", "/manager": "manager.html", "/admin": "admin.html",
         "/hittest": "hittest.html"}


def _page(template: str) -> Callable[[Request], HTMLResponse]:
    def render(request: Request) -> HTMLResponse:
        demo = request.app.state.settings.api.mode == "development"
        return templates.TemplateResponse(request, template, {"demo": demo})

    return render


for path, template in PAGES.items():
    router.add_api_route(path, _page(template), methods=["GET"], response_class=HTMLResponse)
