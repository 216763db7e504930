"""Bad input at scale: hypothesis-generated inputs against every public surface of the running product.

    python -m benchmarks.fuzz.run [--scale 1.0]

Starts a scratch stack (embedded profile: Rasa, actions, knowledge, console, voice gateway) and sends
10,000 inputs (at --scale 1.0): text-channel messages (Rasa REST and the chat socket), signed and unsigned
Twilio webhooks, Media Streams frames, signed WeChat webhooks, and console API calls with a valid login.
Checked: no 5xx answer, every process still running, the database intact (integrity check, seeded
tables unchanged, work orders that existed before unchanged).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.common import command_line, table, write_results
from console.clients import ConsoleAgent, new_session
from voice.testing.fake_twilio import signature

HERE = Path(__file__).resolve().parent
TOKEN, WECHAT, PASSWORD, PUBLIC = (
    "fuzz-twilio-token",
    "fuzz-wechat-token",
    "fuzz-pass-95598",
    "https://voice.example.cn",
)
WORDS = [
    "我家停电了",
    "查电费",
    "转人工",
    "户号",
    "3201000001",
    "13912340001",
    "<xml>",
    "]]>",
    "😀",
    "\x00",
    "' OR 1=1 --",
    "电" * 300,
    "%s%n",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "\u202e",
    "续办123456",
    "/restart",
    "/human_agent",
]
TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(WORDS),
    st.lists(st.sampled_from(WORDS), max_size=8).map("".join),
    st.text(min_size=3000, max_size=20000, alphabet="电费停电报修ab1 ！"),
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(TEXT, kids, max_size=4),
    max_leaves=12,
)


def collect(strategy, n: int) -> list:
    out: list = []

    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def take(x):
        out.append(x)

    take()
    return out[:n]


def twilio_form():
    keys = st.sampled_from(["CallSid", "From", "To", "CallStatus", "Digits", "AccountSid", "CallDuration", "x"])
    return st.tuples(
        st.sampled_from(["/voice/incoming", "/voice/status", "/voice/after-stream"]),
        st.dictionaries(keys, TEXT, max_size=6),
        st.booleans(),
    )


def media_frame():
    event = st.sampled_from(["connected", "start", "media", "dtmf", "mark", "stop", "nonsense"])
    body = st.fixed_dictionaries(
        {"event": event},
        optional={
            "media": st.fixed_dictionaries(
                {
                    "payload": st.one_of(
                        TEXT, st.binary(max_size=400).map(lambda b: __import__("base64").b64encode(b).decode())
                    )
                }
            ),
            "start": st.dictionaries(TEXT, JSONISH, max_size=3),
            "dtmf": st.fixed_dictionaries({"digit": TEXT}),
            "mark": st.dictionaries(TEXT, TEXT, max_size=2),
            "streamSid": TEXT,
            "sequenceNumber": JSONISH,
        },
    )
    return st.one_of(body.map(json.dumps), TEXT)


def wechat_body():
    field = st.sampled_from(
        ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Recognition", "Event"]
    )
    xml = st.dictionaries(field, TEXT, max_size=8).map(
        lambda d: "<xml>" + "".join(f"<{k}><![CDATA[{v.replace(']]>', '')}]]></{k}>" for k, v in d.items()) + "</xml>"
    )
    return st.one_of(xml, TEXT, st.binary(max_size=2000).map(lambda b: b.decode("latin-1")))


def console_call(cases: list[int]):
    """Mostly real cases (claimed by the fuzzing agent, so inputs get past login, CSRF and ownership checks
    into the handlers), sometimes odd ids."""
    path = st.sampled_from(
        ["claim", "messages", "orders", "orders/G261128000001", "transfer", "return", "close", "code"]
    )
    case = st.one_of(
        st.sampled_from(cases), st.sampled_from(cases), st.sampled_from(cases), st.integers(-5, 10**12), TEXT
    )
    return st.tuples(path, case, JSONISH)


async def send_all(name: str, items: list, send, results: Counter, fivexx: list, concurrency: int = 8) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one(item):
        async with sem:
            try:
                status = await send(item)
            except (aiohttp.ClientError, asyncio.TimeoutError, UnicodeError, ValueError) as e:
                status = f"client:{type(e).__name__}"
            exact = name == "console_api"  # which answers came from the handlers, not the login or CSRF checks
            results[
                (name, (str(status) if exact else str(status)[:1] + "xx") if isinstance(status, int) else status)
            ] += 1
            if isinstance(status, int) and status >= 500:
                fivexx.append({"surface": name, "status": status, "input": repr(item)[:300]})

    await asyncio.gather(*(one(i) for i in items))


def open_cases(stack, username: str, n: int) -> list[int]:
    """Escalated cases, claimed by the fuzzing agent: what an agent's API calls act on."""
    from backend.contact_centre import Channel, ContactStore, EscalationReason
    from backend.db import make_engine, make_sessionmaker

    contact = ContactStore(make_sessionmaker(make_engine(stack.env["P95598_DB_URL"])))
    agent = contact.agent_by_username(username)
    ids = []
    for i in range(n):
        case, _ = contact.escalate(
            f"fuzz-{i}", Channel.CHAT, EscalationReason.CUSTOMER_REQUEST, summary="fuzz case", context={}
        )
        contact.claim(case.id, agent.id)
        ids.append(case.id)
    return ids


