"""The WeChat Official Account webhook (console/wechat.py) and its customer-service message API client.

WeChat is played by request bodies in the shapes its servers send (field names and CDATA as in WeChat's
message docs) signed with a fixed token. The console hub is the edge these unit tests cannot reach, so it
is a small scripted fake that records what it was told and may be slow. The WeChat API behind
`WeChatApiSender` is a fake aiohttp server that issues, expires and checks access tokens.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
import xml.etree.ElementTree as ET
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from channels.wechat_api import WeChatApiError, WeChatApiSender
from channels.wording import BUSY, WELCOME
from console.wechat import (
    ACK,
    MAX_BODY_BYTES,
    NOT_CONFIGURED,
    TEXT_ONLY,
    VOICE_NOT_HEARD,
    RecordingSender,
    signature_ok,
    wechat_routes,
)

TOKEN = "p95598WechatTestToken"
ACCOUNT = "gh_3f1e9a95598c"
OPENID = "oX3kD5rT9uV1wY-95598_testOpenId"
NONCE = "1405638218"


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def signed_query(timestamp: int | None = None, token: str = TOKEN, nonce: str | None = None, **extra) -> dict:
    """As WeChat signs each push: its own timestamp and a fresh nonce (a used pair is refused for another body)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    return {"signature": wechat_signature(token, ts, nonce), "timestamp": ts, "nonce": nonce, **extra}


def text_message(content: str, msg_id: str = "24512345678901234", openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def voice_message(recognition: str, msg_id: str = "24512345678905678") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[Xa9kQm2_voiceMediaId]]></MediaId><Format><![CDATA[amr]]></Format>"
        f"<Recognition><![CDATA[{recognition}]]></Recognition><MsgId>{msg_id}</MsgId></xml>"
    )


def event_message(event: str, create_time: int = 1732800000, **extra: str) -> str:
    fields = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in extra.items())
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{fields}</xml>"
    )


IMAGE_MESSAGE = (
    f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
    "<CreateTime>1732800100</CreateTime><MsgType><![CDATA[image]]></MsgType>"
    "<PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz_jpg/abc/0]]></PicUrl>"
    "<MediaId><![CDATA[imageMediaId]]></MediaId><MsgId>24512345678909999</MsgId></xml>"
)


class FakeHub:
    """The console hub's one coroutine, scripted by customer text; records every call, may be slow."""

    def __init__(self, replies: dict | None = None, *, delay: float = 0.0):
        self.replies = replies or {}
        self.delay = delay
        self.calls: list[tuple[str, str, str, dict]] = []

    async def customer_says(self, channel_user: str, channel: str, text: str, metadata: dict) -> list[dict]:
        self.calls.append((channel_user, channel, text, metadata))
        await asyncio.sleep(self.delay)
        reply = self.replies.get(text, [{"text": f"收到：{text}"}])
        if isinstance(reply, Exception):
            raise reply
        return reply


@asynccontextmanager
async def wechat(hub: FakeHub, *, sender=None, window: float = 4.0, token: str = TOKEN):
    app = web.Application()
    wechat_routes(app, token=token, account=ACCOUNT, hub=hub, sender=sender or RecordingSender(), window=window)
    async with TestClient(TestServer(app)) as client:
        yield client


async def post(client: TestClient, body: str | bytes, query: dict | None = None) -> tuple[int, str]:
    data = body.encode() if isinstance(body, str) else body
    async with client.post(
        "/wechat", params=signed_query() if query is None else query, data=data, headers={"Content-Type": "text/xml"}
    ) as r:
        return r.status, await r.text()


def passive_reply(body: str) -> dict[str, str]:
    root = ET.fromstring(body)
    assert root.tag == "xml"
    return {child.tag: child.text or "" for child in root}


async def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# --- signature and URL verification -----------------------------------------------------------------------


