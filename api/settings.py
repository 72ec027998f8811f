"""The composed settings of the whole application (env prefix ``WUYE_``, nested with ``__``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.settings import AssistantSettings
from ingest.settings import IngestSettings

DEFAULT_SECRET = "dev-only-change-me-not-a-secret-0000"


class WeComChannelSettings(BaseModel):
    """The WeChat Work customer-service (微信客服) channel: residents write from WeChat, the assistant answers there.

    Configure in the WeChat Work admin: 微信客服 → API → callback URL ``https://<host>/api/channels/wecom/callback``
    with the Token and EncodingAESKey below; the Secret is the 微信客服 secret (应用管理 → 微信客服).
    """

    enabled: bool = Field(False, description="Serve the callback (off: the routes answer 404)")
    corp_id: str = Field("", description="企业ID")
    token: SecretStr = Field(SecretStr(""), description="The callback's Token (signature check)")
    aes_key: SecretStr = Field(SecretStr(""), description="The callback's EncodingAESKey (43 characters)")
    secret: SecretStr = Field(SecretStr(""), description="The 微信客服 Secret (access token for sync_msg/send_msg)")
    base_url: str = Field("https://qyapi.weixin.qq.com", description="WeChat Work API (a stand-in in tests)")
    timeout: float = Field(5.0, gt=0, description="Seconds per call to WeChat Work")


class ApiSettings(BaseModel):
    """The HTTP server: binding, security and the development conveniences."""

    host: str = Field("127.0.0.1", description="Bind address")
    port: int = Field(8000, gt=0, lt=65536, description="Port")
    mode: Literal["development", "production"] = Field(
        "development", description="development creates demo accounts; production refuses default secrets")
    secret_key: SecretStr = Field(SecretStr(DEFAULT_SECRET), description="Signs login tokens")
    token_minutes: int = Field(480, gt=0, description="Login token lifetime")
    cors_origins: list[str] = Field(default_factory=list, description="Allowed browser origins (closed by default)")
    login_rate: str = Field("10/minute", description="Login attempts per client address and user name")
    chat_rate: str = Field("30/minute", description="Chat messages per user")
    demo_password: SecretStr = Field(SecretStr("wuye-demo"), description="Password of the demo accounts")
    demo_api_key: SecretStr = Field(SecretStr("wuye-demo-key"), description="The demo integration key")
    sla_monitor: bool = Field(True, description="Run the SLA monitor inside the server (one worker leads)")
    torch_threads: int | None = Field(None, ge=1, le=256, description="Threads torch and FAISS use per worker "
                                      "(default: all cores with one worker, cores ÷ workers with several)")
    index_watch_interval: float = Field(
        2.0, ge=0, description="Seconds between checks for an index another worker swapped in (0: off)")
    photo_dir: Path = Field(Path("var/photos"), description="Where ticket photos are kept (outside the web root)")
    photo_max_mb: int = Field(10, gt=0, le=50, description="Largest photo accepted, in MB")
    wecom: WeComChannelSettings = WeComChannelSettings()

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> ApiSettings:
        if self.mode == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEFAULT_SECRET or len(secret) < 32:
                raise ValueError("production mode refuses the default or a short WUYE_API__SECRET_KEY "
                                 "(set 32+ random characters)")
        return self


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
