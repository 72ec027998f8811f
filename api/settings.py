"""The composed settings of the whole application (env prefix ``WUYE_``, nested with ``__``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.settings import AssistantSettings
from ingest.settings import IngestSettings


class ApiSettings(BaseModel):
    """The HTTP server."""

    host: str = Field("127.0.0.1", description="Bind address")
    port: int = Field(8000, gt=0, lt=65536, description="Port")


class Settings(BaseSettings):
    """Every setting, one section per package. ``WUYE_INGEST__INDEX_DIR=/srv/index`` sets a nested one."""

    model_config = SettingsConfigDict(
        env_prefix="WUYE_", env_nested_delimiter="__", env_file=".env", extra="forbid"
    )

    ingest: IngestSettings = IngestSettings()
    assistant: AssistantSettings = AssistantSettings()
    api: ApiSettings = ApiSettings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once from the environment and ``.env``."""
    return Settings()