def snapshot(db: Path, last_order: int | None = None) -> dict:
    """Digests of what must not change; `last_order`: the work orders that existed before the run."""
    con = sqlite3.connect(db)
    try:
        if last_order is None:
            last_order = con.execute("select coalesce(max(id), 0) from work_orders").fetchone()[0]
        digest = lambda q: hashlib.sha256(repr(con.execute(q).fetchall()).encode()).hexdigest()[:16]
        return {
            "integrity": con.execute("PRAGMA integrity_check").fetchone()[0],
            "customers": digest("select * from customers order by account_no"),
            "bills": digest("select * from bills order by id"),
            "areas": digest("select * from areas order by code"),
            "last_order": last_order,
            "orders_before": digest(
                f"select id, number, status, details from work_orders where id <= {last_order} order by id"
            ),
        }
    finally:
        con.close()


async def fuzz(stack, n: dict) -> dict:
    results, fivexx = Counter(), []
    async with new_session() as http:
        rasa, console, voice = stack.rasa_url, stack.console_url, f"http://127.0.0.1:{stack.voice_port}"

        senders = iter(range(10**6))

        async def rest(text):  # ten messages per conversation: a conversation's own turns are serialised
            body = {"sender": f"fuzz-rest-{next(senders) // 10}", "message": text}
            async with http.post(f"{rasa}/webhooks/rest/webhook", json=body) as r:
                return r.status

        async def webhook(item):
            path, form, signed = item
            headers = {"X-Twilio-Signature": signature(PUBLIC + path, form, TOKEN) if signed else "forged"}
            async with http.post(voice + path, data=form, headers=headers) as r:
                return r.status

        async def wechat(body):
            ts, nonce = str(int(time.time())), secrets.token_hex(6)  # as WeChat: a fresh nonce per push
            sig = hashlib.sha1("".join(sorted([WECHAT, ts, nonce])).encode()).hexdigest()
            async with http.post(
                f"{console}/wechat",
                params={"timestamp": ts, "nonce": nonce, "signature": sig},
                data=body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body,
            ) as r:
                return r.status

        agent = ConsoleAgent(http, console)
        assert await agent.login("1001", PASSWORD) == 302, "the fuzzing agent could not log in"
        cases = await asyncio.to_thread(open_cases, stack, "1001", 30)

        async def api(item):
            path, case, body = item
            return (
                await agent.post(f"/console/api/cases/{case}/{path}", body if isinstance(body, dict) else {"x": body})
            )[0]

        await send_all("rest_text", collect(TEXT, n["rest_text"]), rest, results, fivexx, concurrency=4)
        await send_all("twilio_webhooks", collect(twilio_form(), n["twilio_webhooks"]), webhook, results, fivexx)
        await send_all("wechat", collect(wechat_body(), n["wechat"]), wechat, results, fivexx)
        await send_all("console_api", collect(console_call(cases), n["console_api"]), api, results, fivexx)
        await frames(http, voice, collect(media_frame(), n["media_frames"]), results)
        await chat(
            http,
            console,
            collect(st.one_of(TEXT, TEXT.map(lambda t: json.dumps({"type": "text", "text": t}))), n["chat_socket"]),
            results,
        )
    return {"results": results, "fivexx": fivexx}


