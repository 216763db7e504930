"""The chat page's server side through the running product: a resent message is taken once, every tab of one
browser sees the same conversation, the history after a reload is what was shown live, photos are checked and
re-encoded, and a chat ends with a rating that is stored."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from yarl import URL

from backend import models as m
from backend.contact_centre import ContactStore
from console.chat_view import RecentIds, chat_history, has_message
from console.clients import ChatCustomer, ConsoleAgent, new_session
from console.config import ConsoleConfig
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.usefixtures("nobody_online")  # tests.conftest


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 240))


def conversation_of(http, stack) -> str:
    return f"chat:{http.cookie_jar.filter_cookies(URL(stack.console_url))['p95598_chat'].value}"


async def quiet(tab: ChatCustomer, seconds: float = 1.5) -> list[dict]:
    """Everything that arrives on the tab until nothing has come for `seconds`."""
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(tab.inbox.get(), seconds))
        except TimeoutError:
            return got


async def send(tab: ChatCustomer, text: str, message_id: str, **extra) -> list[dict]:
    """Sends like the page does; everything until the bot stopped typing (or only the acknowledgement)."""
    assert tab.ws is not None
    await tab.ws.send_json({"type": "text", "text": text, "id": message_id, **extra})
    got = []
    while True:
        item = await asyncio.wait_for(tab.inbox.get(), 60)
        got.append(item)
        if item.get("type") == "typing" and not item.get("on"):
            return got
        if item.get("type") == "sent" and item.get("duplicate"):
            return got + await quiet(tab)


def shown(items: list[dict]) -> list[tuple]:
    """What a page shows of a list of socket items: who said what (agent names, buttons, cards included)."""
    out = []
    for i in items:
        if i.get("type") in ("message", "sent"):
            who = "customer" if i["type"] == "sent" else i["who"]
            buttons = [b["title"] for b in i.get("buttons") or []]
            out.append((who, i["text"], i.get("name") or "", buttons))
        elif i.get("type") == "rating":
            out.append(("rating", i["text"], "", []))
        elif i.get("type") == "rated":
            out = [x for x in out if x[0] != "rating"]
    return out


async def post(http, stack, path: str, headers: dict | None = None, **kw):
    headers = {"Origin": stack.console_url, **(headers or {})}
    async with http.post(f"{stack.console_url}{path}", headers=headers, **kw) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else await r.text())


def jpeg(width: int, height: int, exif: bool = False) -> bytes:
    img = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    if exif:
        info = Image.Exif()
        info[0x010F] = "TestCam"  # Make
        info[0x0131] = "secret-software"  # Software
        img.save(out, format="JPEG", exif=info.tobytes())
    else:
        img.save(out, format="JPEG")
    return out.getvalue()


def test_the_history_builder_and_the_id_memory():
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "/bill_query", "timestamp": 1, "metadata": {"client_message_id": "a1"}},
        {"event": "bot", "text": "请问户号？", "data": {"buttons": [{"title": "好的", "payload": "/affirm"}]}},
        {"event": "user", "text": "/affirm", "metadata": {"client_message_id": "a2"}},
        {"event": "user", "text": "EXTERNAL: human_agent"},
        {"event": "bot", "text": "转给同事", "metadata": {"agent": "1001", "agent_name": "张丽", "shown_as": "system"}},
        {"event": "bot", "text": "您好", "metadata": {"agent": "1001", "agent_name": "张丽"}},
        {"event": "bot", "text": "请为本次服务打分", "metadata": {"shown_as": "rating", "rating": "case:1"}},
        {"event": "bot", "text": "请为本次服务打分", "metadata": {"shown_as": "rating", "rating": "case:2"}},
    ]
    items = chat_history(events, pending_rating="case:2")
    assert [(i.get("who", i["type"]), i["text"], i.get("name", "")) for i in items] == [
        ("customer", "电费查询", ""),
        ("bot", "请问户号？", ""),
        ("customer", "好的", ""),
        ("system", "转给同事", ""),
        ("agent", "您好", "张丽"),
        ("rating", "请为本次服务打分", ""),  # only the unanswered question is a card
    ]
    assert items[0]["id"] == "a1" and items[1]["buttons"][0]["title"] == "好的"
    assert has_message(events, "a2") and not has_message(events, "a3")
    seen = RecentIds(size=2)
    assert seen.take("c", "x") and not seen.take("c", "x") and seen.take("d", "x")
    assert seen.take("c", "y") and seen.take("c", "z") and seen.take("d", "x")  # the oldest were forgotten


def test_a_resent_message_is_taken_once_and_every_tab_sees_it(stack, contact):
    async def scenario() -> None:
        async with new_session() as http:
            tab1 = await ChatCustomer(http, stack.console_url).open()
            tab2 = await ChatCustomer(http, stack.console_url).open()  # the same browser: the same cookie
            got = await send(tab1, "帮我查一下电费", "dupe-1")
            assert got[0] == {"type": "sent", "id": "dupe-1", "text": "帮我查一下电费", "at": got[0]["at"]}
            replies = [i for i in got if i["type"] == "message"]
            assert replies and "户号" in replies[0]["text"] and replies[0]["id"] == "dupe-1.0"
            other = await quiet(tab2)
            assert [i for i in other if i["type"] != "typing"] == [i for i in got if i["type"] != "typing"]

            # the page lost the acknowledgement and resends from another socket: acknowledged, not processed
            tab3 = await ChatCustomer(http, stack.console_url).open()
            again = await send(tab3, "帮我查一下电费", "dupe-1", resend=True)
            assert again[0]["type"] == "sent" and again[0]["duplicate"] and again[0]["id"] == "dupe-1"
            assert [i for i in again[1:] if i["type"] != "typing"] == []
            assert await quiet(tab1, 0.5) == [] and await quiet(tab2, 0.5) == []  # other tabs: nothing new
            tab4 = await ChatCustomer(http, stack.console_url).open()
            history = tab4.history["messages"]
            assert [i["id"] for i in history if i["who"] == "customer"] == ["dupe-1"]
            assert sum(1 for i in history if i["who"] == "bot") == len(replies)

            # a reply typed in the second tab reaches the first, each item once
            got2 = await send(tab2, "3201000001", "dupe-2")
            first = [i for i in await quiet(tab1) if i["type"] != "typing"]
            assert first == [i for i in got2 if i["type"] != "typing"]
            assert len({i["id"] for i in first}) == len(first)
            for tab in (tab1, tab2, tab3, tab4):
                await tab.close()

    run(scenario())


def test_the_history_after_a_reload_is_what_was_shown_live(stack, contact):
    async def scenario() -> None:
        async with new_session() as hc, new_session() as ha, new_session() as hs, new_session() as stranger:
            agent = ConsoleAgent(ha, stack.console_url)
            assert await agent.login("1001", DEMO_PASSWORD) == 302
            await agent.connect()  # an agent online: the bot hands over
            supervisor = ConsoleAgent(hs, stack.console_url)
            assert await supervisor.login("9001", DEMO_PASSWORD) == 302
            await supervisor.connect()
            await asyncio.sleep(0.5)
            tab = await ChatCustomer(hc, stack.console_url).open()
            conversation = conversation_of(hc, stack)
            live: list[dict] = []
            live += await send(tab, "/bill_query", "h-1", shown="电费查询")
            live += await send(tab, "3201000001", "h-2")
            live += await send(tab, "转人工", "h-3")
            case = contact.open_case(conversation)
            assert case is not None
            assert (await supervisor.post(f"/console/api/cases/{case.id}/claim"))[0] == 200
            assert (
                await supervisor.post(f"/console/api/cases/{case.id}/messages", {"text": "王先生您好，我看一下。"})
            )[0] == 200
            status, _ = await supervisor.post(f"/console/api/cases/{case.id}/return", {"disposition": "resolved"})
            assert status == 200
            live += await quiet(tab, 2.0)
            assert any(i["type"] == "message" and i["who"] == "agent" and i["name"] for i in live)
            assert any(i["type"] == "rating" for i in live)  # the end of the agent's part asks for a rating

            reloaded = await ChatCustomer(hc, stack.console_url).open()
            assert shown(reloaded.history["messages"]) == shown(live)
            assert reloaded.history["state"] == "bot"

            # the rating card: checked, stored once, thanked in every tab; the card is gone after a reload
            key = next(i["key"] for i in live if i["type"] == "rating")
            assert key == f"case:{case.id}"
            for bad in ({"score": 0}, {"score": "5"}, {"score": 6}, {"score": 4, "comment": "长" * 301}, {}):
                status, body = await post(hc, stack, "/chat/rating", json={"key": key, **bad})
                assert status == 400 and isinstance(body, dict) and body["error"]
            await ChatCustomer(stranger, stack.console_url).open()
            status, body = await post(stranger, stack, "/chat/rating", json={"key": key, "score": 1})
            assert status == 400 and "没有找到" in body["error"]  # not this browser's conversation
            status, body = await post(hc, stack, "/chat/rating", json={"key": key, "score": 5, "comment": "很耐心"})
            assert status == 200 and body == {"key": key, "score": 5, "comment": "很耐心"}
            status, body = await post(hc, stack, "/chat/rating", json={"key": key, "score": 1})
            assert status == 200 and body["score"] == 5  # the first answer stays
            stored = contact.rating(key)
            assert stored is not None and stored.score == 5 and stored.agent_id == contact.agent_by_username("9001").id
            after = await quiet(tab)
            assert [i["type"] for i in after if i["type"] != "typing"] == ["rated", "message"]
            live += after
            again = await ChatCustomer(hc, stack.console_url).open()
            assert shown(again.history["messages"]) == shown(live)
            assert shown(live)[-1] == ("system", "感谢您的评价，我们会继续改进。", "", [])
            for x in (agent, supervisor, tab, reloaded, again):
                await x.close()

    run(scenario())


def test_ending_a_bot_only_chat_shows_the_divider_and_asks_once(stack, contact):
    async def scenario() -> None:
        async with new_session() as http:
            tab = await ChatCustomer(http, stack.console_url).open()
            conversation = conversation_of(http, stack)
            await send(tab, "电费怎么交", "e-1")
            status, body = await post(http, stack, "/chat/end")
            assert status == 200 and body["key"] == f"bot:{conversation}:1"
            items = [i for i in await quiet(tab) if i["type"] != "typing"]
            assert [i["type"] for i in items] == ["message", "handoff", "rating"]
            assert items[0]["who"] == "divider" and items[0]["text"] == "本次会话已结束"
            status, again = await post(http, stack, "/chat/end")
            assert status == 200 and again["key"] == body["key"]  # ending twice asks once
            status, refused = await post(
                http, stack, "/chat/rating", json={"key": body["key"], "score": 3, "comment": 7}
            )
            assert status == 400 and refused["error"] == "意见请用文字填写。"
            status, _ = await post(
                http, stack, "/chat/rating", json={"key": body["key"], "score": 3, "comment": "👍 还行"}
            )
            assert status == 200 and (contact.rating(body["key"]).score, contact.rating(body["key"]).comment) == (
                3,
                "👍 还行",
            )
            assert contact.pending(conversation) is None
            status, _ = await post(http, stack, "/chat/end", headers={"Origin": "https://evil.example"})
            assert status == 403
            async with http.get(f"{stack.console_url}/chat/privacy") as r:
                assert r.status == 200 and "聊天记录" in await r.text()
            await tab.close()

    run(scenario())


def test_photos_are_checked_re_encoded_and_shown_to_who_may_see_the_case(stack, contact):
    directory = Path(ConsoleConfig.from_env(os.environ).attachments_dir)

    def rows() -> int:
        with contact.sessions() as s:
            return s.scalar(select(func.count(m.Attachment.id))) or 0

    async def scenario() -> None:
        async with new_session() as hc, new_session() as h1, new_session() as hs, new_session() as stranger:
            tab = await ChatCustomer(hc, stack.console_url).open()
            conversation = conversation_of(hc, stack)
            before = rows()
            header = jpeg(8, 8)
            for body, status_wanted, words in (
                (b"", 400, "没有收到"),
                (b"hello, not a photo" * 10, 400, "JPG"),
                (header[:40] + b"\x00" * 400, 400, "损坏"),
                (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 400, "损坏"),
                (header + b"\x00" * (5 * 1024 * 1024), 413, "5MB"),
            ):
                status, answer = await post(hc, stack, "/chat/photo", data=body, headers={"Content-Type": "image/jpeg"})
                assert status == status_wanted and words in answer["error"], (status, answer)
            assert rows() == before  # nothing stored for a refused photo

            status, answer = await post(hc, stack, "/chat/photo?id=photo-1", data=jpeg(2400, 1800, exif=True))
            assert status == 200 and (answer["width"], answer["height"]) == (1600, 1200)
            with contact.sessions() as s:
                row = s.scalars(select(m.Attachment).where(m.Attachment.conversation_id == conversation)).one()
            assert row.case_id is None and row.mime == "image/jpeg" and (row.width, row.height) == (1600, 1200)
            with Image.open(directory / row.path) as kept:
                assert kept.format == "JPEG" and kept.size == (1600, 1200) and not kept.getexif()
            assert b"secret-software" not in (directory / row.path).read_bytes()
            items = [i for i in await quiet(tab) if i["type"] != "typing"]
            assert items[0] == {
                "type": "sent",
                "id": "photo-1",
                "text": "[图片]",
                "image": answer["photo"],
                "at": items[0]["at"],
            }
            assert items[1]["who"] == "bot" and "照片收到了" in items[1]["text"]
            async with hc.get(f"{stack.console_url}{answer['photo']}") as r:
                assert r.status == 200 and r.content_type == "image/jpeg"
            after = await send(tab, "电费怎么交", "after-photo")  # the bot carries on as before the photo
            assert any(i["type"] == "message" and "缴" in i["text"] for i in after)
            await ChatCustomer(stranger, stack.console_url).open()
            async with stranger.get(f"{stack.console_url}{answer['photo']}") as r:
                assert r.status == 404  # another browser does not see it

            # the case: the photo goes with it; the owner and supervisors see it, a colleague does not
            case, _ = contact.escalate(conversation, "chat", "customer_request", summary="客户发来照片", context={})
            a1, sup = ConsoleAgent(h1, stack.console_url), ConsoleAgent(hs, stack.console_url)
            assert await a1.login("1002", DEMO_PASSWORD) == 302 and await sup.login("9001", DEMO_PASSWORD) == 302
            await sup.connect()
            assert (await sup.post(f"/console/api/cases/{case.id}/claim"))[0] == 200
            status, answer2 = await post(hc, stack, "/chat/photo?id=photo-2", data=jpeg(64, 48))
            assert status == 200
            with contact.sessions() as s:
                second = s.scalars(
                    select(m.Attachment).where(m.Attachment.id > row.id, m.Attachment.conversation_id == conversation)
                ).one()
            assert second.case_id == case.id
            told = await sup.wait_for("customer", case=case.id)
            assert told["text"] == "[图片]" and told["photo"].endswith(f"/photos/{second.id}")
            status, listing = await sup.get(f"/console/api/cases/{case.id}/photos")
            assert status == 200 and isinstance(listing, list)
            assert [p["id"] for p in listing] == [row.id, second.id]
            async with hs.get(f"{stack.console_url}{listing[0]['url']}") as r:
                assert r.status == 200 and r.content_type == "image/jpeg"
            status, _ = await a1.get(f"/console/api/cases/{case.id}/photos")
            assert status == 403
            async with h1.get(f"{stack.console_url}{listing[0]['url']}") as r:
                assert r.status == 403
            history = (await ChatCustomer(hc, stack.console_url).open()).history["messages"]
            assert [i.get("image") for i in history if i["who"] == "customer"] == [
                answer["photo"],
                None,
                answer2["photo"],
            ]
            await sup.post(f"/console/api/cases/{case.id}/close", {"disposition": "resolved"})
            await tab.close()
            await sup.close()

    run(scenario())


class FakeRasa:
    """Only what the satisfaction steps use of the Rasa client: events written into a conversation."""

    def __init__(self):
        self.appended: list[tuple[str, dict]] = []

    async def append(self, sender: str, events: list[dict]) -> None:
        self.appended += [(sender, e) for e in events]


def test_the_end_of_a_case_asks_once_per_case_in_the_customers_channel(sessions):
    from backend.contact_centre import CaseStatus
    from console import satisfaction
    from console.bus import LocalBus
    from console.hub import Hub
    from console.wechat import RecordingSender

    contact, rasa, wechat, bus = ContactStore(sessions), FakeRasa(), RecordingSender(), LocalBus()
    hub = Hub(rasa, contact, wechat, bus)  # type: ignore[arg-type]
    published: list[dict] = []

    async def scenario() -> None:
        async def record(message: dict) -> None:
            published.append(message)

        await bus.start(record)
        agent = contact.add_agent("1001", "张丽", "x" * 8)
        for conversation, channel in (("chat:abc", "chat"), ("wechat:o-123", "wechat")):
            case = contact.escalate(conversation, channel, "customer_request", summary="转人工", context={})[0]
            contact.claim(case.id, agent.id)
            finished = contact.finish(case.id, CaseStatus.CLOSED, "resolved")
            key = await satisfaction.ask_after_case(hub, finished)
            assert key == f"case:{case.id}" and contact.ask(conversation, channel, case_id=case.id) == key
            pending = contact.pending(conversation)
            assert pending is not None and (pending.agent_id, pending.channel) == (agent.id, channel)

    asyncio.run(scenario())
    cards = [m["payload"] for m in published if m["payload"].get("type") == "rating"]
    keys = [c["key"] for c in cards]
    assert len(keys) == 2 and keys[0] != keys[1]  # the card for the chat page's tabs
    texts = [m["payload"]["text"] for m in published if m["payload"].get("type") == "message"]
    assert texts == [satisfaction.RATING_PROMPT]  # the WeChat case only: its question as text
    assert wechat.sent == [("o-123", satisfaction.RATING_PROMPT)]
    stored = [(c, e["metadata"]["rating"]) for c, e in rasa.appended if e["metadata"].get("shown_as") == "rating"]
    assert stored == [("chat:abc", keys[0]), ("wechat:o-123", keys[1])]


def test_a_photo_is_taken_by_what_it_is_and_re_encoded():
    from backend.photos import BROKEN, EMPTY, NOT_IMAGE, TOO_BIG, PhotoRefused, reencode

    def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
        out = io.BytesIO()
        img.save(out, format=fmt, **kw)
        return out.getvalue()

    clear = Image.new("RGBA", (300, 200), (0, 0, 0, 0))  # a transparent PNG: white behind, not black
    data, width, height = reencode(encoded(clear, "PNG"))
    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, img.mode, img.size, (width, height)) == ("JPEG", "RGB", (300, 200), (300, 200))
        assert img.getpixel((10, 10)) == (255, 255, 255)
    data, width, height = reencode(encoded(Image.new("RGB", (1200, 3200), (9, 9, 9)), "WEBP"))
    assert (width, height) == (600, 1600)  # the long side capped, the shape kept
    turned = Image.Exif()
    turned[0x0112] = 6  # the camera was held upright: the picture is turned when shown
    data, width, height = reencode(encoded(Image.new("RGB", (400, 300)), "JPEG", exif=turned.tobytes()))
    assert (width, height) == (300, 400)
    with Image.open(io.BytesIO(data)) as img:
        assert not img.getexif()
    for bad, why in (
        (b"", EMPTY),
        (encoded(Image.new("RGB", (20, 20)), "GIF"), NOT_IMAGE),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", NOT_IMAGE),
        (encoded(Image.new("RGB", (64, 64)), "JPEG")[:100], BROKEN),
        (encoded(Image.new("1", (9000, 5000)), "PNG"), TOO_BIG),  # 45 million pixels in a small file
    ):
        with pytest.raises(PhotoRefused) as refused:
            reencode(bad)
        assert str(refused.value) == why


def test_the_queue_watcher_asks_the_database_only_while_an_agent_is_connected(sessions):
    from console.hub import Hub

    contact = ContactStore(sessions)
    hub = Hub(FakeRasa(), contact)  # type: ignore[arg-type]
    asked: list[object] = []
    read = contact.changed_since

    def counted(since):
        asked.append(since)
        return read(since)

    contact.changed_since = counted  # type: ignore[method-assign]

    class Screen:  # an agent's console socket
        closed = False

        def __init__(self) -> None:
            self.got: list[dict] = []

        async def send_json(self, payload: dict) -> None:
            self.got.append(payload)

    async def scenario() -> Screen:
        watcher = asyncio.create_task(hub.watch_queue(interval=0.02))
        await asyncio.sleep(0.3)
        assert asked == []  # nobody to pop up to: the database is left alone
        screen = Screen()
        hub.join(1, False, screen)  # type: ignore[arg-type]
        case = contact.escalate("chat:watched", "chat", "customer_request", summary="转人工", context={})[0]
        for _ in range(100):
            await asyncio.sleep(0.02)
            if any(p.get("case") == case.id for p in screen.got):
                break
        watcher.cancel()
        return screen

    screen = run(scenario())
    assert asked and [p["type"] for p in screen.got if p.get("case")][:1] == ["new_case"]
