"""Notifiers: how a page reaches a person on call. One Protocol; the console (default), a webhook, WeChat Work
application messages and an SMS gateway's HTTP API behind it.

Secrets come from settings (``SecretStr``) and never reach a log line or an error message: failures name the
channel, the HTTP status and the provider's error code only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from assistant.settings import NotifySettings
from assistant.wecom import WeComApi, WeComError


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


def _post(client: httpx.Client, channel: str, url: str, **request: Any) -> None:
    """POST to a provider; a transport error or a non-2xx answer is a ``NotifyError`` naming only the channel."""
    try:
        r = client.post(url, **request)
    except httpx.HTTPError as exc:
        raise NotifyError(f"{channel}: {type(exc).__name__}") from None
    if r.status_code >= 300:
        raise NotifyError(f"{channel}: HTTP {r.status_code}")


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
        _post(self._client, self.channel, self._url, content=body, headers={
            "Content-Type": "application/json", "X-Wuye-Signature": f"sha256={signature}"})


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
        _post(self._client, self.channel, self._url, json={"phone": message.phone, "text": message.text},
              headers={"Authorization": f"Bearer {self._key.get_secret_value()}"})


class WeComNotifier:
    """WeChat Work application messages to the person's userid (``wecom_user`` on the roster)."""

    channel = "wecom"

    def __init__(self, settings: NotifySettings, client: httpx.Client) -> None:
        self._s = settings
        self._api = WeComApi(corp_id=settings.wecom_corp_id or "", secret=settings.wecom_secret,
                             base_url=settings.wecom_base_url, client=client)

    def send(self, message: PageMessage) -> None:
        """Send a text message through the self-built application."""
        if not (self._s.wecom_corp_id and self._s.wecom_agent_id):
            raise NotifyError("wecom: WUYE_ASSISTANT__NOTIFY__WECOM_CORP_ID / __WECOM_AGENT_ID are not set")
        if not message.address:
            raise NotifyError(f"wecom: {message.person} has no wecom_user on the roster")
        try:
            self._api.post("message/send", {"touser": message.address, "msgtype": "text",
                                            "agentid": self._s.wecom_agent_id, "text": {"content": message.text}})
        except WeComError as exc:
            raise NotifyError(f"wecom {exc}") from None


def notifiers(settings: NotifySettings) -> dict[str, Notifier]:
    """Every channel's notifier, sharing one HTTP client with the configured timeout."""
    client = httpx.Client(timeout=settings.timeout)
    return {n.channel: n for n in (ConsoleNotifier(), WebhookNotifier(settings, client), SmsNotifier(settings, client),
                                   WeComNotifier(settings, client))}
