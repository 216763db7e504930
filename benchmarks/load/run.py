"""Load on loopback: N concurrent chat customers and M concurrent phone calls for a fixed time, per profile.

    python -m benchmarks.load.run [--profile embedded|scale|both] [--chats 100] [--calls 10] [--seconds 300]

Chat customers use the chat page's socket on the contact-centre app (two instances in the scale profile,
customers spread over both, each with its own Rasa and action server; one of each in the embedded one)
and loop through scripted requests (fault report, bill query, FAQ questions) with 3–6 s of "typing" between
turns. Calls are placed through a voice gateway in a second process (simulated Twilio, keys-only bill
enquiry, espeak-ng for the bot's voice so that TTS is not what is measured) against the first Rasa.
Reported: turns and calls completed, throughput, p50/p95/p99 turn latency (message sent -> bot done),
errors, and every chat message classified one by one: each carries its own id (kept with the message in
the stored conversation), and after the run each id is looked up in the stored tracker events:
  answered       a normal reply came and the message is stored
  answered_busy  the contact-centre app gave up waiting for Rasa and said channels.wording.BUSY, and
                 the message is not stored: the customer knows to repeat it
  stored_later   the customer was told "busy" (or got nothing) but Rasa did store and answer it later: the
                 conversation moved on without the customer seeing the answer
  lost           not stored, and the customer was not told so (or a reply came for a message never stored)
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aiohttp
import requests

from benchmarks.common import command_line, percentile, rasa_auth, table, write_results
from channels.wording import BUSY
from console.clients import ChatCustomer, new_session, texts

HERE = Path(__file__).resolve().parent
FLOWS = [
    ["我家停电了", "城东区和平路{n}号", "没有", "1391234{n:04d}"],
    ["帮我查一下电费", "3201000002", "0002", "上个月"],
    ["怎么开电子发票"],
    ["电费可以在哪里交"],
    ["峰谷电价怎么算"],
    ["你好"],
]


async def chat_user(i: int, base: str, deadline: float, stats: dict) -> None:
    rng = random.Random(i)
    await asyncio.sleep(rng.uniform(0, 30))  # customers arrive over the first half minute
    async with new_session() as http:
        try:
            customer = await ChatCustomer(http, base).open()
        except (asyncio.TimeoutError, aiohttp.ClientError) as e:
            stats["errors"].append(f"chat {i} could not open: {type(e).__name__}")
            return
        sent: list[tuple[str, str]] = []  # (message id, what the customer saw: answered | busy | nothing)
        try:
            while time.time() < deadline:
                for turn in rng.choice(FLOWS):
                    if time.time() >= deadline:
                        break
                    await asyncio.sleep(rng.uniform(3, 6))
                    started = time.perf_counter()
                    message_id = uuid.uuid4().hex
                    try:
                        got = await customer.say(turn.format(n=i + 1), timeout=60, message_id=message_id)
                        stats["latency"].append((time.perf_counter() - started) * 1000)
                        if not texts(got):
                            stats["empty"] += 1
                            outcome = "nothing"
                        elif BUSY.chat in texts(got):  # the hub gave up waiting for Rasa: "please resend"
                            stats["busy"] += 1
                            outcome = "busy"
                        else:
                            outcome = "answered"
                        sent.append((message_id, outcome))
                    except (asyncio.TimeoutError, ConnectionError) as e:
                        stats["errors"].append(f"chat {i}: {type(e).__name__}")
                        sent.append((message_id, "nothing"))
                        break
        finally:
            await customer.close()
        stats["conversations"].append(
            ("chat:" + next(c.value for c in http.cookie_jar if c.key == "p95598_chat"), sent)
        )


async def phone_calls(n: int, rasa_url: str, db_url: str, deadline: float, stats: dict) -> None:
    from backend.cis import SqlCIS
    from backend.db import make_engine, make_sessionmaker
    from voice.playback import Voice
    from voice.testing.caller import SimCaller
    from voice.testing.fake_twilio import open_gateway
    from voice.testing.scenarios import SCENARIOS, answer_for
    from voice.tts import TtsConfig
    from voice.tts import make_engine as make_tts

    cis = SqlCIS(make_sessionmaker(make_engine(db_url)))
    voice = Voice(make_tts(TtsConfig.from_env(engine="espeak")))  # TTS is not what this measures
    scenario = SCENARIOS["bill"]
    async with open_gateway(cis, rasa_url, voice, speech=False, no_input_seconds=30.0, inter_digit_seconds=1.0) as h:

        async def one_line(k: int) -> None:
            caller = f"+86139123{k:05d}"
            while time.time() < deadline:
                started = time.perf_counter()
                try:
                    async with h.dial(caller) as tw:
                        await tw.wait_for(lambda: h.session(tw.call_sid) is not None, 30)
                        sim = SimCaller(tw, h.session(tw.call_sid), voice=None, patient=True)
                        said, opened, ok = await sim.greeting(), False, False
                        for _ in range(10):
                            if scenario.done.search(said):
                                ok = True
                                break
                            step = answer_for(scenario, said, opened, keys=True, caller=caller, month=10)
                            if step is None or not step.keys:
                                break
                            opened = True
                            timing = await sim.press(step.keys, timeout=90)
                            if timing.first_audio_ms is not None:
                                stats["call_turn_ms"].append(timing.first_audio_ms)
                            said = timing.bot
                    stats["calls_ok" if ok else "calls_failed"] += 1
                    stats["call_ms"].append((time.perf_counter() - started) * 1000)
                except Exception as e:  # noqa: BLE001 - any failure of one call is counted, the others go on
                    stats["calls_failed"] += 1
                    stats["errors"].append(f"call {k}: {type(e).__name__}: {str(e)[:80]}")

        await asyncio.gather(*(one_line(k) for k in range(n)))


def run_calls(n: int, rasa_url: str, db_url: str, deadline: float) -> dict:
    stats: dict = {"errors": [], "call_ms": [], "call_turn_ms": [], "calls_ok": 0, "calls_failed": 0}
    asyncio.run(phone_calls(n, rasa_url, db_url, deadline, stats))
    return stats


async def calls_elsewhere(n: int, rasa_url: str, db_url: str, deadline: float, stats: dict) -> None:
    """The gateway and its simulated Twilio streams (20 ms frames both ways for every call) run in a process of
    their own, as the gateway does in production: in this one they would delay the chat customers' clocks."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        got = await asyncio.get_running_loop().run_in_executor(pool, run_calls, n, rasa_url, db_url, deadline)
    for key, value in got.items():
        stats[key] += value


