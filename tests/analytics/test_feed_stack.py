"""The embedded profile's analytics feed for real: customers chat with the running product (Rasa, actions, console),
the stack's own `analytics feed` process turns Rasa's SQLite tracker store into contacts; then the same real
events are fed again into copies of the back end, once straight through and once stopped mid-way and restarted,
and give the same rows."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from analytics.contacts import refresh
from analytics.feed import feed_once, tracker_engine
from backend import models as m
from backend.db import make_engine, make_sessionmaker
from backend.models_analytics import Contact, ContactOutcome, FeedPosition
from console.clients import ChatCustomer, ConsoleAgent, new_session, texts
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.usefixtures("nobody_online")  # tests.conftest

COMPARED = (
    "contact_key",
    "conversation_id",
    "channel",
    "area_code",
    "account_no",
    "started_at",
    "ended_at",
    "function",
    "outage_related",
    "turns",
    "fallbacks",
    "escalated",
    "transfer_reason",
    "outcome",
    "wait_seconds",
    "satisfaction",
    "first_text",
    "told_outage",
)


async def _post(http: Any, base: str, path: str) -> int:
    async with http.post(f"{base}{path}", headers={"Origin": base}) as r:
        return int(r.status)


async def _three_chats(base: str) -> tuple[int, int]:
    """A contained chat, one claimed by an agent, one abandoned in the queue; the two cases' ids."""
    async with new_session() as http_a, new_session() as h1, new_session() as h2, new_session() as h3:
        contained = await ChatCustomer(h1, base).open()
        assert "地址" in texts(await contained.say("帮我查一下停电信息"))
        assert "故障停电" in texts(await contained.say("城东区和平路12号"))
        assert await _post(h1, base, "/chat/end") == 200

        agent = ConsoleAgent(http_a, base)
        assert await agent.login("1001", DEMO_PASSWORD) == 302
        await agent.connect()
        await asyncio.sleep(0.5)  # the socket's heartbeat marks the agent online
        served = await ChatCustomer(h2, base).open()
        assert "户号" in texts(await served.say("帮我查一下电费"))
        await served.say("3201000001")
        await served.say("0001")
        handoff = next(i for i in await served.say("转人工") if i["type"] == "handoff")
        await agent.wait_for("new_case", case=handoff["case"])
        assert (await agent.post(f"/console/api/cases/{handoff['case']}/claim"))[0] == 200
        await agent.post(f"/console/api/cases/{handoff['case']}/reply", {"text": "您好，我来帮您查。"})
        closed = await agent.post(f"/console/api/cases/{handoff['case']}/close", {"disposition": "info_given"})
        assert closed[0] == 200

        left = await ChatCustomer(h3, base).open()
        gone = next(i for i in await left.say("我要找人工客服") if i["type"] == "handoff")
        await agent.wait_for("new_case", case=gone["case"])
        assert await _post(h3, base, "/chat/end") == 200  # left the queue before anyone answered
        for who in (contained, served, left):
            await who.close()
        await agent.close()
        return int(handoff["case"]), int(gone["case"])


def _talked(tracker: Any) -> set[str]:
    with tracker.connect() as c:
        return {str(r[0]) for r in c.execute(text("SELECT DISTINCT sender_id FROM events"))}


def _wait_for(sessions: Any, conversation: str, outcome: str, timeout: float = 90) -> Contact:
    deadline, row = time.time() + timeout, None
    while time.time() < deadline:
        with sessions() as s:
            row = s.scalars(select(Contact).where(Contact.conversation_id == conversation)).first()
            if row is not None and row.outcome == outcome:
                s.expunge(row)
                return row
        time.sleep(1)
    raise AssertionError(f"no {outcome} contact for {conversation}: {row and row.outcome}")


def _settled(tracker: Any, sessions: Any, timeout: float = 60) -> None:
    """Wait until Rasa has stopped writing (a closed chat's last events land after the page's reply) and the stack's
    own feed has read everything written: only then are replays comparable with it."""
    deadline, seen, quiet_since = time.time() + timeout, -1, time.time()
    while time.time() < deadline:
        with tracker.connect() as c:
            newest = int(c.execute(text("SELECT COALESCE(MAX(id), 0) FROM events")).scalar_one())
        if newest != seen:
            seen, quiet_since = newest, time.time()
        with sessions() as s:
            pos = s.get(FeedPosition, "tracker")
            read = pos.last_id if pos is not None else 0
        if read >= seen and time.time() - quiet_since >= 2:
            return
        time.sleep(0.5)
    raise AssertionError(f"the stack's feed did not catch up: tracker at {seen}")


