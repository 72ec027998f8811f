"""ASGI entry point for uvicorn workers: the app built from the environment's settings."""

from __future__ import annotations

from api.app import create_app
from api.settings import get_settings

app = create_app(get_settings())
