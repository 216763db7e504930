"""Delay from a contact's end to its inspection (issue 20), measured on the running product.

    python -m benchmarks.inspection.delay [--chats 20] [--calls 3] [--lost-status-calls 2] [--call-idle-minutes 0.5]

A scratch stack (Rasa with the trained model, actions, knowledge, console, the analytics process with its
inspection worker) is started on free ports with a scratch SQLite database. Then:

1. Chats: N customers talk to the real bot over the chat page's websocket, one after another (check a bill with
   the identity check, report a power cut, ask about prices, or say hello and leave), answering what the bot asks
   from a small keyword table, and end the chat with POST /chat/end. The wall time when /chat/end answered is the
   contact's end; a thread polls the database every 0.5 s meanwhile for its Inspection row. Reported: end ->
   inspected_at (the worker's round time), end -> row visible (what a supervisor could see), and the worker's own
   delay_seconds (inspected_at - the contact's last event), beside the baseline: a periodic task every
   `task_seconds` (analytics.feed.run) starts at a uniform phase, so it alone gives p50 T/2, p95 0.95 T, max T.
2. Bot-only calls through the voice gateway (in this process, Twilio played by voice.testing.fake_twilio, the
   caller's words injected at the ASR boundary, the bot's voice a tone so no TTS model is needed; the bot leg kept
   as a recording in the stack's database). The gateway writes a hang-up marker into the conversation when Twilio's
   final call status arrives, which closes the contact at once (baseline: the periodic task alone). Calls whose
   final status never arrives (only the media stream, as when the callback is lost) count as over only after
   P95598_CALL_IDLE_MINUTES without an event, set small in the stack's environment and stated with the result
   (baseline: that limit plus the periodic task).

Every inspection's status (inspected / not_inspectable with the reason) and flags are printed and written, so an
empty run cannot pass for a fast one. Writes benchmarks/inspection/results_delay.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import inspect
import math
import os
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from analytics.feed import run as feed_run
from backend.db import make_engine, make_sessionmaker
from backend.models_quality import Flag, Inspection
from benchmarks.common import command_line, percentile, table, write_results
from console.chat import CHAT_COOKIE
from console.clients import ChatCustomer, new_session
from scripts.stack import Stack, ensure_model

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_delay.json"
POLL_SECONDS = 0.5
ACCOUNT, LAST4, PHONE = "3201000001", "0001", "13912340001"  # 王建国 in the seeded back end
ADDRESS = "城东区和平路12号"

# What a customer opens with, and how they leave; the middle answers what the bot asks (answer_to).
CHAT_SCRIPTS: list[tuple[str, str, str]] = [
    ("bill", "帮我查下这个月电费多少钱", "好的知道了，谢谢"),
    ("fault", "我家停电了，灯都不亮了", "行，那我等师傅，谢谢啊"),
    ("question", "峰谷电价是怎么收费的啊", "明白了，谢谢"),
    ("leave", "你好，在吗", "算了，没事了，不用了"),
]
CALL_SCRIPTS: list[tuple[str, str, str]] = [
    ("bill", "我想查一下电费", "好的，谢谢，再见"),
    ("question", "峰谷电价怎么收费", "知道了，谢谢，再见"),
    ("leave", "喂，你好", "没事了，不用了，再见"),
]
CALLERS = ["+8613912340002", "+8613912340003", "+8613912340004", "+8613912340005", "+8613912340006"]
MAX_TURNS = 8


def answer_to(bot: str) -> str | None:
    """A customer's answer to the bot's last words: the account, the last four, the address, 'no danger', yes."""
    last = bot.replace("\n", "。").rstrip("。！？!? ").split("。")[-1] or bot
    for words, answer in (
        (("后四位", "尾号", "后4位"), LAST4),
        (("户号",), ACCOUNT),
        (("冒烟", "打火", "火花", "掉落", "危险"), "没有，没冒烟也没打火"),
        (("地址", "哪里", "位置", "在哪"), ADDRESS),
        (("电话", "手机号", "联系方式"), PHONE),
        (("哪个月", "月份"), "上个月的"),
        (("对吗", "确认", "是否", "要不要", "需要帮您", "要帮您", "可以吗", "对不对"), "对，可以"),
    ):
        if any(w in last for w in words):
            return answer
    return None


def chat_text(items: list[dict[str, Any]]) -> str:
    return "\n".join(str(i.get("text", "")) for i in items if i.get("type") == "message" and i.get("who") != "me")


@dataclass
class Ended:
    kind: str  # chat / voice
    script: str
    conversation: str
    ended: float  # wall time: /chat/end answered, or the caller hung up
    turns: int
    seen: float | None = None  # wall time when its Inspection row was first read
    row: dict[str, Any] = field(default_factory=dict)


async def one_chat(base: str, script: tuple[str, str, str]) -> Ended:
    name, opening, closing = script
    async with new_session() as http:
        customer = await ChatCustomer(http, base).open()
        token = next(c.value for c in http.cookie_jar if c.key == CHAT_COOKIE)
        said, turns = await customer.say(opening, timeout=120), 1
        for _ in range(MAX_TURNS):
            answer = answer_to(chat_text(said))
            if answer is None:
                break
            said, turns = await customer.say(answer, timeout=120), turns + 1
        await customer.say(closing, timeout=120)
        async with http.post(f"{base}/chat/end", headers={"Origin": base}) as r:
            if r.status != 200:
                raise RuntimeError(f"/chat/end answered {r.status}: {(await r.text())[:200]}")
        ended = time.time()
        await customer.close()
    return Ended("chat", name, f"chat:{token}", ended, turns + 1)


class ToneVoice:
    """The bot speaks a quiet tone, 10 ms per character: the call's timing without a TTS model."""

    name = "tone"

    def stream(self, text: str) -> Iterator[np.ndarray]:
        t = np.arange(80 * max(1, len(text))) / 8000
        return iter([(3000 * np.sin(2 * math.pi * 440 * t)).astype(np.int16)])


