"""Every refused request answers in Chinese (issue 17 item 9): a page with a link back when a browser opened a
page, `{"error": "中文"}` with the same status for the APIs and the pages' fetch calls. Against the real console
app and database; Rasa is the small stand-in of tests/console/console_app.py."""

from __future__ import annotations

import asyncio
import re

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from backend.contact_centre import CaseStatus
from console.errors import NOT_YOURS, SESSION_EXPIRED, chinese_errors
from tests.console.console_app import Agent, running_console

ENGLISH = re.compile(r"[A-Za-z]{4,}")
AGENTS = (("1001", "张丽", "agent"), ("1002", "王强", "agent"), ("9001", "刘主管", "supervisor"))


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    with running_console(f"sqlite:///{tmp_path_factory.mktemp('refusals') / 'c.db'}", AGENTS) as running:
        yield running


def error_of(r: requests.Response) -> str:
    assert r.headers["Content-Type"].startswith("application/json"), r.text
    message = r.json()["error"]
    assert re.search(r"[\u4e00-\u9fff]", message) and not ENGLISH.search(message), message
    return message


def page_of(r: requests.Response, back: str) -> str:
    assert r.headers["Content-Type"].startswith("text/html"), r.text
    assert f'href="{back}"' in r.text and 'lang="zh-CN"' in r.text
    visible = re.sub(r"<[^>]+>", " ", r.text.split("<body>", 1)[1])
    assert not ENGLISH.search(visible), visible
    return r.text


def claimed_case(console, by: str = "1001", conversation: str = "chat:refusals") -> int:
    case, _ = console.contact.escalate(conversation, "chat", "customer_request", summary="客户要求转人工", context={})
    console.contact.claim(case.id, console.contact.agent_by_username(by).id)
    return case.id


def test_a_stale_tab_after_logout_is_told_the_login_expired(console):
    anonymous = requests.get(f"{console.url}/console/api/queue", timeout=10)
    assert anonymous.status_code == 401 and error_of(anonymous) == SESSION_EXPIRED
    agent = Agent(console.url).login("1001")
    case_id = claimed_case(console, conversation="chat:stale-tab")
    assert agent.post("/console/logout", data={"csrf": agent.csrf}).status_code == 302
    # the tab still holds the old page: its fetch calls get the Chinese JSON the console script shows
    r = agent.post(f"/console/api/cases/{case_id}/messages", {"text": "您好"})
    assert r.status_code == 401 and error_of(r) == SESSION_EXPIRED
    told = [e.get("text") for e in console.rasa.trackers["chat:stale-tab"]]
    assert "您好" not in told  # the stale tab's message never reached the customer
    assert any("马上为您安排其他客服" in str(t) for t in told)  # the logout put the case back in the queue
    # a form posted from the stale page (log out again) gets a page with a link to log in
    r = agent.post("/console/logout", data={"csrf": agent.csrf}, html=True)
    assert r.status_code == 401 and "登录已过期" in page_of(r, "/console/login")
    # opening a page is simply sent to the login form
    assert agent.get("/console", html=True).headers["Location"] == "/console/login"


