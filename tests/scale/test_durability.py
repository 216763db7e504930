"""kill -9 in the middle of a form, on the scale profile: the Rasa server, the action server (right after it
wrote the work order, before it could answer) and the contact-centre app. After a restart the conversation
goes on from the stored tracker, no turn is lost and no work order is doubled."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest
import requests
from scale_env import cleanup, dump_logs, orders_of, scratch_profile, start_stack

from console.clients import ChatCustomer, new_session, texts
from tests.conftest import Conversation

# a sitecustomize that SIGKILLs its process right after committing a new work order (fault injection kept in tests)
CRASH_AFTER_WRITE = Path(__file__).resolve().parent / "crash_after_write"


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    profile = scratch_profile()
    var = tmp_path_factory.mktemp("durable")
    stack = None
    try:
        stack = start_stack(profile, var)
        stack.wait_ready()
        yield profile, stack
    except Exception:
        dump_logs(var)
        raise
    finally:
        if stack is not None:
            stack.stop()
        cleanup(profile)


def user_turns(stack, sender: str) -> list[str]:
    tracker = requests.get(stack.api(f"/conversations/{sender}/tracker"), timeout=10).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_rasa_killed_mid_form(scaled):
    profile, stack = scaled
    c = Conversation(stack.rasa_url)
    assert "地址" in c.say("我家停电了")
    assert "电话" in c.say("城西区建设路45号")
    stack.kill("rasa")
    stack.restart("rasa")
    stack.wait_ready(only=("rasa",))
    assert "核对" in c.say("13912340002")  # the form goes on where it was
    c.say("对")
    assert user_turns(stack, c.sender) == ["我家停电了", "城西区建设路45号", "13912340002", "对"]
    assert len(orders_of(profile, c.sender, "fault_repair")) == 1


def test_action_server_killed_after_writing_the_order(scaled):
    profile, stack = scaled
    c = Conversation(stack.rasa_url)
    c.say("我家停电了")
    c.say("城南区中山路8号5栋")
    assert "核对" in c.say("13912340003")
    stack.kill("actions")
    crashing = f"{CRASH_AFTER_WRITE}{os.pathsep}{stack.env['PYTHONPATH']}"
    stack.restart("actions", env={"PYTHONPATH": crashing})  # dies (SIGKILL) right after the write
    stack.wait_ready(only=("actions",))
    with contextlib.suppress(requests.RequestException):  # the customer saw an error (or nothing) for that turn
        c.say("对")
    assert stack.proc("actions").wait(timeout=30) == -9  # killed by the injected fault, not by anything else
    written = orders_of(profile, c.sender, "fault_repair")
    assert len(written) == 1  # the order was written before the crash
    stack.kill("actions")  # gone already; forget it
    stack.restart("actions", env={})
    stack.wait_ready(only=("actions",))
    reply = c.say("对")  # the customer says it again
    orders = orders_of(profile, c.sender, "fault_repair")
    assert len(orders) == 1 and orders[0].number == written[0].number
    assert orders[0].number in reply.replace(" ", "")
    assert user_turns(stack, c.sender).count("对") >= 1


def test_console_killed_while_a_customer_chats(scaled):
    profile, stack = scaled

    async def scenario():
        async with new_session() as http:
            customer = await ChatCustomer(http, stack.console_url).open()
            assert "地址" in texts(await customer.say("家里停电了"))
            assert "电话" in texts(await customer.say("城北区人民路99号"))
            stack.kill("console")
            stack.restart("console")
            await asyncio.to_thread(stack.wait_ready, 120, ("console",))
            await customer.close()
            customer = await ChatCustomer(http, stack.console_url).open()  # the page reconnects
            said = [m["text"] for m in customer.history["messages"] if m["who"] == "customer"]
            assert said == ["家里停电了", "城北区人民路99号"]
            assert "核对" in texts(await customer.say("13912340004"))
            reply = texts(await customer.say("对"))
            await customer.close()
            return reply, "chat:" + next(c.value for c in http.cookie_jar if c.key == "p95598_chat")

    reply, conversation = asyncio.run(asyncio.wait_for(scenario(), 240))
    orders = orders_of(profile, conversation, "fault_repair")
    assert len(orders) == 1 and "工单号" in reply