async def calls(stack: Stack, n: int, lost_status: int, watcher: Watcher) -> None:
    """`n` calls placed as Twilio places them (their final status writes the hang-up marker), then `lost_status`
    calls of which only the media stream is seen (no status callback: the contact closes after the idle limit)."""
    from backend.cis import SqlCIS
    from voice.playback import Voice
    from voice.recording_store import RecordingStore
    from voice.testing.fake_twilio import open_gateway

    sessions = make_sessionmaker(make_engine(stack.env["P95598_DB_URL"]))
    store = RecordingStore(sessions, stack.var / "recordings", days=180)
    async with open_gateway(SqlCIS(sessions), stack.rasa_url, Voice(ToneVoice()), recordings=store) as h:
        for i in range(n + lost_status):
            kind = "voice" if i < n else "voice_no_status"
            script = CALL_SCRIPTS[i % len(CALL_SCRIPTS)]
            caller_id = CALLERS[i % len(CALLERS)]
            placed = h.dial(caller_id) if kind == "voice" else h.call(caller_id, "CA" + secrets.token_hex(16))
            async with placed as tw:
                turns = await one_call(h, tw, script)
            watcher.add(Ended(kind, script[0], f"voice:{caller_id.removeprefix('+86')}", time.time(), turns))
            print(f"call {i + 1}/{n + lost_status} hung up ({kind}, {script[0]}, {turns} caller turns)", flush=True)


async def one_call(h: Any, tw: Any, script: tuple[str, str, str]) -> int:
    """The caller's side: greeting heard, the opening, answers to what the bot asks, the goodbye; turns said."""
    from voice.testing.caller import SimCaller

    _, opening, closing = script
    await tw.wait_for(lambda: h.session(tw.call_sid) is not None, 30)
    caller = SimCaller(tw, h.session(tw.call_sid), inject=h.recognizers[-1].inject)
    heard, turns = await caller.greeting(), 0
    for line in [opening, *([None] * MAX_TURNS)]:
        line = line or answer_to(heard)
        if line is None:
            break
        heard, turns = (await caller.say(line, timeout=120)).bot, turns + 1
    await caller.say(closing, timeout=120)
    await caller.until_quiet()
    return turns + 1