def test_signature_ok_checks_hash_and_replay_window():
    now = 1732800000
    ts = str(now)
    good = wechat_signature(TOKEN, ts, NONCE)
    assert signature_ok(TOKEN, ts, NONCE, good, now=now)
    assert signature_ok(TOKEN, ts, NONCE, good.upper(), now=now)
    assert not signature_ok(TOKEN, ts, NONCE, wechat_signature("other-token", ts, NONCE), now=now)
    assert not signature_ok(TOKEN, ts, "other-nonce", good, now=now)
    assert signature_ok(TOKEN, ts, NONCE, good, now=now + 300)
    assert not signature_ok(TOKEN, ts, NONCE, good, now=now + 301)  # replayed
    assert not signature_ok(TOKEN, ts, NONCE, good, now=now - 301)  # from the future
    assert signature_ok(TOKEN, ts, NONCE, good, now=now + 900, max_skew=1000)
    assert not signature_ok(TOKEN, "not-a-time", NONCE, wechat_signature(TOKEN, "not-a-time", NONCE), now=now)
    assert not signature_ok("", ts, NONCE, wechat_signature("", ts, NONCE), now=now)
    assert not signature_ok(TOKEN, ts, NONCE, "", now=now)


def test_url_verification_echoes_echostr_when_signed():
    async def scenario():
        hub = FakeHub()
        async with wechat(hub) as client:
            async with client.get("/wechat", params=signed_query(echostr="7263544938261572093")) as r:
                assert r.status == 200
                assert r.content_type == "text/plain"
                assert await r.text() == "7263544938261572093"
            forged = signed_query(echostr="7263544938261572093", token="forged")
            async with client.get("/wechat", params=forged) as r:
                assert r.status == 403
                assert "7263544938261572093" not in await r.text()
            async with client.get("/wechat", params={"echostr": "1"}) as r:
                assert r.status == 403

    asyncio.run(scenario())


def test_not_configured_answers_503():
    async def scenario():
        async with wechat(FakeHub(), token="") as client:
            async with client.get("/wechat", params=signed_query(echostr="1", token="")) as r:
                assert r.status == 503 and await r.text() == NOT_CONFIGURED
            assert await post(client, text_message("停电了"), signed_query(token="")) == (503, NOT_CONFIGURED)

    asyncio.run(scenario())


def test_forged_or_stale_post_is_refused_and_not_forwarded():
    async def scenario():
        hub = FakeHub()
        async with wechat(hub) as client:
            status, _ = await post(client, text_message("我家停电了"), signed_query(token="forged"))
            assert status == 403
            status, _ = await post(client, text_message("我家停电了"), signed_query(int(time.time()) - 600))
            assert status == 403
            status, _ = await post(client, text_message("我家停电了"), {})
            assert status == 403
            # a refused message is not remembered either: WeChat's genuine delivery still goes through
            status, _ = await post(client, text_message("我家停电了"))
            assert status == 200
        assert [c[2] for c in hub.calls] == ["我家停电了"]

    asyncio.run(scenario())


# --- hostile and broken bodies ------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + f"]><xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">'
    f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>3</MsgId></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        "我家停电了",
        "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName>",
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        "<Content>停电</Content></xml>",
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><MsgType></MsgType></xml>",
        b"\xff\xfe<xml>",
        "",
    ],
    ids=["not-xml", "truncated", "no-FromUserName", "empty-MsgType", "binary", "empty"],
)
def test_malformed_message_is_400_and_not_forwarded(body):
    async def scenario():
        hub = FakeHub()
        async with wechat(hub) as client:
            status, text = await post(client, body)
        assert status == 400
        assert 0 < len(text) < 200
        assert hub.calls == []

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD], ids=["billion-laughs", "external-entity", "external-dtd"]
)
def test_xml_attacks_are_400_and_never_expanded(body):
    async def scenario():
        hub = FakeHub()
        async with wechat(hub) as client:
            started = time.monotonic()
            status, text = await post(client, body)
            assert time.monotonic() - started < 2.0
        assert status == 400
        assert "lollol" not in text and "root:" not in text and len(text) < 200
        assert hub.calls == []

    asyncio.run(scenario())