def classify(seen: str, stored: bool) -> str:
    if stored:
        return "answered" if seen == "answered" else "stored_later"
    return "answered_busy" if seen == "busy" else "lost"


def account_messages(rasa_url: str, conversations: list[tuple[str, list[tuple[str, str]]]]) -> dict:
    """Each message sent, matched by its id against the user events of its stored conversation (all of it:
    a finished request restarts the conversation, and the tracker API shows only what follows by default)."""
    classes: Counter = Counter({"answered": 0, "answered_busy": 0, "stored_later": 0, "lost": 0})
    for sender, sent in conversations:
        r = requests.get(
            f"{rasa_url}/conversations/{sender}/tracker", params={**rasa_auth(), "include_events": "ALL"}, timeout=30
        )
        r.raise_for_status()
        tracker = r.json()
        stored = {
            (e.get("metadata") or {}).get("client_message_id")
            for e in tracker.get("events", [])
            if e.get("event") == "user"
        }
        classes.update(classify(seen, message_id in stored) for message_id, seen in sent)
    return dict(classes)


async def drive(consoles: list[str], rasa_url: str, db_url: str, chats: int, calls: int, seconds: int) -> dict:
    stats = {
        "latency": [],
        "errors": [],
        "empty": 0,
        "busy": 0,
        "conversations": [],
        "call_ms": [],
        "call_turn_ms": [],
        "calls_ok": 0,
        "calls_failed": 0,
    }
    deadline = time.time() + seconds
    started = time.time()
    jobs = [chat_user(i, consoles[i % len(consoles)], deadline, stats) for i in range(chats)]
    if calls:
        jobs.append(calls_elsewhere(calls, rasa_url, db_url, deadline, stats))
    await asyncio.gather(*jobs)
    elapsed = time.time() - started
    lat = stats["latency"]
    return {
        "seconds": round(elapsed),
        "chats": chats,
        "calls": calls,
        "chat_turns": len(lat),
        "turns_per_second": round(len(lat) / elapsed, 2),
        "turn_ms": {"p50": percentile(lat, 50), "p95": percentile(lat, 95), "p99": percentile(lat, 99)},
        "errors": len(stats["errors"]),
        "error_samples": stats["errors"][:10],
        "empty_replies": stats["empty"],
        "busy_replies": stats["busy"],
        "messages": (messages := await asyncio.to_thread(account_messages, rasa_url, stats["conversations"])),
        "lost_messages": messages["lost"],
        "calls_completed": stats["calls_ok"],
        "calls_failed": stats["calls_failed"],
        "call_turn_first_audio_ms": {
            "p50": percentile(stats["call_turn_ms"], 50),
            "p95": percentile(stats["call_turn_ms"], 95),
        },
        "call_duration_ms_p50": percentile(stats["call_ms"], 50),
    }


