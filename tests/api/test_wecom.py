"""The WeChat Work customer-service channel end to end, against a local stand-in of WeChat Work's API that
signs and encrypts like the real one (the same AES scheme and SHA-1 signature, through wechatpy)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
import xmltodict
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from wechatpy.enterprise.crypto import WeChatCrypto

from api.app import create_app
from api.settings import Settings
from assistant.store.tables import ChannelMessage, ChannelUser, Conversation, Turn
from tests.server import free_port

pytestmark = pytest.mark.integration

CORP, TOKEN, AES = "ww-test-corp", "cb-token-123", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
KF = "wkTESTKF001"


class WeComStandIn:
    """gettoken, kf/sync_msg (messages queued by the test, read by cursor) and kf/send_msg (recorded)."""

    def __init__(self) -> None:
        self.queue: list[dict] = []
        self.sent: list[dict] = []
        app = FastAPI()

        @app.get("/cgi-bin/gettoken")
        def gettoken(corpid: str, corpsecret: str) -> dict:
            if (corpid, corpsecret) != (CORP, "kf-secret"):
                return {"errcode": 40001, "errmsg": "invalid credential"}
            return {"errcode": 0, "access_token": "kf-token", "expires_in": 7200}

        @app.post("/cgi-bin/kf/sync_msg")
        async def sync_msg(request: Request, access_token: str) -> dict:
            body = await request.json()
            if access_token != "kf-token" or body.get("token") != "event-token" or body.get("open_kfid") != KF:
                return {"errcode": 95007, "errmsg": "invalid msg token"}
            start = int(body.get("cursor") or 0)
            batch = self.queue[start:start + 2]  # small pages, so the adapter has to follow has_more
            return {"errcode": 0, "next_cursor": str(start + len(batch)),
                    "has_more": int(start + len(batch) < len(self.queue)), "msg_list": batch}

        @app.post("/cgi-bin/kf/send_msg")
        async def send_msg(request: Request, access_token: str) -> dict:
            body = await request.json()
            if access_token != "kf-token" or body.get("msgtype") != "text" or body.get("open_kfid") != KF:
                return {"errcode": 40008, "errmsg": "invalid message"}
            self.sent.append(body)
            return {"errcode": 0, "msgid": f"out-{len(self.sent)}"}

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def message(self, msgid: str, user: str, text: str) -> None:
        self.queue.append({"msgid": msgid, "open_kfid": KF, "external_userid": user, "send_time": int(time.time()),
                           "origin": 3, "msgtype": "text", "text": {"content": text}})


@pytest.fixture
def wecom() -> Iterator[WeComStandIn]:
    api = WeComStandIn()
    api.thread.start()
    while not api.server.started:
        time.sleep(0.02)
    yield api
    api.server.should_exit = True
    api.thread.join(timeout=5)


@pytest.fixture
def channel_app(database_url, tmp_path, service, wecom):  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, assistant={"database_url": database_url, "quiet_hours": "off"},
                        api={"sla_monitor": False, "photo_dir": str(tmp_path / "photos"),
                             "wecom": {"enabled": True, "corp_id": CORP, "token": TOKEN, "aes_key": AES,
                                       "secret": "kf-secret", "base_url": wecom.base}})
    app = create_app(settings, assistant=service)
    with TestClient(app) as client:
        yield app, client


def _event(crypto: WeChatCrypto) -> tuple[dict[str, str], str]:
    inner = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><CreateTime>{int(time.time())}</CreateTime>"
             f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
             f"<Token><![CDATA[event-token]]></Token><OpenKfId><![CDATA[{KF}]]></OpenKfId></xml>")
    wrapped = xmltodict.parse(crypto.encrypt_message(inner, "nonce42", str(int(time.time()))))["xml"]
    params = {"msg_signature": wrapped["MsgSignature"], "timestamp": wrapped["TimeStamp"], "nonce": wrapped["Nonce"]}
    body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{wrapped['Encrypt']}]]></Encrypt></xml>"
    return params, body


def test_url_verification_answers_the_decrypted_echo_and_refuses_a_bad_signature(channel_app) -> None:
    _, client = channel_app
    crypto = WeChatCrypto(TOKEN, AES, CORP)
    wrapped = xmltodict.parse(crypto.encrypt_message("echo-7788", "n1", "1700000000"))["xml"]
    params = {"msg_signature": wrapped["MsgSignature"], "timestamp": "1700000000", "nonce": "n1",
              "echostr": wrapped["Encrypt"]}
    r = client.get("/api/channels/wecom/callback", params=params)
    assert r.status_code == 200 and r.text == "echo-7788"
    r = client.get("/api/channels/wecom/callback", params={**params, "msg_signature": "0" * 40})
    assert r.status_code == 403


def test_a_text_in_wechat_is_triaged_answered_once_and_a_bad_signature_stores_nothing(channel_app, wecom) -> None:
    app, client = channel_app
    crypto = WeChatCrypto(TOKEN, AES, CORP)
    wecom.message("m-1", "wm-user-A", "厨房水管爆了，水一直往外喷！")
    wecom.message("m-2", "wm-user-B", "物业费多少钱一平")
    wecom.message("m-3", "wm-user-A", "6栋1单元302，周敏13877776666")
    params, body = _event(crypto)
    r = client.post("/api/channels/wecom/callback", params=params, content=body)
    assert r.status_code == 200 and r.text == "success"
    by_user = {}
    for m in wecom.sent:
        by_user.setdefault(m["touser"], []).append(m["text"]["content"])
    assert len(by_user["wm-user-A"]) == 2 and len(by_user["wm-user-B"]) == 1
    assert "总阀" in by_user["wm-user-A"][0] or "关闭" in by_user["wm-user-A"][0]  # the burst-pipe safety script
    assert re.search(r"GD\d{8}-\d{6}", by_user["wm-user-A"][1])               # the ticket, once the details came
    assert "元" in by_user["wm-user-B"][0]                                    # the fee answer
    # WeChat Work calls again with the same event (a retry, or a replay): nothing is answered twice
    wecom.queue.extend(wecom.queue[:1])
    params, body = _event(crypto)
    assert client.post("/api/channels/wecom/callback", params=params, content=body).status_code == 200
    assert len(wecom.sent) == 3
    with app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ChannelMessage)) == 3
        users = {u.external_id: u for u in s.scalars(select(ChannelUser))}
        assert set(users) == {"wm-user-A", "wm-user-B"}
        assert users["wm-user-A"].conversation_id != users["wm-user-B"].conversation_id
        conversations = s.scalar(select(func.count()).select_from(Conversation))
        turns = s.scalar(select(func.count()).select_from(Turn))
    # a forged event: 403, and nothing read, stored or sent
    wecom.message("m-4", "wm-user-C", "你好")
    params, body = _event(WeChatCrypto(TOKEN, AES, CORP))
    r = client.post("/api/channels/wecom/callback", params={**params, "msg_signature": "f" * 40}, content=body)
    assert r.status_code == 403
    assert client.post("/api/channels/wecom/callback", params=params, content="<xml>not encrypted</xml>").status_code \
        in (400, 403)
    with app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == conversations
        assert s.scalar(select(func.count()).select_from(Turn)) == turns
    assert len(wecom.sent) == 3


def test_a_wechat_user_who_gives_a_residents_phone_is_bound_to_that_resident(channel_app, wecom) -> None:
    app, client = channel_app
    wecom.message("b-1", "wm-user-R", "我是3栋2单元501的王女士，13912345678，想问下物业费怎么交")
    params, body = _event(WeChatCrypto(TOKEN, AES, CORP))
    assert client.post("/api/channels/wecom/callback", params=params, content=body).status_code == 200
    with app.state.sessions() as s:
        user = s.scalars(select(ChannelUser)).one()
        conversation = s.get(Conversation, user.conversation_id)
        assert user.resident_id is not None and conversation is not None
        assert conversation.resident_id == user.resident_id and conversation.channel == "wecom"


def test_a_wechat_residents_ticket_updates_and_the_agents_messages_reach_wechat(channel_app, wecom) -> None:
    app, client = channel_app
    wecom.message("u-1", "wm-user-U", "卫生间水龙头一直滴水，3栋2单元501，王女士13912345678")
    params, body = _event(WeChatCrypto(TOKEN, AES, CORP))
    assert client.post("/api/channels/wecom/callback", params=params, content=body).status_code == 200
    filed = re.search(r"GD\d{8}-\d{6}", wecom.sent[-1]["text"]["content"])
    assert filed, wecom.sent
    number = filed.group(0)
    r = client.post("/api/auth/login", json={"username": "agent", "password": "wuye-demo"})
    agent = {"Authorization": f"Bearer {r.json()['access_token']}"}
    client.cookies.clear()
    r = client.post(f"/api/tickets/{number}/transition", json={"to": "dispatched", "assignee": "张师傅"}, headers=agent)
    assert r.status_code == 200, r.text
    assert app.state.monitor.run_once().sent == 1  # (the server runs this pass at once, woken by the move)
    update = wecom.sent[-1]
    assert update["touser"] == "wm-user-U" and update["open_kfid"] == KF
    assert number in update["text"]["content"] and "张师傅" in update["text"]["content"]
    with app.state.sessions() as s:
        conversation = s.scalars(select(ChannelUser).where(ChannelUser.external_id == "wm-user-U")).one().conversation_id
    assert client.post(f"/api/agent/conversations/{conversation}/join", headers=agent).status_code == 200
    said = "您好，我是客服小李，张师傅大约十分钟后到，请您留意电话。"
    r = client.post(f"/api/agent/conversations/{conversation}/messages", json={"text": said}, headers=agent)
    assert r.status_code == 200, r.text
    assert app.state.monitor.run_once().sent == 1
    assert (wecom.sent[-1]["touser"], wecom.sent[-1]["text"]["content"]) == ("wm-user-U", said)
    assert app.state.monitor.run_once().sent == 0  # each message once
    assert len(wecom.sent) == 3


def test_the_channel_is_off_unless_enabled(client) -> None:
    assert client.get("/api/channels/wecom/callback",
                      params={"msg_signature": "a", "timestamp": "1", "nonce": "n", "echostr": "x"}).status_code == 404
