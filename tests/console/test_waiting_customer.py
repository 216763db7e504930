"""A chat customer waiting for a person, as the review found them: told their place when they write (not
silence), told when a long paste was cut, and taken out of the queue when they closed the page and did not come
back (abandoned, the agents told), while a reload within the grace keeps their place. On the real console app
over SQLite, with the small Rasa stand-in that keeps every event the console writes."""

from __future__ import annotations

import asyncio
import time

import pytest
from yarl import URL

from backend import models as m
from backend.contact_centre import CaseStatus
from backend.contact_centre.kinds import CUSTOMER_LEFT
from backend.db import open_database
from backend.synthetic import seed
from console.clients import ChatCustomer, new_session, texts
from console.departures import LEFT_NOTICE
from tests.console.console_app import Agent, RunningConsole, running_console

AGENTS = (("1001", "张丽", "agent"),)
LEAVE_SECONDS = 1.5


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('waiting') / 'c.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=10)
    engine.dispose()
    with running_console(url, AGENTS, chat_leave_seconds=LEAVE_SECONDS) as running:
        yield running


async def waiting_customer(http, console: RunningConsole) -> tuple[ChatCustomer, str, int]:
    """A customer on the chat page whose conversation is paused and queued for a person."""
    customer = await ChatCustomer(http, console.url).open()
    conversation = f"chat:{http.cookie_jar.filter_cookies(URL(console.url))['p95598_chat'].value}"
    case, _ = console.contact.escalate(conversation, "chat", "customer_request", summary="客户要求转人工", context={})
    console.rasa.trackers[conversation].append({"event": "pause", "timestamp": time.time()})
    return customer, conversation, case.id


def test_a_waiting_customer_who_writes_hears_their_place_at_most_every_half_minute(console):
    async def scenario() -> None:
        async with new_session() as http:
            first, _, _ = await waiting_customer(http, console)
        async with new_session() as http:
            customer, conversation, _ = await waiting_customer(http, console)
            said = texts(await customer.say("人呢 怎么还没人"))
            assert "您前面还有1位客户" in said and "留言客服接入后都能看到" in said
            assert texts(await customer.say("还要等多久啊")) == ""  # told a moment ago: not again at once
            stored = [e.get("text") for e in console.rasa.trackers[conversation] if e.get("event") == "bot"]
            assert any("您前面还有1位客户" in str(t) for t in stored)  # a reload shows what was shown live
            again = await ChatCustomer(http, console.url).open()
            assert "您前面还有1位客户" in str(again.history)
            for c in (customer, again, first):
                await c.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_paste_longer_than_a_message_is_cut_and_the_customer_is_told(console):
    async def scenario() -> None:
        async with new_session() as http:
            customer = await ChatCustomer(http, console.url).open()
            conversation = f"chat:{http.cookie_jar.filter_cookies(URL(console.url))['p95598_chat'].value}"
            said = texts(await customer.say("我家电表是不是坏了，" * 300))
            assert "前2000个字" in said
            user = [e for e in console.rasa.trackers[conversation] if e.get("event") == "user"]
            assert len(user[-1]["text"]) == 2000
            await customer.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_customer_who_closed_the_page_while_waiting_leaves_the_queue_after_the_grace(console):
    async def scenario() -> tuple[str, int, int]:
        async with new_session() as http:
            gone, conversation, gone_case = await waiting_customer(http, console)
            await gone.close()
        async with new_session() as http:
            back, _, kept_case = await waiting_customer(http, console)
            await back.close()
            await asyncio.sleep(0.3)
            back = await ChatCustomer(http, console.url).open()  # a reload within the grace
            await asyncio.sleep(LEAVE_SECONDS + 1.5)
            await back.close()
        return conversation, gone_case, kept_case

    conversation, gone_case, kept_case = asyncio.run(asyncio.wait_for(scenario(), 60))
    with console.contact.sessions() as s:
        gone = s.get(m.Escalation, gone_case)
        kept = s.get(m.Escalation, kept_case)
        assert gone is not None and kept is not None
        assert gone.status == CaseStatus.CLOSED and gone.disposition == CUSTOMER_LEFT and gone.abandoned_at
        assert kept.status == CaseStatus.WAITING  # came back in time: still in the queue
    events = console.rasa.trackers[conversation]
    assert [e["event"] for e in events if e["event"] in ("pause", "resume")][-1] == "resume"  # the bot has it again
    assert any(e.get("text") == LEFT_NOTICE for e in events)
    assert gone_case not in [c.id for c in console.contact.queue()]


def test_an_agent_who_logs_out_hands_their_open_cases_back_to_the_queue(console):
    agent = console.contact.agent_by_username("1001")
    assert agent is not None
    case, _ = console.contact.escalate("chat:logout-case", "chat", "customer_request", summary="转人工", context={})
    console.contact.claim(case.id, agent.id)
    zhang = Agent(console.url).login("1001")
    assert zhang.post("/console/logout", data={}).status_code == 302
    back = console.contact.case(case.id)
    assert back is not None and back.status == CaseStatus.WAITING and back.agent_id is None
    presence = console.contact.presence(agent.id)
    assert presence is not None and presence.status == "offline"
    told = [e.get("text") for e in console.rasa.trackers["chat:logout-case"] if e.get("event") == "bot"]
    assert any("马上为您安排其他客服" in str(t) for t in told)  # the customer is not left with nobody
