"""Notifiers: how a page reaches a person on call. One Protocol; the console (default), a webhook, WeChat Work
application messages and an SMS gateway's HTTP API behind it.

Secrets come from settings (``SecretStr``) and never reach a log line or an error message: failures name the
channel, the HTTP status and the provider's error code only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import httpx

from assistant.settings import NotifySettings


@dataclass(frozen=True, slots=True)
class PageMessage:
    """What a notifier sends: one page to one person."""

    page_id: int
    ticket: str
    person: str
    phone: str
    address: str | None
    text: str


class NotifyError(Exception):
    """A page could not be delivered (the message says why, without secrets)."""


class Notifier(Protocol):
    """Delivers pages over one channel."""

    channel: str

    def send(self, message: PageMessage) -> None:
        """Deliver or raise ``NotifyError``."""


class ConsoleNotifier:
    """The agent console reads open pages from the database: nothing to send."""

    channel = "console"

    def send(self, message: PageMessage) -> None:
        """Nothing to do; the page row is the delivery."""


class WebhookNotifier:
    """POSTs the page as JSON, signed with HMAC-SHA256 of the body in ``X-Wuye-Signature``."""

    channel = "webhook"

    def __init__(self, settings: NotifySettings, client: httpx.Client) -> None:
        self._url = settings.webhook_url
        self._secret = settings.webhook_secret.get_secret_value().encode()
        self._client = client

    def send(self, message: PageMessage) -> None:
        """POST the page; a non-2xx answer is a failure."""
        if not self._url:
            raise NotifyError("webhook: WUYE_ASSISTANT__NOTIFY__WEBHOOK_URL is not set")
        body = json.dumps({"page_id": message.page_id, "ticket": message.ticket, "person": message.person,
                           "phone": message.phone, "text": message.text}, ensure_ascii=False).encode()
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        try:
            r = self._client.post(self._url, content=body, headers={
                "Content-Type": "application/json", "X-Wuye-Signature": f"sha256={signature}"})
        except httpx.HTTPError as exc:
            raise NotifyError(f"webhook: {type(exc).__name__}") from None
        if r.status_code >= 300:
            raise NotifyError(f"webhook: HTTP {r.status_code}")


class SmsNotifier:
    """An SMS gateway's JSON API: ``POST {sms_url}`` with ``{"phone", "text"}`` and a bearer key."""

    channel = "sms"

    def __init__(self, settings: NotifySettings, client: httpx.Client) -> None:
        self._url = settings.sms_url
        self._key = settings.sms_key
        self._client = client

    def send(self, message: PageMessage) -> None:
        """Send the text to the person's phone."""
        if not self._url:
            raise NotifyError("sms: WUYE_ASSISTANT__NOTIFY__SMS_URL is not set")
        try:
            r = self._client.post(self._url, json={"phone": message.phone, "text": message.text},
                                  headers={"Authorization": f"Bearer {self._key.get_secret_value()}"})
        except httpx.HTTPError as exc:
            raise NotifyError(f"sms: {type(exc).__name__}") from None
        if r.status_code >= 300:
            raise NotifyError(f"sms: HTTP {r.status_code}")


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


class WeComNotifier:
    """WeChat Work (企业微信) application messages: ``gettoken`` once per two hours, then ``message/send``.

    ``wecom_base_url`` points at qyapi.weixin.qq.com in production and at a local stand-in in tests.
    """

    channel = "wecom"

    def __init__(self, settings: NotifySettings, client: httpx.Client) -> None:
        self._s = settings
        self._client = client
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _access_token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if self._token and not fresh and self._token[1] > time.monotonic():
                return self._token[0]
            s = self._s
            try:
                r = self._client.get(f"{s.wecom_base_url}/cgi-bin/gettoken", params={
                    "corpid": s.wecom_corp_id, "corpsecret": s.wecom_secret.get_secret_value()})
                data = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise NotifyError(f"wecom gettoken: {type(exc).__name__}") from None
            if data.get("errcode", 0) != 0 or "access_token" not in data:
                raise NotifyError(f"wecom gettoken: errcode {data.get('errcode')}")
            # renew five minutes before WeChat Work expires it
            self._token = (str(data["access_token"]), time.monotonic() + int(data.get("expires_in", 7200)) - 300)
            return self._token[0]

    def send(self, message: PageMessage) -> None:
        """Send a text message to the person's WeChat Work userid (``wecom_user`` on the roster)."""
        if not (self._s.wecom_corp_id and self._s.wecom_agent_id):
            raise NotifyError("wecom: WUYE_ASSISTANT__NOTIFY__WECOM_CORP_ID / __WECOM_AGENT_ID are not set")
        if not message.address:
            raise NotifyError(f"wecom: {message.person} has no wecom_user on the roster")
        body = {"touser": message.address, "msgtype": "text", "agentid": self._s.wecom_agent_id,
                "text": {"content": message.text}}
        for attempt in (0, 1):
            token = self._access_token(fresh=attempt == 1)
            try:
                r = self._client.post(f"{self._s.wecom_base_url}/cgi-bin/message/send",
                                      params={"access_token": token}, json=body)
                data = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise NotifyError(f"wecom message/send: {type(exc).__name__}") from None
            code = data.get("errcode", -1)
            if code == 0:
                return
            if code not in _TOKEN_EXPIRED:
                break
        raise NotifyError(f"wecom message/send: errcode {code}")


def notifiers(settings: NotifySettings) -> dict[str, Notifier]:
    """Every channel's notifier, sharing one HTTP client with the configured timeout."""
    client = httpx.Client(timeout=settings.timeout)
    return {n.channel: n for n in (ConsoleNotifier(), WebhookNotifier(settings, client), SmsNotifier(settings, client),
                                   WeComNotifier(settings, client))}
