"""Time from escalation to the case being visible in the agent console, with N concurrent chats.

    python -m benchmarks.handoff.run [--chats 50] [--console URL --password PW] [--profile LABEL]

Without --console a scratch stack (Rasa, actions, knowledge, console) is started on free ports. One agent
is logged in with the console's live socket open; N chat customers connect over the chat page's socket,
say one sentence, then all ask for a person at once. Per case we record:
  - reply_ms: customer sends "转人工" -> the bot's queue message arrives;
  - escalation_to_visible_ms: the case row is written (its created_at) -> the agent's console receives the
    screen pop for it (`new_case`, pushed over the console's socket);
  - request_to_visible_ms: customer sends -> screen pop.
The baseline in the same table, question_reply_ms: before the escalations, as many fresh customers ask a plain
question (电费可以在哪里交) all at once, so the escalation's own cost shows apart from the box's speed.
With --profile (scratch stack only), py-spy samples every process of the stack during each burst and the
summaries go to benchmarks/handoff/profiles/<label>-<burst>-<process>.txt (`pip install py-spy`).

The CPU of every process of any commit's running stack, idle and per burst, driven by these same bursts:
python -m benchmarks.handoff.cpu (cpu.py).

Automatic routing under load (offer-to-accept, wait-to-answer, evenness across agents, against the "first
free agent" baseline) is the routing scenario: python -m benchmarks.handoff.routing (routing.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from benchmarks.common import command_line, names, percentile, table, write_results
from console.clients import ChatCustomer, ConsoleAgent, new_session

HERE = Path(__file__).resolve().parent


def spread(values: list[float]) -> dict:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "max": percentile(values, 100)}


QUESTION = "电费可以在哪里交"


async def one_chat(http, base: str, i: int, start: asyncio.Event, last: str = "转人工") -> dict:
    customer = await ChatCustomer(http, base).open()
    await customer.say("你好" if i % 2 else "我想问问电费的事")
    await start.wait()
    sent = time.time()
    got = await customer.say(last, timeout=300)
    replied = time.time()
    handoff = next((g for g in got if g.get("type") == "handoff"), None)
    await customer.close()
    return {"case": handoff and handoff["case"], "sent": sent, "replied": replied}


async def burst(base: str, chats: int, last: str) -> list[dict]:
    """`chats` customers connect, say one sentence, then all send `last` at once."""
    start = asyncio.Event()
    sessions = [new_session() for _ in range(chats)]
    try:
        tasks = [asyncio.create_task(one_chat(s, base, i, start, last)) for i, s in enumerate(sessions)]
        await asyncio.sleep(2 + chats * 0.2)  # everyone connected and past their first turn
        start.set()
        return list(await asyncio.gather(*tasks))
    finally:
        for s in sessions:
            await s.close()


Profiler = Callable[[str], AbstractContextManager[object]]


async def measure(base: str, password: str, chats: int, profiled: Profiler | None = None, rounds: int = 1) -> dict:
    """`rounds` bursts of each kind, their replies pooled: the p95 of one burst of 50 moved ±20 % between runs of
    the same commit."""
    profiled = profiled or (lambda burst_name: contextlib.nullcontext())
    baseline: list[dict] = []
    with profiled("question"):
        for _ in range(rounds):
            baseline += await burst(base, chats, QUESTION)
    async with new_session() as agent_http:
        agent = ConsoleAgent(agent_http, base)
        if await agent.login("1001", password) != 302:
            raise SystemExit("agent login failed: pass --password (P95598_DEMO_PASSWORD of that console)")
        await agent.connect()
        await asyncio.sleep(0.5)
        seen: dict[int, float] = {}

        async def watch():
            while True:
                item = await agent.inbox.get()
                if item.get("type") == "new_case":
                    seen.setdefault(item["case"], time.time())

        watcher = asyncio.create_task(watch())
        try:
            results: list[dict] = []
            with profiled("escalation"):
                for _ in range(rounds):
                    results += await burst(base, chats, "转人工")
            deadline = time.time() + 30
            while time.time() < deadline and any(r["case"] not in seen for r in results if r["case"]):
                await asyncio.sleep(0.1)
        finally:
            watcher.cancel()
        status, queue = await agent.get("/console/api/queue")
        created = (
            {
                c["id"]: dt.datetime.fromisoformat(c["created_at"]).replace(tzinfo=dt.timezone.utc).timestamp()
                for c in queue.get("waiting", [])
            }
            if status == 200
            else {}
        )
        await agent.close()
    cases = [r for r in results if r["case"]]
    visible = [
        (seen[r["case"]] - created[r["case"]]) * 1000 for r in cases if r["case"] in seen and r["case"] in created
    ]
    request_to_visible = [(seen[r["case"]] - r["sent"]) * 1000 for r in cases if r["case"] in seen]
    replies = [(r["replied"] - r["sent"]) * 1000 for r in results]
    return {
        "chats": chats,
        "rounds": rounds,
        "escalated": len(cases),
        "popped_up": len(visible),
        "in_console_queue": len([r for r in cases if r["case"] in created]),
        "reply_ms": spread(replies),
        "question_reply_ms": spread([(r["replied"] - r["sent"]) * 1000 for r in baseline]),
        "escalation_to_visible_ms": spread(visible),
        "request_to_visible_ms": spread(request_to_visible),
    }


def profile_into(label: str, pids: dict[str, int]) -> Profiler:
    from benchmarks.throughput.profile import recording, summarise

    @contextlib.contextmanager
    def profiled(burst_name: str) -> Iterator[None]:
        with recording(pids) as stacks_of:
            yield
        folder = HERE / "profiles"
        folder.mkdir(exist_ok=True)
        for process, stacks in stacks_of.items():
            text = summarise(stacks, top=60)
            (folder / f"{label}-{burst_name}-{process}.txt").write_text(f"# {command_line()}\n{text}", "utf-8")
            if os.environ.get("P95598_KEEP_STACKS"):  # the collapsed stacks too, for a closer look
                (folder / f"{label}-{burst_name}-{process}.stacks").write_text(stacks, "utf-8")

    return profiled


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.handoff.run")
    p.add_argument("--chats", type=int, default=50)
    p.add_argument("--console", help="base URL of a running console (default: start a scratch stack)")
    p.add_argument("--password", default="bench-95598", help="demo agent password of that console")
    p.add_argument("--profile", default="", help="label: py-spy summaries of each process per burst (scratch stack)")
    p.add_argument("--pause", default="", help="scratch stack processes stopped while measuring: analytics,notices")
    a = p.parse_args()
    paused = names(a.pause)
    if a.console:
        results = asyncio.run(measure(a.console, a.password, a.chats))
    else:
        from scripts.stack import Stack, ensure_model

        with tempfile.TemporaryDirectory() as var:
            stack = Stack.on_free_ports(Path(var), extra_env={"P95598_DEMO_PASSWORD": a.password})
            try:
                stack.start(ensure_model())
                stack.wait_ready()
                profiler = profile_into(a.profile, {p.name: p.pid for p in stack.procs}) if a.profile else None
                with stack.paused(*paused):
                    results = asyncio.run(measure(stack.console_url, a.password, a.chats, profiler))
            finally:
                stack.stop()
    rows = [(k, v["p50"], v["p95"], v["max"]) for k, v in results.items() if isinstance(v, dict)]
    print(table(rows, ("ms", "p50", "p95", "max")))
    print(
        f"{results['escalated']}/{results['chats']} escalated, {results['popped_up']} popped up on the console, "
        f"{results['in_console_queue']} in its queue"
    )
    path = HERE / "results.json"
    kept = json.loads(path.read_text(encoding="utf-8")).get("routing") if path.exists() else None  # routing.py's
    write_results(path, command_line(), {**results, "paused": list(paused), **({"routing": kept} if kept else {})})


if __name__ == "__main__":
    main()
