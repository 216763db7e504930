"""The agent leg of a call: Twilio's signed recording callback, the media fetched from (a fake of) Twilio's REST
API, stored under the recordings directory and transcribed per channel by real Vosk (the Korean model; no
Mandarin model ships on a registry) with word times; retries, forgeries, missing and corrupt audio.

espeak-ng's Korean is poor, so the tests check who spoke when, not which words Vosk heard."""

from __future__ import annotations

import asyncio
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from twilio_fake import PUBLIC_URL, open_gateway, post_signed

from backend.models_recordings import Recording, RecordingStatus
from voice import recording_callbacks, twiml
from voice.gateway import CALLS
from voice.playback import Voice
from voice.recording_service import RECORDINGS
from voice.recording_store import RecordingStore
from voice.testing.fake_twilio_api import FakeTwilioApi, recording_callback
from voice.testing.recording_audio import placed, speech, stereo_wav

ACCOUNT = "AC" + "0" * 32
CALL = "CA" + "1" * 32
CALLER_SAYS, AGENT_SAYS = "안녕하세요. 전기가 나갔어요.", "네 고객님 확인해 드리겠습니다."
AGENT_FROM = 4.0  # seconds into the recording the agent starts speaking


class Silent:
    """The bot's voice is not what these tests are about."""

    def stream(self, text: str) -> Iterator[np.ndarray]:
        return iter([np.zeros(160, dtype=np.int16)])


def sid(n: int) -> str:
    return f"RE{n:032d}"


@pytest.fixture(scope="module")
def call_wav() -> bytes:
    """Eight seconds of a call: the caller speaks at 0.5 s on the left, the agent at 4 s on the right."""
    return stereo_wav(placed(speech(CALLER_SAYS), 0.5, 8.0), placed(speech(AGENT_SAYS), AGENT_FROM, 8.0))


@asynccontextmanager
async def gateway(cis: Any, store: RecordingStore, api: FakeTwilioApi, model: Path | None) -> AsyncIterator[Any]:
    async with api.serving() as base:
        async with open_gateway(
            cis,
            "http://127.0.0.1:9",
            Voice(Silent()),
            recordings=store,
            vosk_model=str(model) if model else None,
            twilio_api_base=base,
            account_sid=ACCOUNT,
        ) as h:
            yield h


async def callback(h: Any, form: dict[str, str], **kw: Any) -> int:
    status, _ = await post_signed(h.http, h.base, "/voice/recording-status", form, **kw)
    return status


async def settled(h: Any, timeout: float = 120.0) -> None:
    """Every recording being fetched or transcribed is done."""
    tasks = h.app[RECORDINGS].agent.tasks
    if tasks:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout)


def rows(store: RecordingStore) -> list[Recording]:
    with store.sessions() as s:
        return list(s.scalars(select(Recording).order_by(Recording.id)))


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 300))


def test_a_signed_callback_stores_the_agent_leg_and_transcribes_each_channel_with_times(cis, store, model, call_wav):
    api = FakeTwilioApi(ACCOUNT, "test-auth-token-0123456789abcdef", {sid(1): call_wav})
    store.add_bot_leg(CALL, "voice:13912340001", "bot/x.wav", 30.0, [])  # the bot leg names the conversation

    async def scenario() -> None:
        async with gateway(cis, store, api, model) as h:
            assert await callback(h, recording_callback(CALL, sid(1), ACCOUNT)) == 204
            await settled(h)

    run(scenario())
    agent = [r for r in rows(store) if r.leg == "agent"]
    assert len(agent) == 1 and api.refused == 0
    row = agent[0]
    assert row.recording_sid == sid(1) and row.call_sid == CALL and row.conversation_id == "voice:13912340001"
    assert row.status == RecordingStatus.TRANSCRIBED and row.channels == 2 and row.reason is None
    assert row.duration_seconds == pytest.approx(8.0, abs=0.01)
    assert row.path and (store.directory / row.path).read_bytes() == call_wav
    assert row.expires_at - row.created_at == dt.timedelta(days=180)
    caller = [line for line in row.transcript if line["who"] == "caller"]
    agent_lines = [line for line in row.transcript if line["who"] == "agent"]
    assert caller and agent_lines and all(line["text"] for line in row.transcript)
    assert all(0.4 <= line["start"] < line["end"] <= 8.0 for line in row.transcript)
    assert caller[0]["start"] < 2.0 and agent_lines[0]["start"] >= AGENT_FROM - 0.3  # each where it was said
    assert [line["start"] for line in row.transcript] == sorted(line["start"] for line in row.transcript)


def test_a_retried_callback_stores_the_recording_once(cis, store, call_wav):
    api = FakeTwilioApi(ACCOUNT, "test-auth-token-0123456789abcdef", {sid(2): call_wav})

    async def scenario() -> None:
        async with gateway(cis, store, api, None) as h:
            form = recording_callback(CALL, sid(2), ACCOUNT)
            assert [await callback(h, form), await callback(h, form)] == [204, 204]  # the second while fetching
            await settled(h)
            assert await callback(h, form) == 204  # and once more after
            await settled(h)

    run(scenario())
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Recording).where(Recording.recording_sid == sid(2))) == 1
    assert len(api.requests) == 1
    (row,) = rows(store)
    assert row.status == RecordingStatus.STORED and "未转写" in (row.reason or "")  # no speech model configured