def run_profile(profile: str, chats: int, calls: int, seconds: int) -> dict:
    from scripts.profiles import ScaleProfile
    from scripts.stack import Stack, ensure_model, free_port

    scale = None
    if profile == "scale":
        scale = ScaleProfile(
            "postgresql+psycopg2://postgres@127.0.0.1:5432/p95598_load",
            "redis://127.0.0.1:6379/0",
            "amqp://guest:guest@127.0.0.1:5672/%2F",
            prefix="load",
        )
        scale.drop_database()
    stacks = []
    with tempfile.TemporaryDirectory() as var:
        try:
            for i in range(2 if scale else 1):
                first = stacks[0] if stacks else None
                stacks.append(
                    Stack(
                        var=Path(var) / str(i),
                        rasa_port=free_port(),
                        action_port=free_port(),
                        knowledge_port=free_port(),
                        console_port=free_port(),
                        scale=scale,
                        with_knowledge=first is None,
                        seed=first is None,
                        knowledge_url=f"http://127.0.0.1:{first.knowledge_port}" if first else None,
                    )
                )
                stacks[-1].start(ensure_model())
                stacks[-1].wait_ready()
            os.environ["P95598_RASA_TOKEN"] = stacks[0].rasa_token  # this process reads the stored conversations
            db_url = scale.pg_url if scale else f"sqlite:///{Path(var) / '0' / 'backend.db'}"
            return asyncio.run(
                drive([s.console_url for s in stacks], stacks[0].rasa_url, db_url, chats, calls, seconds)
            )
        finally:
            for s in stacks:
                s.stop()
            if scale:
                scale.drop_database()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load.run")
    p.add_argument("--profile", choices=["embedded", "scale", "both"], default="both")
    p.add_argument("--chats", type=int, default=100)
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--seconds", type=int, default=300)
    a = p.parse_args()
    profiles = ["embedded", "scale"] if a.profile == "both" else [a.profile]
    results = {name: run_profile(name, a.chats, a.calls, a.seconds) for name in profiles}
    rows = [
        (
            name,
            r["chat_turns"],
            r["turns_per_second"],
            r["turn_ms"]["p50"],
            r["turn_ms"]["p95"],
            r["turn_ms"]["p99"],
            r["errors"],
            r["messages"]["answered"],
            r["messages"]["answered_busy"],
            r["messages"]["stored_later"],
            r["messages"]["lost"],
            f"{r['calls_completed']}/{r['calls_completed'] + r['calls_failed']}",
            r["call_turn_first_audio_ms"]["p95"],
        )
        for name, r in results.items()
    ]
    print(
        table(
            rows,
            (
                "profile",
                "turns",
                "turns/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "answered",
                "busy",
                "stored later",
                "lost",
                "calls ok",
                "call 1st audio p95",
            ),
        )
    )
    write_results(HERE / "results.json", command_line(), results)


if __name__ == "__main__":
    main()
