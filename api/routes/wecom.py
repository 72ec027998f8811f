"""The WeChat Work customer-service (微信客服) callback: residents write from WeChat, the assistant answers there.

GET verifies the callback URL (WeChat Work sends an encrypted echo string); POST carries an encrypted event that
says new messages are waiting: they are read with ``kf/sync_msg``, each handled once through the same assistant
as the web chat (``assistant/channel.py``), and the replies sent with ``kf/send_msg`` after the turns are stored.
A bad signature is 403 and nothing is stored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

import httpx
import xmltodict
from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from api.deps import AssistantDep, SessionDep
from api.errors import ApiError
from api.settings import WeComChannelSettings
from assistant.channel import Inbound, receive
from assistant.store import channels as store
from assistant.wecom import WeComApi, WeComError, WeComKf

log = logging.getLogger("wuye.api")
router = APIRouter(prefix="/api/channels/wecom", tags=["channels"])
CHANNEL = "wecom"
_FROM_CUSTOMER = 3  # sync_msg origin: 3 = the WeChat user, 4 = system event, 5 = an agent


def _settings(request: Request) -> WeComChannelSettings:
    s: WeComChannelSettings = request.app.state.settings.api.wecom
    if not s.enabled:
        raise ApiError(404, "the WeChat Work channel is not enabled (WUYE_API__WECOM__ENABLED)", code="not_found")
    return s


def _crypto(s: WeComChannelSettings) -> WeChatCrypto:
    return WeChatCrypto(s.token.get_secret_value(), s.aes_key.get_secret_value(), s.corp_id)


def _kf(request: Request, s: WeComChannelSettings) -> WeComKf:
    kf: WeComKf | None = getattr(request.app.state, "wecom_kf", None)
    if kf is None:  # one client and one cached token per worker
        kf = WeComKf(WeComApi(corp_id=s.corp_id, secret=s.secret, base_url=s.base_url,
                              client=httpx.Client(timeout=s.timeout)))
        request.app.state.wecom_kf = kf
    return kf


async def _raw_body(request: Request) -> bytes:
    return await request.body()


Signed = Annotated[str, Query(min_length=1, max_length=128)]


@router.get("/callback", response_class=PlainTextResponse)
def verify(request: Request, msg_signature: Signed, timestamp: Signed, nonce: Signed,
           echostr: Annotated[str, Query(min_length=1, max_length=4096)]) -> PlainTextResponse:
    """URL verification: answer the decrypted echo string (403 when the signature does not match)."""
    s = _settings(request)
    try:
        echo = _crypto(s).check_signature(msg_signature, timestamp, nonce, echostr)
    except (InvalidSignatureException, InvalidCorpIdException, ValueError) as exc:
        raise ApiError(403, "the callback signature does not match", code="forbidden") from exc
    return PlainTextResponse(echo if isinstance(echo, str) else echo.decode())


@router.post("/callback", response_class=PlainTextResponse)
def callback(request: Request, session: SessionDep, assistant: AssistantDep, background: BackgroundTasks,
             msg_signature: Signed, timestamp: Signed, nonce: Signed,
             raw: Annotated[bytes, Depends(_raw_body)]) -> PlainTextResponse:
    """An event from WeChat Work; new customer messages are read, answered once each, and replied to."""
    s = _settings(request)
    try:
        plain = _crypto(s).decrypt_message(raw, msg_signature, timestamp, nonce)
        event = xmltodict.parse(plain)["xml"]
    except (InvalidSignatureException, InvalidCorpIdException) as exc:
        raise ApiError(403, "the callback signature does not match", code="forbidden") from exc
    except Exception as exc:  # noqa: BLE001 - a body that is not WeChat Work's encrypted XML
        raise ApiError(400, "the callback body is not an encrypted WeChat Work event", code="invalid_request") from exc
    if event.get("Event") != "kf_msg_or_event" or not event.get("Token") or not event.get("OpenKfId"):
        return PlainTextResponse("success")
    account, kf, now = str(event["OpenKfId"]), _kf(request, s), datetime.now(UTC)
    outbox: list[tuple[str, str, str]] = []
    cursor = store.cursor(session, channel=CHANNEL, account=account)
    try:
        for _ in range(20):  # at most 20 pages of 1000 messages per event; the next event continues
            messages, cursor, more = kf.sync(token=str(event["Token"]), account=account, cursor=cursor)
            for m in messages:
                if m.get("origin") != _FROM_CUSTOMER or m.get("msgtype") != "text":
                    continue
                inbound = Inbound(CHANNEL, str(m["msgid"]), str(m["external_userid"]),
                                  str(m.get("open_kfid") or account), str(m.get("text", {}).get("content", "")))
                reply = receive(session, assistant, inbound, now=now)
                if reply is not None and reply.text:
                    outbox.append((inbound.external_id, inbound.account or account, reply.text))
            if cursor:
                store.set_cursor(session, channel=CHANNEL, account=account, value=cursor)
            if not more:
                break
    except WeComError as exc:
        log.warning("WeChat Work sync_msg failed: %s", exc)
        raise ApiError(502, "WeChat Work did not answer; it will call again", code="upstream") from None
    background.add_task(_send_all, kf, outbox)  # after the commit: the turns are stored before anyone is answered
    return PlainTextResponse("success")


def _send_all(kf: WeComKf, outbox: list[tuple[str, str, str]]) -> None:
    for external_id, account, text in outbox:
        try:
            kf.send_text(external_id, account, text)
        except WeComError as exc:
            log.warning("WeChat Work send_msg to a user failed: %s", exc)