def _copy(src_url: str, dest: Path) -> Any:
    src = sqlite3.connect(src_url.removeprefix("sqlite:///"))
    out = sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    sessions = make_sessionmaker(make_engine(f"sqlite:///{dest}"))
    with sessions.begin() as s:  # the feed's own tables start empty; the contact centre's rows stay
        for table in (Contact, m.TurnAnalytics, FeedPosition):
            s.execute(delete(table))
    return sessions


def _rows(sessions: Any, conversations: list[str]) -> list[tuple]:
    with sessions() as s:
        found = s.scalars(
            select(Contact).where(Contact.conversation_id.in_(conversations)).order_by(Contact.contact_key)
        )
        return [tuple(getattr(c, k) for k in COMPARED) for c in found]


def _feed_all(tracker: Any, sessions: Any, batch: int, stop_after: int | None = None) -> None:
    batches = 0
    while feed_once(tracker, sessions, limit=batch) and (stop_after is None or batches < stop_after):
        batches += 1


def test_real_chats_become_contacts_and_a_replay_writes_them_once(stack, seeded_db_url, tmp_path):
    sessions = make_sessionmaker(make_engine(seeded_db_url))
    tracker = tracker_engine(stack.var / "tracker.db")
    before = _talked(tracker)
    served_case, left_case = asyncio.run(asyncio.wait_for(_three_chats(stack.console_url), 300))
    with sessions() as s:
        cases = {"agent": s.get(m.Escalation, served_case), "abandoned": s.get(m.Escalation, left_case)}
        ids = {name: case.conversation_id for name, case in cases.items() if case is not None}
    (ids["contained"],) = _talked(tracker) - before - set(ids.values())

    contained = _wait_for(sessions, ids["contained"], ContactOutcome.CONTAINED)
    assert contained.channel == "chat" and contained.function == "outage_query" and contained.outage_related
    assert contained.told_outage and not contained.escalated and contained.turns == 2
    assert contained.first_text == "帮我查一下停电信息"
    with sessions() as s:
        wang = s.get(m.Customer, "3201000001")
        assert wang is not None
        assert contained.area_code == wang.area_code  # from the address said

    served = _wait_for(sessions, ids["agent"], ContactOutcome.AGENT)
    assert served.escalated and served.transfer_reason == "customer_request"
    assert served.account_no == "3201000001" and served.area_code == wang.area_code  # the verified account
    assert served.function == "bill_query" and not served.outage_related
    assert served.wait_seconds is not None and served.wait_seconds >= 0
    assert served.first_text == "帮我查一下电费" and served.turns >= 4

    left = _wait_for(sessions, ids["abandoned"], ContactOutcome.ABANDONED)
    assert left.escalated and left.wait_seconds is None and left.function == "human_agent"

    _settled(tracker, sessions)
    # the same real events again, into copies of the back end: straight through, and stopped after two small
    # batches then restarted from the stored position (a kill between transactions)
    straight, interrupted = _copy(seeded_db_url, tmp_path / "a.db"), _copy(seeded_db_url, tmp_path / "b.db")
    _feed_all(tracker, straight, batch=500)
    _feed_all(tracker, interrupted, batch=7, stop_after=2)
    interrupted.kw["bind"].dispose()  # the "killed" feed's connections go
    _feed_all(tracker, interrupted, batch=7)
    with interrupted.begin() as s:  # and a re-read of everything from the start writes nothing more
        pos = s.get(FeedPosition, "tracker")
        assert pos is not None and pos.last_id > 0
        pos.last_id = 0
    _feed_all(tracker, interrupted, batch=500)
    later = m.utcnow()
    for copy in (straight, interrupted):
        refresh(copy, later)
    conversations = list(ids.values())
    replayed = _rows(straight, conversations)
    assert len(replayed) == 3
    assert _rows(interrupted, conversations) == replayed
    assert _rows(sessions, conversations) == replayed  # the stack's own feed wrote the same
    with straight() as s, interrupted() as t:
        count = select(m.TurnAnalytics.id).where(m.TurnAnalytics.conversation_id.in_(conversations))
        assert len(s.scalars(count).all()) == len(t.scalars(count).all()) > 0