def _ts(at: dt.datetime) -> float:
    return at.replace(tzinfo=dt.timezone.utc).timestamp()


class Watcher:
    """Polls the database every POLL_SECONDS, from a thread of its own while the contacts go on, for the Inspection
    row of each contact ended so far: `seen` (when first read) and `row` filled in."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.contacts: list[Ended] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def add(self, contact: Ended) -> None:
        self.contacts.append(contact)

    def wait(self, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline and any(c.seen is None for c in self.contacts):
            time.sleep(POLL_SECONDS)

    def _poll(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            pending = [c for c in list(self.contacts) if c.seen is None]
            if pending:
                with self.sessions() as s:
                    for c in pending:
                        self._look(s, c)

    def _look(self, s: Session, c: Ended) -> None:
        row = s.scalars(
            select(Inspection)
            .where(Inspection.conversation_id == c.conversation, Inspection.ended_at >= dt_utc(c.ended - 3600))
            .order_by(Inspection.id.desc())
        ).first()
        if row is None:
            return
        seen = time.time()
        flags = s.scalars(select(Flag).where(Flag.inspection_id == row.id).order_by(Flag.id)).all()
        c.row = {
            "status": row.status,
            "reason": row.reason,
            "inspected_at": _ts(row.inspected_at),
            "ended_at": _ts(row.ended_at),
            "delay_seconds": row.delay_seconds,
            "handled_by": row.handled_by,
            "turns": row.turns,
            "score": row.score,
            "flags": [f.rule_id for f in flags],
            # the first evidence line of each flag, so a surprising flag can be checked by reading it
            "evidence": {f.rule_id: str((f.evidence or [{}])[0].get("text", ""))[:80] for f in flags},
            "emotions": list(row.emotions or []),
        }
        c.seen = seen


def dt_utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


def spread(values: list[float]) -> dict[str, float]:
    quantiles = {"p50": percentile(values, 50), "p95": percentile(values, 95), "max": percentile(values, 100)}
    return {**quantiles, "n": len(values)}


def summary(contacts: list[Ended]) -> dict[str, Any]:
    found = [c for c in contacts if c.seen is not None]
    return {
        "contacts": len(contacts),
        "inspected_rows": len(found),
        "missing": [c.conversation[:24] for c in contacts if c.seen is None],
        "end_to_inspected_at_s": spread([c.row["inspected_at"] - c.ended for c in found]),
        "end_to_row_visible_s": spread([c.seen - c.ended for c in found if c.seen is not None]),
        "worker_delay_seconds": spread([float(c.row["delay_seconds"]) for c in found]),
        "status": dict(Counter(str(c.row["status"]) for c in found)),
        "not_inspectable": [{"script": c.script, "reason": c.row["reason"]} for c in found if c.row["reason"]],
        "flags": dict(Counter(f for c in found for f in c.row["flags"]).most_common()),
        "per_contact": [
            {
                "kind": c.kind,
                "script": c.script,
                "turns_said": c.turns,
                **{
                    k: c.row.get(k)
                    for k in ("status", "reason", "handled_by", "turns", "score", "flags", "evidence", "emotions")
                },
                "end_to_inspected_at_s": round(c.row["inspected_at"] - c.ended, 1) if c.row else None,
                "worker_delay_seconds": round(float(c.row["delay_seconds"]), 1) if c.row else None,
            }
            for c in contacts
        ],
    }


def baseline(task_seconds: float, idle_seconds: float = 0.0) -> dict[str, float]:
    """A periodic task every T at a uniform phase, after the contact has been idle long enough to count as over."""
    return {
        "p50": round(idle_seconds + task_seconds / 2, 1),
        "p95": round(idle_seconds + 0.95 * task_seconds, 1),
        "max": round(idle_seconds + task_seconds, 1),
    }


def task_interval() -> float:
    return float(inspect.signature(feed_run).parameters["task_seconds"].default)


GROUPS = {  # result key: (contact kind, label in the table)
    "chats": ("chat", "chat, ended on the page"),
    "calls": ("voice", "call, hung up"),
    "calls_no_status": ("voice_no_status", "call, no final status"),
}


def print_tables(results: dict[str, Any]) -> None:
    rows: list[tuple[Any, ...]] = []
    for key, (_, label) in GROUPS.items():
        part = results.get(key)
        if not part:
            continue
        for measure, what in (
            ("end_to_inspected_at_s", "end -> inspected_at"),
            ("end_to_row_visible_s", "end -> row visible"),
            ("worker_delay_seconds", "worker delay_seconds"),
        ):
            v = part[measure]
            rows.append((label, what, v["n"], v["p50"], v["p95"], v["max"]))
        b = part["baseline_s"]
        rows.append((label, f"baseline: {part['baseline_is']}", "-", b["p50"], b["p95"], b["max"]))
    print(table(rows, ("contact", "seconds", "n", "p50", "p95", "max")))
    print(f"periodic task every {results['task_seconds']:g} s; P95598_CALL_IDLE_MINUTES={results['call_idle_minutes']}")
    for key, (_, label) in GROUPS.items():
        part = results.get(key)
        if part:
            print(f"{label}: {part['inspected_rows']}/{part['contacts']} inspection rows, status {part['status']}")
            print(f"  flags {part['flags'] or '{}'}")
            for item in part["not_inspectable"]:
                print(f"  not inspectable ({item['script']}): {item['reason']}")
            if part["missing"]:
                print(f"  no inspection row within the timeout: {part['missing']}")


async def run_contacts(stack: Stack, watcher: Watcher, chats: int, n_calls: int, lost_status: int) -> None:
    for i in range(chats):
        ended = await one_chat(stack.console_url, CHAT_SCRIPTS[i % len(CHAT_SCRIPTS)])
        watcher.add(ended)
        print(f"chat {i + 1}/{chats} ended ({ended.script}, {ended.turns} customer turns)", flush=True)
    if n_calls or lost_status:
        await calls(stack, n_calls, lost_status, watcher)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.inspection.delay")
    p.add_argument("--chats", type=int, default=20)
    p.add_argument("--calls", type=int, default=3, help="calls whose final status reaches the gateway")
    p.add_argument("--lost-status-calls", type=int, default=2, help="calls whose final status never arrives")
    p.add_argument("--call-idle-minutes", type=float, default=0.5, help="P95598_CALL_IDLE_MINUTES of the stack")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the last inspection")
    a = p.parse_args()
    if min(a.chats, a.calls, a.lost_status_calls) < 0 or not 0 < a.call_idle_minutes <= 30:
        raise SystemExit("counts must be >= 0 and --call-idle-minutes between 0 and 30")
    if a.calls + a.lost_status_calls > len(CALLERS):
        raise SystemExit(f"at most {len(CALLERS)} calls in all (one caller number each, so one contact each)")
    task_seconds = task_interval()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack.on_free_ports(Path(tmp), extra_env={"P95598_CALL_IDLE_MINUTES": str(a.call_idle_minutes)})
        try:
            stack.start(ensure_model())
            stack.wait_ready()
            os.environ["P95598_RASA_TOKEN"] = stack.rasa_token
            with Watcher(make_sessionmaker(make_engine(stack.env["P95598_DB_URL"]))) as watcher:
                asyncio.run(run_contacts(stack, watcher, a.chats, a.calls, a.lost_status_calls))
                watcher.wait(a.timeout)
            contacts = watcher.contacts
        finally:
            stack.stop()
    idle = a.call_idle_minutes * 60
    results: dict[str, Any] = {"task_seconds": task_seconds, "call_idle_minutes": a.call_idle_minutes}
    for key, (kind, _) in GROUPS.items():
        group = [c for c in contacts if c.kind == kind]
        if group:
            waits_idle = kind == "voice_no_status"
            results[key] = {
                **summary(group),
                "baseline_s": baseline(task_seconds, idle if waits_idle else 0.0),
                "baseline_is": f"idle limit {idle:g} s + periodic task" if waits_idle else "periodic task alone",
            }
    print_tables(results)
    write_results(RESULTS, command_line(), results)


if __name__ == "__main__":
    main()