@pytest.mark.parametrize("how", ["forged", "missing", "other URL"])
def test_a_callback_with_a_bad_signature_gets_403_and_nothing_is_stored(cis, store, call_wav, how):
    api = FakeTwilioApi(ACCOUNT, "test-auth-token-0123456789abcdef", {sid(3): call_wav})
    signing: dict[str, dict[str, Any]] = {
        "forged": {"token": "not-the-auth-token"},
        "missing": {"headers": {}},
        "other URL": {"sign_url": PUBLIC_URL + "/voice/status"},
    }
    kw = signing[how]

    async def scenario() -> None:
        async with gateway(cis, store, api, None) as h:
            assert await callback(h, recording_callback(CALL, sid(3), ACCOUNT), **kw) == 403
            await asyncio.sleep(0.2)

    run(scenario())
    assert rows(store) == [] and api.requests == []
    assert not (store.directory / "agent").exists()


TRUNCATED = 1
CASES = {
    "missing": (None, "404"),
    "empty": (b"", "为空"),
    "not a WAV": (b"<html><body>Service Unavailable</body></html>" * 20, "不是可用的 WAV"),
    "truncated": (TRUNCATED, "不完整"),
}


@pytest.mark.parametrize("case", CASES)
def test_missing_or_corrupt_audio_is_not_inspectable_with_the_reason(cis, store, model, call_wav, case, monkeypatch):
    monkeypatch.setattr(recording_callbacks, "FETCH_BACKOFF", 0.01)
    body, reason = CASES[case]
    if body is TRUNCATED:
        body = call_wav[: len(call_wav) // 4]  # the header still says 8 s
    api = FakeTwilioApi(ACCOUNT, "test-auth-token-0123456789abcdef", {} if body is None else {sid(4): bytes(body)})

    async def scenario() -> None:
        async with gateway(cis, store, api, model) as h:
            assert await callback(h, recording_callback(CALL, sid(4), ACCOUNT)) == 204
            await settled(h)
            assert (await h.http.get(h.base + "/health")).status == 200  # the gateway goes on

    run(scenario())
    (row,) = rows(store)
    assert row.status == RecordingStatus.NOT_INSPECTABLE and reason in (row.reason or ""), row.reason
    assert row.transcript == []
    assert len(api.requests) == (recording_callbacks.FETCH_ATTEMPTS if body is None else 1)


def test_a_recording_twilio_could_not_make_is_not_inspectable(cis, store):
    api = FakeTwilioApi(ACCOUNT, "test-auth-token-0123456789abcdef")

    async def scenario() -> None:
        async with gateway(cis, store, api, None) as h:
            assert await callback(h, recording_callback(CALL, sid(5), ACCOUNT, status="in-progress")) == 204
            assert rows(store) == []  # nothing to fetch yet
            assert await callback(h, recording_callback(CALL, sid(5), ACCOUNT, status="absent")) == 204
            bad = {**recording_callback(CALL, "not-a-sid", ACCOUNT)}
            assert await callback(h, bad) == 400

    run(scenario())
    (row,) = rows(store)
    assert row.status == RecordingStatus.NOT_INSPECTABLE and "absent" in (row.reason or "") and api.requests == []


def test_the_queue_twiml_asks_twilio_to_record_both_sides_and_call_back():
    body = twiml.enqueue("95598", 7, recording_callback=PUBLIC_URL + "/voice/recording-status")
    root = ET.fromstring(body)
    recording = root.find("./Start/Recording")
    assert recording is not None and [child.tag for child in root] == ["Start", "Enqueue"]
    assert recording.get("channels") == "dual" and recording.get("track") == "both"
    assert recording.get("recordingStatusCallback") == PUBLIC_URL + "/voice/recording-status"
    assert ET.fromstring(twiml.enqueue("95598", 7)).find("./Start") is None


def test_a_call_handed_to_an_agent_is_queued_with_twilio_recording_it(cis, store):
    api = FakeTwilioApi(ACCOUNT, "test-auth-token-0123456789abcdef")

    async def scenario() -> tuple[str, str]:
        async with gateway(cis, store, api, None) as h:
            h.app[CALLS].open(CALL).transfer_case = 7  # the bot handed the call over (actions/handoff.py)
            form = {"CallSid": CALL, "From": "+8613912340001", "AccountSid": ACCOUNT}
            status, recorded = await post_signed(h.http, h.base, "/voice/after-stream", form)
            assert status == 200
        async with open_gateway(cis, "http://127.0.0.1:9", Voice(Silent()), recordings=None) as h:
            h.app[CALLS].open(CALL).transfer_case = 7
            _, unrecorded = await post_signed(h.http, h.base, "/voice/after-stream", form)
            status, _ = await post_signed(
                h.http, h.base, "/voice/recording-status", recording_callback(CALL, sid(6), ACCOUNT)
            )
            assert status == 404  # recording is off on this gateway: signed, but nothing to do
        return recorded, unrecorded

    recorded, unrecorded = run(scenario())
    start = ET.fromstring(recorded).find("./Start/Recording")
    assert start is not None and start.get("recordingStatusCallback") == PUBLIC_URL + "/voice/recording-status"
    assert ET.fromstring(recorded).find("./Enqueue") is not None
    assert ET.fromstring(unrecorded).find("./Start") is None and ET.fromstring(unrecorded).find("./Enqueue") is not None


def test_a_recording_announced_before_the_gateway_stopped_is_fetched_when_it_starts_again(cis, store, call_wav):
    api = FakeTwilioApi(ACCOUNT, "test-auth-token-0123456789abcdef", {sid(7): call_wav})
    claimed = store.claim_agent_leg(sid(7), CALL, "voice:13912340001")  # the callback came, then the gateway stopped
    assert claimed is not None and store.unfetched_agent_legs() == [(claimed, sid(7))]

    async def scenario() -> None:
        async with gateway(cis, store, api, None) as h:
            await asyncio.sleep(0.1)
            await settled(h)

    run(scenario())
    (row,) = rows(store)
    assert row.id == claimed and row.path and (store.directory / row.path).read_bytes() == call_wav
    assert store.unfetched_agent_legs() == [] and len(api.requests) == 1
