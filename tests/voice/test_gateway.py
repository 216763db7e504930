"""The gateway's Twilio edge: signed webhooks, TwiML, and the Media Streams protocol over a real websocket.

Twilio is played by voice/testing/fake_twilio.py (with the fixed token of tests/voice/twilio_fake.py); Rasa is a
small scripted REST server here so the protocol can be checked fast and exactly; the back end is the
seeded SQLite of tests/conftest.py. TTS is a silent engine (20 ms of silence per character) in these
protocol tests only: the audio content is not what they check. The real dialogue, TTS and database are
in test_call_flow.py.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import delete
from twilio_fake import PUBLIC_URL, STREAM_URL, open_gateway, post_signed, signature

from analytics.events import changes_of
from backend.cis import CustomerInfo, OutageInfo
from backend.cis.interface import SUSPECTED
from backend.models_insight import CustomerTag
from backend.spoken import spoken_time
from channels.phone import national_number
from channels.rasa import CALL_ENDED
from voice import call_token, prompts, twiml
from voice.dtmf import Keypad, KeyResult, mode_for_prompt
from voice.gateway import CALLS, CONFIG, SERVICES
from voice.playback import Voice
from voice.tts.engine import split_text

REPLIES = {
    "我要查电费": "请告诉我您的十位户号。户号可以在电费单或者缴费短信上找到。",
    "我要报修": "请留一个联系电话，方便工作人员和您联系。",
    "我家停电了": "好的，马上帮您报修。请问停电的详细地址是哪里？",
    "再见": "感谢您的来电，祝您生活愉快，再见。",
}


class SilentEngine:
    """Protocol tests only: 20 ms of silence per character, in chunks that are not whole frames."""

    def stream(self, text: str):
        samples = np.zeros(160 * len(text), dtype=np.int16)
        return iter(np.array_split(samples, max(1, len(samples) // 1000)))

    def synthesize(self, text: str) -> np.ndarray:
        return np.concatenate(list(self.stream(text)))


def frames_for(text: str) -> int:
    """Frames SilentEngine's speech of `text` fills: spoken piece by piece with a pause between pieces."""
    pieces = split_text(text)
    samples = 160 * len(text) + sum(round(p.pause * 8000) for p in pieces[:-1])
    return -(-samples // 160)


class FakeRasa:
    """Rasa's REST channel, scripted: records what it was sent."""

    def __init__(self):
        self.received: list[dict] = []
        self.appended: list[tuple[str, list[dict]]] = []  # events written into a conversation

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_post("/conversations/{sender}/tracker/events", self.append)
        return app

    async def append(self, request: web.Request) -> web.Response:
        self.appended.append((request.match_info["sender"], await request.json()))
        return web.json_response({})

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        text = body["message"]
        if text.isdigit() and len(text) == 10:
            reply = "为了保护您的信息，请说一下户主登记手机号的后四位。"
        elif text.isdigit():
            reply = f"收到{len(text)}位数字。请再说一遍联系电话号码。"
        elif text == "人工客服":  # an agent is online: the bot hands the call over (actions/handoff.py)
            return web.json_response(
                [
                    {
                        "recipient_id": body["sender"],
                        "text": "好的，正在为您转接人工客服，马上就为您接通。请不要挂机。",
                    },
                    {
                        "recipient_id": body["sender"],
                        "custom": {"handoff": {"case": 7, "position": 1, "wait_minutes": 1}},
                    },
                ]
            )
        elif text == "什么破服务，气死我了":  # anger, an agent online: the dialogue engine hands over at once
            return web.json_response(
                [
                    {"recipient_id": body["sender"], "text": "非常抱歉给您添麻烦了。"},
                    {
                        "recipient_id": body["sender"],
                        "text": "好的，正在为您转接人工客服，马上就为您接通。请不要挂机。",
                    },
                    {
                        "recipient_id": body["sender"],
                        "custom": {"handoff": {"case": 8, "position": 1, "wait_minutes": 1}},
                    },
                ]
            )
        elif text == "转人工":
            return web.json_response(
                [
                    {
                        "recipient_id": body["sender"],
                        "text": "帮您转人工客服，好吗？",
                        "buttons": [{"title": "好的", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}],
                    }
                ]
            )
        else:
            reply = REPLIES.get(text, "不好意思，这句话我没太听明白。")
        return web.json_response([{"recipient_id": body["sender"], "text": reply}])

    def messages(self) -> list[str]:
        return [b["message"] for b in self.received if "message" in b]


@asynccontextmanager
async def gateway(cis, *, speech: bool = True, rasa_url: str | None = None, voice: Voice | None = None, **overrides):
    """The gateway with a silent voice (or `voice`) in front of the scripted Rasa (or `rasa_url`)."""
    rasa = FakeRasa()
    rasa_server = TestServer(rasa.app())
    await rasa_server.start_server()
    try:
        async with open_gateway(
            cis,
            rasa_url or str(rasa_server.make_url("")).rstrip("/"),
            voice or Voice(SilentEngine()),
            speech=speech,
            **overrides,
        ) as h:
            h.rasa = rasa
            yield h
    finally:
        await rasa_server.close()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


# --- webhooks ------------------------------------------------------------------------------------------
INCOMING = {
    "CallSid": "CA1234",
    "From": "+8613912340001",
    "To": "+8695598",
    "CallStatus": "ringing",
    "AccountSid": "AC00",
    "Direction": "inbound",
}


def test_signed_incoming_call_gets_a_bidirectional_stream(cis):
    async def scenario():
        async with gateway(cis) as h:
            status, body = await post_signed(h.http, h.base, "/voice/incoming", INCOMING)
            assert status == 200
            stream = ET.fromstring(body).find("./Connect/Stream")
            assert stream is not None and stream.get("url") == STREAM_URL
            params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
            token = params.pop("token")
            assert params == {"caller": "+8613912340001", "callSid": "CA1234"}
            assert call_token.valid(h.app[CONFIG].stream_secret, token, "CA1234", "+8613912340001")
            record = h.app[CALLS].get("CA1234")
            assert record.status == "ringing" and record.caller == "+8613912340001"

    run(scenario())


@pytest.mark.parametrize("how", ["missing", "other token", "other url", "tampered"])
def test_forged_or_missing_signature_is_refused_and_nothing_is_recorded(cis, how):
    async def scenario():
        async with gateway(cis) as h:
            kw = {
                "missing": {"headers": {}},
                "other token": {"token": "not-the-token"},
                "other url": {"sign_url": "https://evil.example.com/voice/incoming"},
            }.get(how, {})
            params = dict(INCOMING)
            if how == "tampered":  # signed for one caller, sent with another
                sig = signature(PUBLIC_URL + "/voice/incoming", params)
                params["From"] = "+8613900000000"
                kw = {"headers": {"X-Twilio-Signature": sig}}
            status, _ = await post_signed(h.http, h.base, "/voice/incoming", params, **kw)
            assert status == 403
            status, _ = await post_signed(h.http, h.base, "/voice/status", {**params, "CallStatus": "completed"}, **kw)
            assert status == 403
            assert len(h.app[CALLS]) == 0

    run(scenario())


def test_a_number_calling_in_a_loop_is_turned_away(cis):
    async def scenario():
        async with gateway(cis) as h:
            bodies = [
                (await post_signed(h.http, h.base, "/voice/incoming", {**INCOMING, "CallSid": f"CA{i:04d}"}))[1]
                for i in range(7)
            ]
            assert all(ET.fromstring(b).find("./Connect") is not None for b in bodies[:6])
            assert ET.fromstring(bodies[6]).find("./Hangup") is not None and "频繁" in bodies[6]
            other = await post_signed(h.http, h.base, "/voice/incoming", {**INCOMING, "From": "+8613900000001"})
            assert ET.fromstring(other[1]).find("./Connect") is not None

    run(scenario())


def test_status_callback_is_recorded(cis):
    async def scenario():
        async with gateway(cis) as h:
            await post_signed(h.http, h.base, "/voice/incoming", INCOMING)
            status, _ = await post_signed(
                h.http, h.base, "/voice/status", {**INCOMING, "CallStatus": "completed", "CallDuration": "42"}
            )
            assert status == 204
            record = h.app[CALLS].get("CA1234")
            assert [s for s, _ in record.statuses] == ["ringing", "completed"] and record.ended
            assert any("42" in text for _, text, _ in record.events)

    run(scenario())


def test_a_hang_up_is_written_into_the_conversation_once(cis):
    """So the contact closes at once (analytics, inspection) instead of after the idle limit."""

    async def scenario():
        async with gateway(cis) as h:
            await post_signed(h.http, h.base, "/voice/incoming", INCOMING)
            h.app[CALLS].get("CA1234").sender = "voice:13912340001"
            for _ in range(2):  # Twilio may send the final status again
                status, _ = await post_signed(h.http, h.base, "/voice/status", {**INCOMING, "CallStatus": "completed"})
                assert status == 204
            [(sender, events)] = h.rasa.appended
            assert sender == "voice:13912340001" and events[0]["metadata"]["shown_as"] == CALL_ENDED
            assert events[0]["text"] == "" and events[0]["metadata"]["system"] is True
            change = changes_of({**events[0], "sender_id": sender, "timestamp": 1.0e9})
            assert change is not None and change.contact is not None and change.contact.ended

    run(scenario())


def test_stream_upgrade_signature(cis):
    async def scenario():
        async with gateway(cis) as h:  # required by default
            for headers in ({"X-Twilio-Signature": "Zm9yZ2Vk"}, {}):
                with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                    await h.http.ws_connect(h.base + "/voice/stream", headers=headers)
                assert e.value.status == 403
            ws = await h.http.ws_connect(
                h.base + "/voice/stream", headers={"X-Twilio-Signature": signature(STREAM_URL, {})}
            )
            await ws.close()
        async with gateway(cis, require_stream_signature=False) as h:  # unsigned let in (logged)
            ws = await h.http.ws_connect(h.base + "/voice/stream")
            await ws.close()

    run(scenario())


# --- media streams -------------------------------------------------------------------------------------
def test_malformed_frames_are_skipped_and_outbound_media_is_paced_160_byte_ulaw(cis):
    async def scenario():
        async with gateway(cis, playback_lead_ms=100) as h:
            async with h.call(caller="+8613700000000") as tw:  # an unknown number: the menu greeting
                for junk in [
                    "{not json",
                    "[1,2]",
                    '{"event":"bogus"}',
                    '{"event":"media","media":{"payload":"%%%"}}',
                    '{"event":"dtmf","dtmf":{"digit":"x"}}',
                ]:
                    await tw.send(junk)
                await tw.ws.send_bytes(b"\x00\x01")
                await tw.wait_marks(1)
                frames = list(tw.events("media"))
                first_mark = tw.events("mark")[0]
                greeting = [f for f in frames if f.at <= first_mark.at]
                expected = prompts.greeting(None, None)
                assert len(greeting) == frames_for(expected)  # 20 ms per character, whole frames
                for f in greeting:
                    assert f.msg["streamSid"] == tw.stream_sid
                    assert len(base64.b64decode(f.msg["media"]["payload"])) == 160
                span = greeting[-1].at - greeting[0].at
                nominal = (len(greeting) - 1) * 0.02
                assert nominal - 0.1 - 0.05 <= span <= nominal + 0.3, (span, nominal)  # real time, 100 ms lead
                for i, f in enumerate(greeting):  # never more than the lead ahead
                    assert f.at - greeting[0].at >= i * 0.02 - 0.1 - 0.05
                assert first_mark.msg["mark"]["name"]
                await tw.wait_for(lambda: not h.session("CA0001").speaker.marks)  # echoed mark taken
                assert h.session("CA0001").record.said()[0] == expected
                await tw.press("2")  # the call went on through the junk
                await tw.wait_for(lambda: h.rasa.messages() == ["我要查电费"])

    run(scenario())


def test_a_prompt_queued_while_the_last_one_plays_out_is_spoken(cis):
    async def scenario():
        async with gateway(cis) as h:
            async with h.call(caller="+8613700000000") as tw:
                await tw.wait_marks(1)  # all frames sent; Twilio still has ~100 ms to play
                h.session().say("还有一句。")
                await tw.wait_marks(2, timeout=5)
                assert len(tw.events("media")) == frames_for(prompts.greeting(None, None)) + frames_for("还有一句。")

    run(scenario())


def test_known_caller_is_greeted_by_name_and_told_about_the_outage(cis):
    async def scenario():
        async with gateway(cis) as h:
            async with h.call(caller="+8613912340001") as tw:
                await tw.wait_marks(1)
                said = h.session().record.said()[0]
                assert said.startswith("王建国您好") and "故障停电" in said and "恢复供电" in said
                assert h.session().record.customer == "3201000001"

    run(scenario())


class SpeedEngine(SilentEngine):
    """A silent engine that can change speed, as Kokoro can (KokoroEngine.with_speed)."""

    def __init__(self, speed: float = 1.0):
        self.speed, self.name, self.voice, self.sample_rate = speed, f"silent-x{speed:g}", "", 8000

    def with_speed(self, speed: float) -> SpeedEngine:
        return SpeedEngine(speed)


@contextmanager
def tagged(cis, account: str, tag: str) -> Iterator[None]:
    """The account holds an insight tag (as insight/publish.py writes it) for the length of the block."""
    row = CustomerTag(
        account_no=account, tag=tag, reason="户主1948年出生", period="2026-10", since_period="2024-01",
        rule_id="elderly", rule_version=1, run_id=0,
    )  # fmt: skip
    with cis.sessions.begin() as s:
        s.merge(row)
    try:
        yield
    finally:
        with cis.sessions.begin() as s:
            s.execute(delete(CustomerTag).where(CustomerTag.account_no == account, CustomerTag.tag == tag))


def test_a_known_elderly_caller_hears_the_simple_menu_slower_and_has_longer_to_answer(cis):
    """Issue 19: the insight tag 老年 gives a known caller three choices, one short sentence each, the whole call
    at SIMPLE_SPEED (an engine that can slow down), the simple menu again after a key that means nothing, and
    half as long again to answer."""

    async def scenario():
        async with gateway(cis, voice=Voice(SpeedEngine()), no_input_seconds=0.4) as h:
            async with h.call(caller="+8613912340002", call_sid="CA0019") as tw:  # 李秀英: no outage in her area
                await tw.wait_marks(1)
                call = h.session("CA0019")
                greeting = call.record.said()[0]
                assert greeting.startswith("李秀英您好") and greeting.endswith(prompts.SIMPLE_MENU)
                assert (
                    "按3" not in greeting and call.simple and call.speaker._voice.engine.speed == prompts.SIMPLE_SPEED
                )
                await tw.press("7")
                await tw.wait_for(lambda: prompts.UNKNOWN_KEY_SIMPLE in call.record.said())
                assert prompts.UNKNOWN_KEY_SIMPLE.endswith("报修，请按1。查电费，请按2。找人工客服，请按0。")
                started = time.monotonic()
                await tw.wait_for(lambda: prompts.NO_INPUT[0] in call.record.said(), timeout=10)
                assert time.monotonic() - started >= 0.4 * 1.5 - 0.05
            async with h.call(caller="+8613912340003", call_sid="CA0020") as tw:  # no 老年 tag: the usual menu
                await tw.wait_marks(1)
                call = h.session("CA0020")
                assert call.record.said()[0].endswith(prompts.MENU_SHORT) and not call.simple
                assert call.speaker._voice.engine.speed == 1.0

    with tagged(cis, "3201000002", "老年"):
        run(scenario())


def test_a_known_elderly_caller_hears_the_outage_in_short_sentences_then_the_simple_choices(cis):
    """Review of issue 19: an elderly caller whose area has an outage is told it plainly (no area name, no
    reason), when power is back in the same time wording as the usual notice, then two choices, one short
    sentence each, at SIMPLE_SPEED; key 1 goes to the bot as a repair request, the outage already told."""

    async def scenario():
        async with gateway(cis, voice=Voice(SpeedEngine())) as h:
            _, outage = h.app[SERVICES].facts.caller("13912340001")
            assert outage is not None and outage.kind == "fault"
            async with h.call(caller="+8613912340001", call_sid="CA0021") as tw:  # 王建国: a fault outage
                await tw.wait_marks(1)
                call = h.session("CA0021")
                assert call.record.said()[0] == (
                    "王建国您好，这里是95598智能客服。您那里现在停电了，正在抢修。"
                    f"预计{spoken_time(outage.expected_end)}恢复供电。"
                    "如果只有您家没电，要报修，请按1。找人工客服，请按0。"
                )
                assert call.simple and call.speaker._voice.engine.speed == prompts.SIMPLE_SPEED
                await tw.press("1")
                await tw.wait_for(lambda: h.rasa.messages() == ["我要报修"])
                assert h.rasa.received[0]["metadata"]["told_outage"] is True
                await tw.wait_for(lambda: call.record.said()[-1] == REPLIES["我要报修"])

    with tagged(cis, "3201000001", "老年"):
        run(scenario())


def test_the_short_outage_notice_of_each_kind_and_the_usual_one_for_everyone_else():
    """Planned and suspected outages in the simple wording too (a suspected one has no time yet); a caller
    without the tag 老年 hears the usual notice, reason and area included."""
    now = dt.datetime(2026, 10, 8, 2, 0)  # naive UTC, as the back end stores it
    elderly = CustomerInfo("3201000009", "张桂芳", "13900000009", "城东区和平路1号", "A01", "城东区一网格", ["老年"])

    def outage(kind: str) -> OutageInfo:
        return OutageInfo("A01", "城东区一网格", kind, now, now + dt.timedelta(hours=3), "线路检修")

    when = spoken_time(now + dt.timedelta(hours=3))
    choices = "如果只有您家没电，要报修，请按1。找人工客服，请按0。"
    assert prompts.greeting(elderly, outage("planned")).endswith(
        f"您那里现在是计划停电，正在检修。预计{when}恢复供电。" + choices
    )
    suspected = prompts.greeting(elderly, outage(SUSPECTED))
    assert suspected.endswith("您那里可能停电了。我们正在核实，会尽快安排抢修。" + choices) and "预计" not in suspected
    usual = prompts.greeting(dataclasses.replace(elderly, tags=[]), outage("planned"))
    assert f"城东区一网格目前有计划停电，原因是线路检修，预计{when}恢复供电。" in usual
    assert "比如邻居家都有电" in usual and "只有您家" not in usual


@pytest.mark.parametrize("token", [None, "forged", "other-number", "expired"])
def test_a_caller_number_without_its_call_token_is_not_trusted(cis, token):
    """Security finding 7: the `start` frame is unsigned, so its caller number counts only with the token
    /voice/incoming minted for that call (CallSid, number, expiry)."""

    async def scenario():
        async with gateway(cis) as h:
            secret = h.app[CONFIG].stream_secret
            params = {"callSid": "CA0007", "caller": "+8613912340001"}
            if token == "forged":
                params["token"] = "9999999999.00"
            elif token == "other-number":
                params["token"] = call_token.mint(secret, "CA0007", "+8613700000000")
            elif token == "expired":
                params["token"] = call_token.mint(secret, "CA0007", "+8613912340001", now=time.time() - 600)
            async with h.call(caller="+8613912340001", call_sid="CA0007", parameters=params) as tw:
                await tw.wait_marks(1)
                said = h.session("CA0007").record.said()[0]
                assert "王建国" not in said and h.session("CA0007").record.customer is None

    run(scenario())


def test_speech_barges_in_and_is_sent_to_the_bot(cis):
    async def scenario():
        async with gateway(cis) as h:
            async with h.call() as tw:
                await tw.wait_for(lambda: len(tw.events("media")) >= 10)  # the greeting is playing
                await tw.speak(0.3)  # caller talks over it
                await tw.wait_for(lambda: tw.events("clear"))
                cleared = tw.events("clear")[0].at
                await asyncio.sleep(0.25)  # nothing of the greeting after it
                injected = asyncio.get_running_loop().time()
                h.recognizers[0].inject("我家停电了")
                await tw.wait_for(lambda: h.rasa.messages() == ["我家停电了"])
                sent = h.rasa.received[0]
                assert sent["sender"] == "voice:13912340001"
                assert sent["metadata"]["channel"] == "voice" and sent["metadata"]["caller"] == "13912340001"
                await tw.wait_marks(1)
                late = [r for r in tw.events("media") if cleared + 0.05 < r.at < injected]
                assert not late  # the greeting stopped at once
                record = h.session().record
                await tw.wait_for(lambda: record.turns and record.turns[0].first_audio_ms is not None)
                assert record.said()[-1] == REPLIES["我家停电了"]
                assert any("barge-in" in text for who, text, _ in record.events if who == "system")

    run(scenario())


def test_dtmf_menu_and_digit_collection(cis):
    async def scenario():
        async with gateway(cis, inter_digit_seconds=0.5) as h:
            async with h.call() as tw:
                await tw.press("2")  # anytime, also during the greeting
                await tw.wait_for(lambda: h.rasa.messages() == ["我要查电费"])
                await tw.wait_for(lambda: h.session().keypad.mode is not None)
                await tw.press("3201000001")  # 10 digits: sent without waiting for #
                await tw.wait_for(lambda: h.rasa.messages()[-1] == "3201000001")
                await tw.wait_for(lambda: h.session().keypad.mode and h.session().keypad.mode.length == 4)
                await tw.press("9*")  # * starts over
                await tw.press("0001")
                await tw.wait_for(lambda: h.rasa.messages()[-1] == "0001")
                assert h.rasa.messages() == ["我要查电费", "3201000001", "0001"]
        async with gateway(cis, inter_digit_seconds=0.4) as h:
            async with h.call(call_sid="CA0002") as tw:
                await tw.press("1")
                await tw.wait_for(lambda: h.session("CA0002").keypad.mode is not None)  # 联系电话: 11 digits
                await tw.press("0105#")
                await tw.wait_for(lambda: h.rasa.messages()[-1] == "0105")
                await tw.press("1388")  # no #: the inter-digit pause ends it
                await tw.wait_for(lambda: h.rasa.messages()[-1] == "1388", timeout=3)

    run(scenario())


def test_buttons_are_read_and_goodbye_hangs_up(cis):
    async def scenario():
        async with gateway(cis) as h:
            async with h.call() as tw:
                await tw.press("0")
                await tw.wait_for(lambda: any("或者“不用了”" in t for t in h.session().record.said()))
                h.recognizers[0].inject("再见")
                await asyncio.wait_for(tw.closed.wait(), 20)  # the gateway closed the stream: call over
                assert h.rasa.messages() == ["转人工", "再见"]

    run(scenario())


def test_handoff_leaves_the_stream_and_the_call_joins_the_agents_queue(cis):
    async def scenario():
        async with gateway(cis) as h:
            status, body = await post_signed(h.http, h.base, "/voice/incoming", INCOMING)
            assert ET.fromstring(body).find("./Connect").get("action") == PUBLIC_URL + "/voice/after-stream"
            async with h.call(call_sid="CA1234") as tw:
                await tw.wait_for(lambda: h.session("CA1234") is not None and h.session("CA1234").record.said())
                h.recognizers[0].inject("人工客服")
                await asyncio.wait_for(tw.closed.wait(), 20)  # the queue message was spoken, then the stream ends
            assert any("请不要挂机" in t for t in h.app[CALLS].get("CA1234").said())
            status, body = await post_signed(
                h.http, h.base, "/voice/after-stream", {**INCOMING, "CallStatus": "in-progress"}
            )
            enqueue = ET.fromstring(body).find("./Enqueue")
            assert status == 200 and enqueue is not None and enqueue.text == "95598"
            assert enqueue.find("Task").text == '{"case": 7}'
            status, body = await post_signed(h.http, h.base, "/voice/after-stream", {**INCOMING, "CallSid": "CA9999"})
            assert ET.fromstring(body).find("./Hangup") is not None  # not handed over: the call ends
            status, _ = await post_signed(h.http, h.base, "/voice/after-stream", INCOMING, token="not-the-token")
            assert status == 403

    run(scenario())


def test_after_stream_on_another_instance_finds_the_case_in_the_database(cis):
    from backend.contact_centre import ContactStore

    contact = ContactStore(cis.sessions)
    case, _ = contact.escalate("voice:13912340003", "voice", "customer_request", summary="转人工", context={})

    async def scenario():
        async with gateway(cis) as h:  # this instance never saw the call's stream
            status, body = await post_signed(
                h.http, h.base, "/voice/after-stream", {**INCOMING, "CallSid": "CA7777", "From": "+8613912340003"}
            )
            assert ET.fromstring(body).find("./Enqueue/Task").text == f'{{"case": {case.id}}}'

    try:
        run(scenario())
    finally:
        contact.finish(case.id, "closed", "resolved")


def test_an_angry_callers_words_reach_the_bot_once_and_its_handoff_puts_the_call_through(cis):
    """Whether anger brings a person is the dialogue engine's decision (nlu.escalation_policy): the gateway
    makes one round trip per utterance and follows the answer."""

    async def scenario():
        async with gateway(cis) as h:
            async with h.call(call_sid="CA0042") as tw:
                await tw.wait_for(lambda: h.session("CA0042") is not None and h.session("CA0042").record.said())
                h.recognizers[0].inject("什么破服务，气死我了")
                await asyncio.wait_for(tw.closed.wait(), 20)
            record = h.app[CALLS].get("CA0042")
            assert h.rasa.messages() == ["什么破服务，气死我了"] and len(h.rasa.received) == 1
            assert record.transfer_case == 8 and any("抱歉" in t for t in record.said())

    run(scenario())


def test_no_input_reprompts_twice_then_says_goodbye_and_hangs_up(cis):
    async def scenario():
        async with gateway(cis, no_input_seconds=0.3) as h:
            async with h.call(caller=None, call_sid="CA0003") as tw:  # withheld number
                await asyncio.wait_for(tw.closed.wait(), 30)
                said = h.app[CALLS].get("CA0003").said()
                assert said[1:] == [*prompts.NO_INPUT, prompts.NO_INPUT_GOODBYE]
                assert h.rasa.received == []

    run(scenario())


def test_dtmf_only_without_a_recogniser_and_bot_down(cis):
    async def scenario():
        async with gateway(cis, speech=False, rasa_url="http://127.0.0.1:9") as h:
            async with h.call(call_sid="CA0004") as tw:
                await tw.press("3")
                await tw.wait_for(lambda: prompts.BOT_UNAVAILABLE in h.session("CA0004").record.said())
                assert prompts.DTMF_ONLY in h.session("CA0004").record.said()[0]

    run(scenario())


# --- pure parts ----------------------------------------------------------------------------------------
def test_parse_media_streams_messages():
    start = twiml.parse(
        '{"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","customParameters":{"caller":"+8613912340001"}}}'
    )
    assert (start.stream_sid, start.call_sid, start.parameters["caller"]) == ("MZ1", "CA1", "+8613912340001")
    assert twiml.parse('{"event":"media","media":{"payload":"/w=="}}').audio == b"\xff"
    assert twiml.parse('{"event":"dtmf","dtmf":{"digit":"#"}}').digit == "#"
    for bad in ["", "null", '{"event":"media","media":{"payload":"a"}}', '{"event":"x"}']:
        with pytest.raises(twiml.ProtocolError):
            twiml.parse(bad)


def test_digit_mode_follows_the_last_question():
    assert mode_for_prompt("请告诉我您的十位户号。户号可以在电费单上找到。").length == 10
    assert mode_for_prompt("为了保护您的信息，请说一下户主登记手机号的后四位。").length == 4
    assert mode_for_prompt("请留一个联系电话，方便工作人员和您联系。").length == 11
    assert mode_for_prompt("工单号是G 2611 2300 042。抢修人员会尽快和您联系，请保持电话畅通。") is None
    pad = Keypad()
    assert pad.press("1").text == "我要报修" and pad.press("7").unknown
    pad.expect("请告诉我工单号，或者您的十位户号。")
    assert [pad.press(k).pending for k in "3201000001"] == [True] * 10 and pad.press("#").text == "3201000001"


def test_the_month_question_takes_keys_too():
    asked = prompts.spoken_message({"text": "请问您要查哪个月的电费？比如“上个月”或者“十月份”。"})
    assert asked.startswith("请问您要查哪个月") and "按井号键" in asked and mode_for_prompt(asked).name == "month"
    pad = Keypad()
    pad.expect(asked)
    assert pad.press("1").pending and pad.press("0").text == "10月"
    pad.expect(asked)  # the bot asked again before the caller's # after "10" came in:
    assert pad.press("#") == KeyResult()  # that # ends "10", it does not ask for the latest bill
    pad.expect(asked)
    assert pad.press("3").pending and pad.press("#").text == "3月"
    pad.expect(asked)
    assert pad.press("#").text == "最近一期" and pad.press("#").unknown
    pad.expect(asked)
    pad.press("7")
    assert pad.flush() == "7月"  # the inter-digit pause
    pad.expect(asked)
    assert pad.press("1").pending and pad.press("3").text == "13"  # no such month: the bot asks again


def test_caller_numbers():
    assert national_number("+8613912340001") == "13912340001"
    assert national_number("13912340001") == "13912340001"
    assert national_number("+861012345678") == "01012345678"
    assert national_number("anonymous") is None and national_number("+266696687") is None
