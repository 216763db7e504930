"""Findings 4, 10, 11, 12: continuation codes, login throttling, masking in pushed payloads and WeChat
replays, against the running console (chat page, agent console, WeChat webhook)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid

import pytest
import requests

from backend.contact_centre import ContactStore
from backend.db import make_engine, make_sessionmaker
from backend.identity import IdentityStore
from console.hub import Hub
from tests.conftest import DEMO_PASSWORD, WECHAT_TOKEN


@pytest.fixture
def stores(seeded_db_url):
    sessions = make_sessionmaker(make_engine(seeded_db_url))
    return ContactStore(sessions), IdentityStore(sessions)


def chat_client(stack) -> requests.Session:
    s = requests.Session()
    assert s.get(f"{stack.console_url}/chat", timeout=10).ok  # the page sets the chat cookie
    return s


def continue_with(stack, s: requests.Session, code: str, origin: str | None = None, forwarded: str | None = None):
    headers = {"Origin": origin or stack.console_url}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return s.post(f"{stack.console_url}/chat/continue", json={"code": code}, headers=headers, timeout=60)


# --- 4. continuation codes ---------------------------------------------------------------------------
def test_opening_a_continuation_link_changes_nothing(stack, stores):
    contact, _ = stores
    code = contact.issue_code(f"voice:1390000{secrets.randbelow(9999):04d}")
    victim = chat_client(stack)
    r = victim.get(f"{stack.console_url}/c/{code}", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == f"/chat?continue={code}"
    assert contact.redeem_code(code) is not None  # still unused: the GET bound nothing


def test_binding_needs_our_origin_and_a_code_works_once(stack, stores):
    contact, _ = stores
    conversation = f"voice:1380000{secrets.randbelow(9999):04d}"
    code = contact.issue_code(conversation)
    first = chat_client(stack)
    assert continue_with(stack, first, code, origin="https://evil.example").status_code == 403
    r = continue_with(stack, first, code)
    assert r.ok and r.json()["continued"] is True
    second = chat_client(stack)
    r = continue_with(stack, second, code)
    assert r.ok and r.json()["continued"] is False and "不对或者已经过期" in r.json()["messages"][0]["text"]


def test_binding_drops_any_verification_made_in_the_case(stack, stores):
    contact, identity = stores
    conversation = f"voice:1370000{secrets.randbelow(9999):04d}"
    code = contact.issue_code(conversation)
    identity.record(conversation, "3201000004", "last4")  # verified on the phone after the code was issued
    assert continue_with(stack, chat_client(stack), code).json()["continued"] is True
    assert not identity.verified(conversation, "3201000004")


def test_guessing_codes_is_limited_per_cookie_and_per_address(stack, stores):
    contact, _ = stores
    address = f"198.51.100.{secrets.randbelow(200) + 1}"
    real = contact.issue_code(f"voice:1360000{secrets.randbelow(9999):04d}")
    guessers = [chat_client(stack), chat_client(stack)]
    for guesser in guessers:
        for _ in range(5):
            continue_with(stack, guesser, f"{secrets.randbelow(10**6):06d}", forwarded=address)
    r = continue_with(stack, guessers[0], real, forwarded="192.0.2.77")  # this cookie: 5 wrong already
    assert r.json()["continued"] is False and "次数太多" in r.json()["messages"][0]["text"]
    r = continue_with(stack, chat_client(stack), real, forwarded=address)  # a new cookie, same address
    assert r.json()["continued"] is False and "次数太多" in r.json()["messages"][0]["text"]
    assert contact.redeem_code(real) is not None  # the real code was never spent by a guesser


def test_codes_are_short_lived(stores):
    contact, _ = stores
    from backend.contact_centre import CODE_TTL

    assert CODE_TTL.total_seconds() <= 30 * 60


# --- 10. login throttling cannot lock agents out -----------------------------------------------------
def login(stack, username: str, password: str, address: str) -> int:
    s = requests.Session()
    page = s.get(f"{stack.console_url}/console/login", timeout=10).text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = s.post(
        f"{stack.console_url}/console/login",
        allow_redirects=False,
        timeout=30,
        data={"username": username, "password": password, "csrf": csrf},
        headers={"Origin": stack.console_url, "X-Forwarded-For": address},
    )
    return r.status_code


def test_failed_logins_from_one_address_do_not_lock_the_agent_out_elsewhere(stack):
    attacker, agent = f"203.0.113.{secrets.randbelow(200) + 1}", "192.0.2.10"
    for _ in range(6):
        assert login(stack, "1002", "wrong-password", attacker) == 401
    assert login(stack, "1002", DEMO_PASSWORD, attacker) == 401  # the attacker's address is blocked
    assert login(stack, "1002", DEMO_PASSWORD, agent) == 302  # the agent at their own desk is not


def test_forwarded_for_is_ignored_from_untrusted_peers():
    from aiohttp.test_utils import make_mocked_request

    from console.auth import client_address
    from console.config import ConsoleConfig

    ours = ConsoleConfig.from_env({"P95598_DB_URL": "sqlite://", "P95598_TRUSTED_PROXIES": "10.0.0.0/8"})
    spoofed = make_mocked_request("POST", "/console/login", headers={"X-Forwarded-For": "1.2.3.4"})
    assert client_address(spoofed, ours.trusted_proxies) != "1.2.3.4"
    ingress = ConsoleConfig.from_env({"P95598_DB_URL": "sqlite://", "P95598_TRUSTED_PROXIES": "127.0.0.1"})
    req = make_mocked_request(
        "POST", "/", headers={"X-Forwarded-For": "9.9.9.9, 1.2.3.4"}, transport=_Transport("127.0.0.1")
    )
    assert client_address(req, ingress.trusted_proxies) == "1.2.3.4"  # the right-most hop our proxy added


class _Transport:
    def __init__(self, peer: str):
        self.peer = peer

    def get_extra_info(self, name, default=None):
        return (self.peer, 1234) if name == "peername" else default


# --- 11. pushed payloads are masked for everyone but the case's owner --------------------------------
class _Socket:
    def __init__(self):
        self.sent: list[dict] = []
        self.closed = False

    async def send_json(self, payload):
        self.sent.append(payload)


def test_pushed_case_messages_are_masked_for_colleagues(stores):
    contact, _ = stores
    hub = Hub(rasa=None, contact=contact)
    owner, colleague, supervisor = _Socket(), _Socket(), _Socket()
    hub.agents[1].add(owner)
    hub.agents[2].add(colleague)
    hub.agents[9].add(supervisor)
    hub.supervisors.add(9)
    payload = {"type": "customer", "case": 5, "text": "我的电话13912345678，户号3201000001"}
    asyncio.run(hub.on_bus({"to": "case_agents", "owner": 1, "payload": payload}))
    asyncio.run(hub.on_bus({"to": "case_agents", "owner": None, "payload": payload}))  # still in the queue
    assert owner.sent[0]["text"] == payload["text"]
    assert colleague.sent and all("13912345678" not in p["text"] for p in colleague.sent)
    assert all("13912345678" not in p["text"] and "3201000001" not in p["text"] for p in supervisor.sent)
    assert "13912345678" not in owner.sent[1]["text"]  # a waiting case: nobody owns it yet


# --- 12. WeChat replays -------------------------------------------------------------------------------
def signed(timestamp: str, nonce: str) -> dict:
    signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"timestamp": timestamp, "nonce": nonce, "signature": signature}


def text_message(openid: str, content: str, msg_id: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def test_a_captured_wechat_signature_cannot_carry_another_message(stack):
    query = signed(str(int(time.time())), str(secrets.randbelow(10**9)))
    openid = f"o-replay-{uuid.uuid4().hex[:8]}"
    url = f"{stack.console_url}/wechat"
    first = requests.post(url, params=query, data=text_message(openid, "你好", "9001"), timeout=60)
    assert first.status_code == 200
    retry = requests.post(url, params=query, data=text_message(openid, "你好", "9001"), timeout=60)
    assert retry.status_code == 200  # WeChat's own retry of that message
    forged = requests.post(
        url, params=query, data=text_message(f"o-victim-{uuid.uuid4().hex[:6]}", "帮我改手机号", "9002"), timeout=60
    )
    assert forged.status_code == 403
    tracker = requests.get(stack.api(f"/conversations/wechat:{openid}/tracker"), timeout=10).json()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["你好"]
