"""Inspection for real: a customer chats with the running product (chat page, Rasa, actions, console), is handed to
agent 1001 who answers rudely and closes the case, and the customer ends the chat; the stack's own analytics
process (its feed and the inspection worker among its periodic tasks) stores the inspection with its flags."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import select

from backend import models as m
from backend.db import make_engine, make_sessionmaker
from backend.models_quality import Flag, Inspection, InspectionStatus
from console.clients import ChatCustomer, ConsoleAgent, new_session, texts
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.usefixtures("nobody_online")  # tests.conftest

RUDE = "这个我不知道，你自己去查吧。"


async def _post(http: Any, base: str, path: str) -> int:
    async with http.post(f"{base}{path}", headers={"Origin": base}) as r:
        return int(r.status)


async def _rude_agent_chat(base: str) -> int:
    """Bill query, identity checked, 转人工, agent 1001 answers rudely and closes; the customer ends the chat."""
    async with new_session() as http_agent, new_session() as http_customer:
        agent = ConsoleAgent(http_agent, base)
        assert await agent.login("1001", DEMO_PASSWORD) == 302
        await agent.connect()
        await asyncio.sleep(0.5)  # the socket's heartbeat marks the agent online
        customer = await ChatCustomer(http_customer, base).open()
        assert "户号" in texts(await customer.say("帮我查一下电费"))
        await customer.say("3201000001")
        await customer.say("0001")
        handoff = next(i for i in await customer.say("转人工") if i["type"] == "handoff")
        case = int(handoff["case"])
        await agent.wait_for("new_case", case=case)
        assert (await agent.post(f"/console/api/cases/{case}/claim"))[0] == 200
        assert (await agent.post(f"/console/api/cases/{case}/messages", {"text": RUDE}))[0] == 200
        assert (await agent.post(f"/console/api/cases/{case}/close", {"disposition": "info_given"}))[0] == 200
        assert await _post(http_customer, base, "/chat/end") == 200
        await customer.close()
        await agent.close()
        return case


def _inspection(sessions: Any, conversation: str, timeout: float = 180) -> Inspection:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with sessions() as s:
            row = s.scalars(select(Inspection).where(Inspection.conversation_id == conversation)).first()
            if row is not None:
                s.expunge(row)
                return row
        time.sleep(1)
    raise AssertionError(f"no inspection of {conversation} within {timeout} s")


def test_a_finished_chat_is_inspected_by_the_running_product(stack, seeded_db_url):
    sessions = make_sessionmaker(make_engine(seeded_db_url))
    case = asyncio.run(asyncio.wait_for(_rude_agent_chat(stack.console_url), 300))
    with sessions() as s:
        escalation = s.get(m.Escalation, case)
        assert escalation is not None
        conversation = escalation.conversation_id
    inspection = _inspection(sessions, conversation)
    assert inspection.status == InspectionStatus.INSPECTED and inspection.reason is None
    assert (inspection.channel, inspection.handled_by, inspection.agent_id) == ("chat", "agent", "1001")
    assert inspection.flags >= 1 and inspection.top_severity == 3 and inspection.score < 100
    assert len(inspection.emotions) == 4 and inspection.rules_version  # one per customer turn
    assert 0 <= inspection.delay_seconds < 300  # off the response path, yet within a few feed rounds
    with sessions() as s:
        flags = {f.rule_id: f for f in s.scalars(select(Flag).where(Flag.inspection_id == inspection.id))}
    rude = flags["impolite_words"]
    (evidence,) = rude.evidence
    assert evidence["who"] == "agent" and evidence["text"] == RUDE
    highlighted = {RUDE[a:b] for a, b in evidence["spans"]}
    assert "不知道" in highlighted and any("自己去查" in h for h in highlighted)
    assert "identity_before_disclosure" not in flags  # the bot asked for the last four before telling anything
