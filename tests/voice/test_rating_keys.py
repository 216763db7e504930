"""Satisfaction by phone keys (issue 17 item 5): a call the bot served to its goodbye, or one a person took from
the agents' queue, ends with a spoken rating question; the key 1-5 is stored in the back end (ratings, per
contact and per agent); no key (5 s) or another key ends the call politely and stores nothing.

The call runs through the gateway with Twilio played by voice/testing/fake_twilio.py (the caller's words are
handed over at the ASR boundary, keys as DTMF frames); what Twilio does after the stream (asking the action
URLs, collecting the key of <Gather>) is played by signed webhooks, as Twilio sends them."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from twilio_fake import PUBLIC_URL

from backend.contact_centre import ContactStore, RatingInfo
from tests.voice.test_gateway import INCOMING, gateway, run
from voice import rating


def question_of(body: str) -> tuple[str, ET.Element]:
    """The rating question's key URL (path and query, as Twilio will post to it) and its <Gather>."""
    root = ET.fromstring(body)
    gather = root.find("./Gather")
    assert gather is not None, body
    assert gather.get("numDigits") == "1" and gather.get("timeout") == "5"
    assert gather.findtext("Say") == rating.PROMPT
    # with no key Twilio goes on after <Gather>: a polite goodbye, then the call ends
    after = [child.tag for child in root][1:]
    assert after == ["Say", "Hangup"] and root.findall("./Say")[0].text == rating.GOODBYE
    action = gather.get("action")
    assert action is not None, body
    url = urlsplit(action)
    assert f"{url.scheme}://{url.netloc}" == PUBLIC_URL
    return f"{url.path}?{url.query}", gather


def rated(contact: ContactStore, key: str) -> RatingInfo:
    """The rating asked under `key` (it must have been asked)."""
    asked = contact.rating(key)
    assert asked is not None, key
    return asked


def key_of(path: str) -> str:
    from urllib.parse import parse_qs

    return parse_qs(urlsplit(path).query)["key"][0]


def test_a_call_the_bot_served_to_its_goodbye_is_rated_by_key(cis):
    contact = ContactStore(cis.sessions)

    async def scenario():
        async with gateway(cis) as h:
            async with h.call(call_sid="CA5001") as tw:
                await tw.wait_for(lambda: h.session("CA5001") is not None and h.session("CA5001").record.said())
                h.recognizers[0].inject("我要报修")
                await tw.wait_for(lambda: any("联系电话" in t for t in h.session("CA5001").record.said()))
                h.recognizers[0].inject("再见")
                await asyncio.wait_for(tw.closed.wait(), 20)
            status, body = await h.post("/voice/after-stream", {**INCOMING, "CallSid": "CA5001"})
            assert status == 200
            path, _ = question_of(body)
            key = key_of(path)
            asked = contact.rating(key)
            assert asked is not None and asked.score is None and asked.channel == "voice"
            assert asked.conversation_id == "voice:13912340001" and asked.case_id is None
            status, body = await h.post(path, {**INCOMING, "CallSid": "CA5001", "Digits": "4"})
            root = ET.fromstring(body)
            assert status == 200 and root.findtext("Say") == rating.THANKS and root.find("Hangup") is not None
            assert rated(contact, key).score == 4
            status, _ = await h.post(path, {**INCOMING, "CallSid": "CA5001", "Digits": "1"}, token="forged-token")
            assert status == 403 and rated(contact, key).score == 4  # a forged key press changes nothing

    run(scenario())


def test_a_caller_who_only_said_goodbye_is_not_asked(cis):
    async def scenario():
        async with gateway(cis) as h:
            async with h.call(call_sid="CA5002", caller="+8613912340002") as tw:
                await tw.wait_for(lambda: h.session("CA5002") is not None and h.session("CA5002").record.said())
                h.recognizers[0].inject("再见")
                await asyncio.wait_for(tw.closed.wait(), 20)
            form = {**INCOMING, "CallSid": "CA5002", "From": "+8613912340002"}
            status, body = await h.post("/voice/after-stream", form)
            assert ET.fromstring(body).find("./Hangup") is not None and ET.fromstring(body).find("./Gather") is None

    run(scenario())


def test_after_an_agent_hangs_up_the_caller_rates_that_agent(cis):
    contact = ContactStore(cis.sessions)
    agent = contact.agent_by_username("7101") or contact.add_agent("7101", "赵敏", "rating-test-pass")
    case, _ = contact.escalate(
        "voice:13912340005", "voice", "customer_request", summary="转人工", context={}, account_no="3201000005"
    )
    contact.claim(case.id, agent.id)

    async def scenario():
        async with gateway(cis) as h:
            form = {**INCOMING, "CallSid": "CA5003", "From": "+8613912340005"}
            status, body = await h.post("/voice/after-stream", form)
            enqueue = ET.fromstring(body).find("./Enqueue")
            assert enqueue is not None, body
            assert enqueue.get("action") == f"{PUBLIC_URL}/voice/after-queue?case={case.id}"
            contact.finish(case.id, "closed", "resolved")  # the agent's part is over; the agent hangs up
            queue_path = f"/voice/after-queue?case={case.id}"
            status, body = await h.post(queue_path, {**form, "QueueResult": "bridged", "QueueTime": "12"})
            path, _ = question_of(body)
            assert key_of(path) == f"case:{case.id}"
            asked = rated(contact, f"case:{case.id}")
            assert asked.agent_id == agent.id and asked.account_no == "3201000005" and asked.channel == "voice"
            status, body = await h.post(path, {**form, "Digits": "5"})
            assert ET.fromstring(body).findtext("Say") == rating.THANKS
            assert rated(contact, f"case:{case.id}").score == 5
            assert contact.by_agent(asked.asked_at)[agent.id][0] >= 1  # counted for the agent
            # the caller hung up while waiting: nobody served them, nothing to rate
            status, body = await h.post(queue_path, {**form, "QueueResult": "hangup"})
            assert ET.fromstring(body).find("./Gather") is None and ET.fromstring(body).find("./Hangup") is not None

    run(scenario())


def test_a_key_that_is_no_score_or_no_key_ends_politely_and_stores_nothing(cis):
    contact = ContactStore(cis.sessions)
    key = contact.ask("voice:13912340006", "voice")

    async def scenario():
        async with gateway(cis) as h:
            path = rating.action_path(key)
            for digits in ("9", "#", "", "45"):
                status, body = await h.post(path, {**INCOMING, "From": "+8613912340006", "Digits": digits})
                root = ET.fromstring(body)
                assert status == 200 and root.findtext("Say") == rating.GOODBYE and root.find("Hangup") is not None
            status, body = await h.post(rating.action_path("case:999999"), {**INCOMING, "Digits": "5"})
            assert ET.fromstring(body).findtext("Say") == rating.GOODBYE  # no such rating asked: nothing stored
        assert rated(contact, key).score is None

    run(scenario())


def test_the_question_says_what_each_key_means_within_five_seconds():
    body = rating.question("https://voice.example.cn/voice/rating?key=case%3A1")
    path, gather = question_of(body)
    assert (
        path == "/voice/rating?key=case%3A1"
        and rating.action_path("case:1") == "/voice/rating?key=case:1"
        and gather.get("actionOnEmptyResult") == "false"
    )
    assert all(f"请按{n}" in rating.PROMPT for n in "12345") and rating.score_of("3") == 3
    assert rating.score_of("0") is None and rating.score_of(None) is None