def test_a_colleagues_case_is_refused_in_chinese_on_the_page_and_in_the_api(console):
    case_id = claimed_case(console, "1001", "chat:colleague")
    other = Agent(console.url).login("1002")
    r = other.get(f"/console/cases/{case_id}", html=True)
    assert r.status_code == 403 and "这个会话已由其他同事处理" in page_of(r, "/console")
    assert "not your case" not in r.text
    r = other.get(f"/console/api/cases/{case_id}")
    assert r.status_code == 403 and error_of(r) == NOT_YOURS
    r = other.post(f"/console/api/cases/{case_id}/close", {"disposition": "resolved"})
    assert r.status_code == 403 and error_of(r) == NOT_YOURS
    assert console.contact.case(case_id).status == CaseStatus.CLAIMED  # nothing changed
    r = other.get("/console/supervisor", html=True)
    assert r.status_code == 403 and "只有班长" in page_of(r, "/console")
    r = other.get("/console/api/stats")
    assert r.status_code == 403 and "只有班长" in error_of(r)
    r = other.post(f"/console/api/cases/{case_id}/claim", headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403 and "页面已过期" in error_of(r)
    r = other.post(f"/console/api/cases/{case_id}/claim", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and error_of(r)


def test_what_is_not_there_is_not_found_in_chinese_everywhere(console):
    agent = Agent(console.url).login("1001")
    r = agent.get("/console/api/cases/999999")
    assert r.status_code == 404 and error_of(r) == "没有找到这个会话。"
    r = agent.get("/console/api/cases/abc")
    assert r.status_code == 404 and error_of(r)
    r = agent.get("/console/no-such-page", html=True)
    assert r.status_code == 404 and "没有找到" in page_of(r, "/console")
    r = agent.get("/console/api/no-such-call")
    assert r.status_code == 404 and error_of(r)
    r = requests.get(f"{console.url}/field/api/no-such-call", timeout=10)
    assert r.status_code == 404 and error_of(r)
    r = requests.get(f"{console.url}/chat/nowhere", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 404 and "没有找到" in page_of(r, "/chat")
    r = requests.get(f"{console.url}/field/nowhere", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 404 and page_of(r, "/field")


def test_a_case_that_changed_meanwhile_is_a_409_in_chinese(console):
    agent = Agent(console.url).login("1001")
    case_id = claimed_case(console, "1001", "chat:twice")
    r = agent.post(f"/console/api/cases/{case_id}/claim")
    assert r.status_code == 409 and "刚刚有变化" in error_of(r)
    waiting, _ = console.contact.escalate("chat:waiting", "chat", "customer_request", summary="等待中", context={})
    r = agent.post(f"/console/api/cases/{waiting.id}/messages", {"text": "您好"})
    assert r.status_code == 409 and error_of(r) == "请先接入这个会话。"


def test_bad_and_oversize_input_is_refused_in_chinese_and_nothing_is_stored(console):
    agent = Agent(console.url).login("1001")
    case_id = claimed_case(console, "1001", "chat:bad-input")
    r = agent.post(f"/console/api/cases/{case_id}/messages", {"text": "   "})
    assert r.status_code == 400 and "请输入回复内容" in error_of(r)
    r = agent.post(f"/console/api/cases/{case_id}/messages", data="not json", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and "格式不对" in error_of(r)
    r = agent.post(f"/console/api/cases/{case_id}/close", {"disposition": "drop_table"})
    assert r.status_code == 400 and error_of(r) == "请选择处理结果。"
    r = agent.post(f"/console/api/cases/{case_id}/messages", {"text": "电" * 300_000})
    assert r.status_code == 413 and "太大" in error_of(r)
    assert console.rasa.trackers["chat:bad-input"] == []
    assert console.contact.case(case_id).status == CaseStatus.CLAIMED
    r = agent.post(
        "/console/logout", data={"csrf": agent.csrf, "pad": "x" * 300_000}, headers={"X-CSRF-Token": ""}, html=True
    )
    assert r.status_code == 413 and "太大" in page_of(r, "/console")
    chat = requests.Session()
    chat.get(f"{console.url}/chat", timeout=10)
    r = chat.post(f"{console.url}/chat/continue", json={"code": "12ab"}, headers={"Origin": console.url}, timeout=10)
    assert r.status_code == 400 and "6位数字" in error_of(r)
    r = requests.post(f"{console.url}/chat/code", timeout=10)  # no chat page opened (no cookie, no origin)
    assert r.status_code == 403 and error_of(r)


def test_wechat_refusals_are_chinese_too(console):
    r = requests.post(f"{console.url}/wechat", params={"signature": "x", "timestamp": "1", "nonce": "2"}, timeout=10)
    assert r.status_code == 403 and "签名" in error_of(r)


@pytest.mark.parametrize(
    ("status", "raised", "words"),
    [
        (400, web.HTTPBadRequest(text="JSON body expected"), "提交的内容不对"),
        (401, web.HTTPUnauthorized(text="login required"), "登录已过期"),
        (403, web.HTTPForbidden(text="not your case"), "没有权限"),
        (404, web.HTTPNotFound(), "没有找到"),
        (409, web.HTTPConflict(text="case 3 is not waiting any more"), "刚刚有变化"),
        (413, web.HTTPRequestEntityTooLarge(max_size=10, actual_size=20), "太大"),
    ],
)
def test_english_texts_left_anywhere_become_chinese_pages_and_json(status, raised, words):
    async def handler(request: web.Request) -> web.Response:
        raise raised

    async def crash(request: web.Request) -> web.Response:
        raise RuntimeError("database exploded")

    app = web.Application(middlewares=[chinese_errors])
    app.router.add_get("/console/page", handler)
    app.router.add_get("/console/api/call", handler)
    app.router.add_get("/console/crash", crash)
    asyncio.run(_check(app, status, raised, words))


async def _check(app: web.Application, status: int, raised: web.HTTPException, words: str) -> None:
    async with TestClient(TestServer(app)) as client:
        page = await client.get("/console/page", headers={"Accept": "text/html"})
        text = await page.text()
        assert raised.text is not None
        assert page.status == status and words in text and "<a href=" in text and raised.text not in text
        call = await client.get("/console/api/call", headers={"Accept": "text/html"})  # an API path: JSON
        assert call.status == status and words in (await call.json())["error"]
        fetched = await client.get("/console/page")  # fetch() from a page: JSON
        assert fetched.status == status and words in (await fetched.json())["error"]
        broken = await client.get("/console/crash", headers={"Accept": "text/html"})
        assert broken.status == 500 and "系统出了点问题" in await broken.text()