async def frames(http, voice: str, items: list, results: Counter, per_call: int = 100) -> None:
    url = PUBLIC.replace("https://", "wss://") + "/voice/stream"
    for i in range(0, len(items), per_call):
        ws = await http.ws_connect(voice + "/voice/stream", headers={"X-Twilio-Signature": signature(url, {}, TOKEN)})
        start = {
            "event": "start",
            "start": {
                "streamSid": f"MZfuzz{i}",
                "callSid": f"CAfuzz{i}",
                "customParameters": {"caller": "+8613912340002"},
            },
            "streamSid": f"MZfuzz{i}",
        }
        await ws.send_str(json.dumps(start))
        for frame in items[i : i + per_call]:
            if ws.closed:
                break
            await ws.send_str(frame)
            results[("media_frames", "sent")] += 1
        results[("media_frames", "stream closed by gateway" if ws.closed else "stream open after frames")] += 1
        await ws.close()


async def chat(http, console: str, items: list, results: Counter, per_socket: int = 100) -> None:
    async with http.get(f"{console}/chat"):
        pass
    for i in range(0, len(items), per_socket):
        ws = await http.ws_connect(f"{console}/chat/ws", headers={"Origin": console})
        await ws.receive_json(timeout=30)
        for frame in items[i : i + per_socket]:
            await ws.send_str(frame)
            results[("chat_socket", "sent")] += 1
        await asyncio.sleep(1)
        results[("chat_socket", "socket open after frames" if not ws.closed else "socket closed")] += 1
        await ws.close()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fuzz.run")
    p.add_argument("--scale", type=float, default=1.0, help="1.0 = 10,000 inputs")
    a = p.parse_args()
    base = {
        "rest_text": 1200,
        "chat_socket": 800,
        "twilio_webhooks": 2500,
        "media_frames": 1500,
        "wechat": 2000,
        "console_api": 2000,
    }
    n = {k: max(1, int(v * a.scale)) for k, v in base.items()}
    from scripts.stack import Stack, ensure_model

    with tempfile.TemporaryDirectory() as var:
        stack = Stack.on_free_ports(
            Path(var),
            voice=True,
            extra_env={
                "TWILIO_AUTH_TOKEN": TOKEN,
                "P95598_PUBLIC_URL": PUBLIC,
                "P95598_WECHAT_TOKEN": WECHAT,
                "P95598_DEMO_PASSWORD": PASSWORD,
                "P95598_TTS_MODEL": "",
            },
        )
        try:
            stack.start(ensure_model())
            stack.wait_ready()
            before = snapshot(Path(var) / "backend.db")
            started = time.time()
            out = asyncio.run(fuzz(stack, n))
            seconds = round(time.time() - started)
            alive = {proc.name: proc.poll() is None for proc in stack.procs}
            after = snapshot(Path(var) / "backend.db", before["last_order"])
        finally:
            stack.stop()
    counts = {f"{s}: {k}": v for (s, k), v in sorted(out["results"].items())}
    results = {
        "inputs": sum(n.values()),
        "per_surface": n,
        "seconds": seconds,
        "outcomes": counts,
        "server_errors": out["fivexx"][:50],
        "server_error_count": len(out["fivexx"]),
        "processes_alive": alive,
        "database_before": before,
        "database_after": after,
        "stored_data_intact": before == after and after["integrity"] == "ok",
    }
    print(table(list(counts.items()), ("surface: outcome", "count")))
    print(
        f"{results['inputs']} inputs in {seconds} s; 5xx: {len(out['fivexx'])}; all processes alive: "
        f"{all(alive.values())}; stored data intact: {results['stored_data_intact']}"
    )
    write_results(HERE / "results.json", command_line(), results)


if __name__ == "__main__":
    main()
