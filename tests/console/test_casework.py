"""The agents' use cases through the running console: release a case to the queue, transfer, finish."""

from __future__ import annotations

import asyncio
import secrets

from yarl import URL

from backend.contact_centre import CaseStatus, Channel, EscalationReason
from console.clients import ChatCustomer, ConsoleAgent, new_session
from tests.conftest import DEMO_PASSWORD


async def _agent(http, stack, username: str) -> ConsoleAgent:
    agent = ConsoleAgent(http, stack.console_url)
    assert await agent.login(username, DEMO_PASSWORD) == 302
    return await agent.connect()


def test_a_released_case_waits_for_a_colleague_and_the_customer_is_told(stack, contact):
    async def scenario() -> None:
        async with new_session() as h1, new_session() as h2, new_session() as hc:
            customer = await ChatCustomer(hc, stack.console_url).open()
            conversation = f"chat:{hc.cookie_jar.filter_cookies(URL(stack.console_url))['p95598_chat'].value}"
            case, _ = contact.escalate(
                conversation, Channel.CHAT, EscalationReason.CUSTOMER_REQUEST, summary="客户要求转人工", context={}
            )
            a, b = await _agent(h1, stack, "1001"), await _agent(h2, stack, "1002")
            assert (await a.post(f"/console/api/cases/{case.id}/claim"))[0] == 200
            assert (await b.post(f"/console/api/cases/{case.id}/release"))[0] == 403  # not b's case
            status, card = await a.post(f"/console/api/cases/{case.id}/release")
            assert status == 200 and isinstance(card, dict) and card["status"] == "waiting"
            back = contact.case(case.id)
            assert back.status == CaseStatus.WAITING and back.agent_id is None and back.claimed_at is None
            told = await customer.wait_for("handoff", state="waiting")
            assert told["position"] >= 1
            assert (await a.post(f"/console/api/cases/{case.id}/release"))[0] == 409  # waiting: claim first
            assert (await b.post(f"/console/api/cases/{case.id}/claim"))[0] == 200
            assert (await b.post(f"/console/api/cases/{case.id}/transfer", {"to": "nobody"}))[0] == 400
            status, _ = await b.post(f"/console/api/cases/{case.id}/close", {"disposition": "resolved"})
            assert status == 200 and contact.case(case.id).status == CaseStatus.CLOSED
            for x in (a, b, customer):
                await x.close()

    asyncio.run(asyncio.wait_for(scenario(), 240))


def test_a_case_number_that_does_not_exist_is_not_found(stack, contact):
    async def scenario() -> None:
        async with new_session() as h:
            a = await _agent(h, stack, "1001")
            for path in ("release", "claim", "transfer"):
                assert (await a.post(f"/console/api/cases/{2**31 - 1 - secrets.randbelow(99)}/{path}"))[0] == 404
            await a.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