def test_oversize_body_is_413():
    async def scenario():
        hub = FakeHub()
        padding = "停" * (MAX_BODY_BYTES // 3 + 10)
        async with wechat(hub) as client:
            status, _ = await post(client, text_message(padding))
            assert status == 413

            async def chunks():  # no Content-Length: the limit holds while reading
                for _ in range(20):
                    yield b"<xml>" + b" " * 8192

            async with client.post("/wechat", params=signed_query(), data=chunks()) as r:
                assert r.status == 413
            at_limit = text_message("查电费")
            at_limit = at_limit.replace("<xml>", "<xml>" + " " * (MAX_BODY_BYTES - len(at_limit.encode())), 1)
            assert len(at_limit.encode()) == MAX_BODY_BYTES
            status, _ = await post(client, at_limit)
            assert status == 200
        assert [c[2] for c in hub.calls] == ["查电费"]

    asyncio.run(scenario())


# --- message kinds ---------------------------------------------------------------------------------------------


def test_text_gets_the_bots_answer_as_passive_reply():
    async def scenario():
        hub = FakeHub(
            {
                "我要查电费": [
                    {"text": "好的，请告诉我您的十位户号。"},
                    {
                        "text": "您也可以选择：",
                        "buttons": [
                            {"title": "电费查询", "payload": "/query_bill"},
                            {"title": "缴费记录", "payload": "/payment_history"},
                        ],
                    },
                    {"custom": {"handoff": False}},
                ]
            }
        )
        async with wechat(hub) as client:
            async with client.post("/wechat", params=signed_query(), data=text_message("我要查电费").encode()) as r:
                assert r.status == 200
                assert r.content_type in ("application/xml", "text/xml")
                reply = passive_reply(await r.text())
        assert reply["ToUserName"] == OPENID
        assert reply["FromUserName"] == ACCOUNT
        assert reply["MsgType"] == "text"
        assert abs(int(reply["CreateTime"]) - time.time()) < 10
        assert reply["Content"] == "好的，请告诉我您的十位户号。\n您也可以选择：\n· 电费查询\n· 缴费记录"
        assert hub.calls == [(f"wechat:{OPENID}", "wechat", "我要查电费", {"channel": "wechat", "openid": OPENID})]

    asyncio.run(scenario())


def test_voice_recognition_is_routed_to_the_bot():
    async def scenario():
        hub = FakeHub({"我家停电了": [{"text": "好的，马上帮您报修。请问停电的详细地址是哪里？"}]})
        async with wechat(hub) as client:
            status, body = await post(client, voice_message("我家停电了"))
        assert status == 200
        assert passive_reply(body)["Content"] == "好的，马上帮您报修。请问停电的详细地址是哪里？"
        assert [c[2] for c in hub.calls] == ["我家停电了"]

    asyncio.run(scenario())


def test_voice_without_recognition_gets_a_polite_reply():
    async def scenario():
        hub = FakeHub()
        async with wechat(hub) as client:
            status, body = await post(client, voice_message(""))
        assert status == 200
        reply = passive_reply(body)
        assert (reply["Content"], reply["ToUserName"]) == (VOICE_NOT_HEARD, OPENID)
        assert hub.calls == []

    asyncio.run(scenario())


def test_subscribe_is_welcomed_and_other_events_acknowledged():
    async def scenario():
        hub = FakeHub()
        async with wechat(hub) as client:
            status, body = await post(client, event_message("subscribe", EventKey=""))
            assert status == 200 and passive_reply(body)["Content"] == WELCOME.chat
            assert await post(client, event_message("unsubscribe", 1732800001)) == (200, ACK)
            assert await post(client, event_message("CLICK", 1732800002, EventKey="V1001_BILL")) == (200, ACK)
            status, body = await post(client, IMAGE_MESSAGE)
            assert status == 200 and passive_reply(body)["Content"] == TEXT_ONLY
        assert hub.calls == []

    asyncio.run(scenario())


def test_wechat_retries_are_forwarded_once():
    async def scenario():
        hub = FakeHub({"我家停电了": [{"text": "请问停电的详细地址是哪里？"}]})
        async with wechat(hub) as client:
            first = await post(client, text_message("我家停电了", msg_id="24512345678900001"))
            assert passive_reply(first[1])["Content"] == "请问停电的详细地址是哪里？"
            for _ in range(2):
                assert await post(client, text_message("我家停电了", msg_id="24512345678900001")) == (200, ACK)
            status, _ = await post(client, text_message("我家停电了", msg_id="24512345678900002"))
            assert status == 200
            # events carry no MsgId: a retried subscribe (same sender and CreateTime) is welcomed once
            assert (
                passive_reply((await post(client, event_message("subscribe", 1732800500)))[1])["Content"]
                == WELCOME.chat
            )
            assert await post(client, event_message("subscribe", 1732800500)) == (200, ACK)
        assert [c[2] for c in hub.calls] == ["我家停电了", "我家停电了"]

    asyncio.run(scenario())


# --- the 5-second window --------------------------------------------------------------------------------------


def test_slow_bot_is_acknowledged_in_time_and_answered_through_the_sender():
    async def scenario():
        hub = FakeHub(
            {
                "电费为什么这么高": [
                    {"text": "您本月用电 320 度，", "buttons": [{"title": "阶梯电价说明", "payload": "/tariff"}]}
                ]
            },
            delay=1.0,
        )
        sender = RecordingSender()
        async with wechat(hub, sender=sender, window=0.3) as client:
            started = time.monotonic()
            assert await post(client, text_message("电费为什么这么高", msg_id="245199")) == (200, ACK)
            assert time.monotonic() - started < 0.8
            assert sender.sent == []
            # WeChat retries the unanswered message: still only one bot turn and one late answer
            assert await post(client, text_message("电费为什么这么高", msg_id="245199")) == (200, ACK)
            await wait_until(lambda: sender.sent)
            await asyncio.sleep(0.2)
        assert sender.sent == [(OPENID, "您本月用电 320 度，\n· 阶梯电价说明")]
        assert len(hub.calls) == 1

    asyncio.run(scenario())


def test_paused_bot_is_acknowledged_with_success():
    async def scenario():
        hub = FakeHub({"转人工": [], "在吗": [{"custom": {"agent_owns_case": True}}]})
        sender = RecordingSender()
        async with wechat(hub, sender=sender) as client:
            assert await post(client, text_message("转人工", msg_id="1")) == (200, ACK)
            assert await post(client, text_message("在吗", msg_id="2")) == (200, ACK)
        assert len(hub.calls) == 2 and sender.sent == []

    asyncio.run(scenario())


def test_hub_failure_gets_an_apology():
    async def scenario():
        hub = FakeHub({"查电费": RuntimeError("rasa down")})
        async with wechat(hub) as client:
            status, body = await post(client, text_message("查电费"))
        assert status == 200 and passive_reply(body)["Content"] == BUSY.chat

    asyncio.run(scenario())


def test_cdata_terminator_in_bot_text_still_yields_valid_xml():
    tricky = "户号]]><MsgType>hack</MsgType> & <![CDATA[x]]> 结束\x07"

    async def scenario():
        hub = FakeHub({"hi": [{"text": tricky}]})
        async with wechat(hub) as client:
            status, body = await post(client, text_message("hi"))
        assert status == 200
        reply = passive_reply(body)
        assert reply["Content"] == tricky.replace("\x07", "")
        assert reply["MsgType"] == "text"

    asyncio.run(scenario())


# --- the customer-service message API -------------------------------------------------------------------------


class FakeWeChatApi:
    """WeChat's token and custom/send endpoints: numbered tokens, revocable, calls recorded."""

    def __init__(self, *, expires_in: int = 7200, send_errcode: int = 0, refuse_all_tokens: int = 0):
        self.expires_in, self.send_errcode, self.refuse_all_tokens = expires_in, send_errcode, refuse_all_tokens
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.token_requests: list[dict] = []
        self.sends: list[tuple[str, bytes]] = []
        self.app = web.Application()
        self.app.router.add_get("/cgi-bin/token", self.token)
        self.app.router.add_post("/cgi-bin/message/custom/send", self.send)

    def expire_all(self) -> None:
        self.valid.clear()

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests.append(dict(request.query))
        await asyncio.sleep(0.05)  # long enough for concurrent sends to overlap
        if request.query.get("secret") != "s3cret":
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        token = f"ACCESS_TOKEN_{len(self.issued) + 1}"
        self.issued.append(token)
        self.valid.add(token)
        # WeChat answers JSON as text/plain
        return web.Response(text=json.dumps({"access_token": token, "expires_in": self.expires_in}))

    async def send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        self.sends.append((token, await request.read()))
        if token not in self.valid or self.refuse_all_tokens:
            return web.json_response({"errcode": self.refuse_all_tokens or 40001, "errmsg": "invalid credential"})
        if self.send_errcode:
            return web.json_response({"errcode": self.send_errcode, "errmsg": "response out of time limit"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@asynccontextmanager
async def wechat_api(api: FakeWeChatApi):
    async with TestServer(api.app) as server, aiohttp.ClientSession() as http:
        yield WeChatApiSender(http, "wx95598appid", "s3cret", base_url=str(server.make_url("")))


def test_sender_fetches_the_token_once_and_sends_utf8_json():
    async def scenario():
        api = FakeWeChatApi()
        async with wechat_api(api) as sender:
            await asyncio.gather(*(sender.send_text(OPENID, f"第{i}条") for i in range(5)))  # all find no token
            await sender.send_text(OPENID, "您的户号 0123456789 本月电费 156.80 元。")
        assert api.token_requests == [{"grant_type": "client_credential", "appid": "wx95598appid", "secret": "s3cret"}]
        assert [token for token, _ in api.sends] == ["ACCESS_TOKEN_1"] * 6
        raw = api.sends[-1][1]
        assert "本月电费".encode() in raw  # ensure_ascii=False: UTF-8, not \\u escapes
        assert json.loads(raw) == {
            "touser": OPENID,
            "msgtype": "text",
            "text": {"content": "您的户号 0123456789 本月电费 156.80 元。"},
        }

    asyncio.run(scenario())


def test_sender_refreshes_a_token_near_expiry():
    async def scenario():
        api = FakeWeChatApi(expires_in=300)  # within the 5-minute margin: stale at once
        async with wechat_api(api) as sender:
            await sender.send_text(OPENID, "一")
            await sender.send_text(OPENID, "二")
        assert [token for token, _ in api.sends] == ["ACCESS_TOKEN_1", "ACCESS_TOKEN_2"]

    asyncio.run(scenario())


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_sender_retries_once_with_a_new_token(errcode):
    async def scenario():
        api = FakeWeChatApi()
        async with wechat_api(api) as sender:
            await sender.send_text(OPENID, "一")
            api.expire_all()
            api.refuse_all_tokens = errcode
            with pytest.raises(WeChatApiError):
                await sender.send_text(OPENID, "二")  # refused again after one refresh: give up
            api.refuse_all_tokens = 0
            api.expire_all()
            await sender.send_text(OPENID, "三")
        assert [token for token, _ in api.sends] == [
            "ACCESS_TOKEN_1",
            "ACCESS_TOKEN_1",
            "ACCESS_TOKEN_2",
            "ACCESS_TOKEN_2",
            "ACCESS_TOKEN_3",
        ]
        assert json.loads(api.sends[-1][1])["text"]["content"] == "三"

    asyncio.run(scenario())


def test_sender_raises_on_other_errors_without_retry():
    async def scenario():
        api = FakeWeChatApi(send_errcode=45015)
        async with wechat_api(api) as sender:
            with pytest.raises(WeChatApiError, match="45015"):
                await sender.send_text(OPENID, "超过48小时")
        assert len(api.sends) == 1 and len(api.token_requests) == 1
        async with TestServer(api.app) as server, aiohttp.ClientSession() as http:
            wrong = WeChatApiSender(http, "wx95598appid", "wrong", base_url=str(server.make_url("")))
            with pytest.raises(WeChatApiError):
                await wrong.send_text(OPENID, "hi")

    asyncio.run(scenario())


def test_late_answer_goes_out_through_the_wechat_api():
    async def scenario():
        api = FakeWeChatApi()
        hub = FakeHub({"报修进度": [{"text": "您的报修单已派单，抢修人员正在赶往现场。"}]}, delay=0.5)
        async with wechat_api(api) as sender, wechat(hub, sender=sender, window=0.1) as client:
            assert await post(client, text_message("报修进度")) == (200, ACK)
            await wait_until(lambda: api.sends)
        assert json.loads(api.sends[0][1]) == {
            "touser": OPENID,
            "msgtype": "text",
            "text": {"content": "您的报修单已派单，抢修人员正在赶往现场。"},
        }

    asyncio.run(scenario())
