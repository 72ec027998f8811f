"""The WeChat Work (企业微信) server API: the access token (fetched once, renewed before it expires or when the
API says it expired) and JSON calls. Used by the on-call notifier (application messages) and the
customer-service channel (微信客服: sync_msg / send_msg). ``base_url`` is a local stand-in in tests.

Secrets never reach a log line or an error: failures name the endpoint and WeChat Work's ``errcode`` only.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import httpx
from pydantic import SecretStr

from assistant.errors import ChannelError

_TOKEN_EXPIRED = {40014, 42001}
_SECRET_PARAMS = re.compile(r"(corpsecret|access_token|secret|key)=[^&\s\"']+", re.IGNORECASE)

class _RedactSecrets(logging.Filter):
    """httpx logs every request URL at INFO; WeChat Work puts the app secret and the token in the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_PARAMS.sub(r"\1=***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True

_HTTPX_LOG = logging.getLogger("httpx")
if not any(isinstance(f, _RedactSecrets) for f in _HTTPX_LOG.filters):
    _HTTPX_LOG.addFilter(_RedactSecrets())



class WeComError(ChannelError):
    """A WeChat Work call failed (endpoint and errcode, no secrets)."""


class WeComApi:
    """Token handling and JSON calls for one corp id + secret."""

    def __init__(self, *, corp_id: str, secret: SecretStr, base_url: str, client: httpx.Client) -> None:
        self._corp_id = corp_id
        self._secret = secret
        self._base = base_url.rstrip("/")
        self._client = client
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _access_token(self, *, fresh: bool) -> str:
        with self._lock:
            if self._token and not fresh and self._token[1] > time.monotonic():
                return self._token[0]
            try:
                r = self._client.get(f"{self._base}/cgi-bin/gettoken", params={
                    "corpid": self._corp_id, "corpsecret": self._secret.get_secret_value()})
                data = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise WeComError(f"gettoken: {type(exc).__name__}") from None
            if data.get("errcode", 0) != 0 or "access_token" not in data:
                raise WeComError(f"gettoken: errcode {data.get('errcode')}")
            # renew five minutes before WeChat Work expires it
            self._token = (str(data["access_token"]), time.monotonic() + int(data.get("expires_in", 7200)) - 300)
            return self._token[0]

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``/cgi-bin/{path}`` with the token; one retry with a fresh token if it expired."""
        code: object = None
        for attempt in (0, 1):
            token = self._access_token(fresh=attempt == 1)
            try:
                r = self._client.post(f"{self._base}/cgi-bin/{path}", params={"access_token": token}, json=body)
                data: dict[str, Any] = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise WeComError(f"{path}: {type(exc).__name__}") from None
            code = data.get("errcode", -1)
            if code == 0:
                return data
            if code not in _TOKEN_EXPIRED:
                break
        raise WeComError(f"{path}: errcode {code}")


class WeComKf:
    """The customer-service account (微信客服): read the messages a callback announces, reply to a WeChat user."""

    name = "wecom"

    def __init__(self, api: WeComApi) -> None:
        self._api = api

    def sync(self, *, token: str, account: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None, bool]:
        """The messages after ``cursor`` (``token`` comes from the callback event): messages, next cursor, more."""
        body: dict[str, Any] = {"token": token, "open_kfid": account, "limit": 1000}
        if cursor:
            body["cursor"] = cursor
        data = self._api.post("kf/sync_msg", body)
        return list(data.get("msg_list", [])), data.get("next_cursor") or cursor, bool(data.get("has_more"))

    def send_text(self, external_id: str, account: str | None, text: str) -> None:
        """Send a text message to a WeChat user through the customer-service account."""
        self._api.post("kf/send_msg", {"touser": external_id, "open_kfid": account or "", "msgtype": "text",
                                       "text": {"content": text}})
