"""Automatic routing under load: N customers ask for a person at once, M agents take them as offered.

    python -m benchmarks.handoff.routing [--customers 50] [--agents 5] [--console URL --db-url URL --password PW]

Without --console a scratch stack (Rasa, actions, knowledge, console) is started on free ports, and the run is
made twice: the console routing by longest idle (the product's policy), then restarted with
P95598_ROUTING_POLICY=first_free, the baseline "first free agent" (always the lowest-numbered agent with a
place). M agent logins (bench01...) are added to its database, any skill, 3 chats at once.

Each agent is a console client on the live socket, as the page's JavaScript is: it chooses 示闲, and on an
`offer` thinks 1-3 s, then accepts (one offer in ten is declined, which sends it to the next agent), handles
the chat for 3-8 s and closes it. Each customer is a chat-page client: one sentence, then "转人工". Two arrival
patterns: a burst (all at once: 50 waiting) and a trickle (about one every 2 s, Poisson), where agents are
often free and the policy decides who works. Per case: offer_to_push_ms (the router's offer -> the agent's
socket), offer_to_accept_ms (offer -> the accept answered: think time plus the guarded claim and the
greeting), wait_to_answer_ms (customer's "转人工" -> the agent's greeting on the customer's socket); per agent:
cases handled; evenness as max/min and the coefficient of variation of cases per agent. Results go to
results.json under "routing" (the handoff benchmark's own figures are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import command_line, percentile, table
from console.clients import ChatCustomer, ConsoleAgent, new_session

HERE = Path(__file__).resolve().parent
THINK = (1.0, 3.0)  # seconds an agent takes to answer an offer
HANDLE = (3.0, 8.0)  # seconds an agent spends on a chat before closing it
DECLINE_SHARE = 0.1
# burst: all ask at once (50 waiting, every agent full); trickle: about one every 2 s, so agents are often free
# and the policy decides who gets the next case
SCENARIOS = {"burst": 0.0, "trickle": 2.0}


def spread(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "max": percentile(values, 100)}


def server_time(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).replace(tzinfo=dt.timezone.utc).timestamp()


def bench_agents(db_url: str, n: int, password: str) -> list[str]:
    """bench01... as agents of any skill with 3 places, added to the console's database if missing."""
    from backend.contact_centre import ContactStore
    from backend.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    contact = ContactStore(make_sessionmaker(engine))
    names = [f"bench{i:02d}" for i in range(1, n + 1)]
    for username in names:
        agent = contact.agent_by_username(username) or contact.add_agent(username, f"坐席{username[-2:]}", password)
        contact.set_skills(agent.id, [], 3)
    for p in contact.presences():  # nobody else takes cases: the demo logins are 离线
        contact.go_offline(p.agent_id)
    for case in contact.queue() + contact.cases_of():
        contact.finish(case.id, "closed", "no_response")
    engine.dispose()
    return names


class SimulatedAgent:
    def __init__(self, base: str, username: str, password: str, rng: random.Random):
        self.client = ConsoleAgent(new_session(), base)
        self.username, self.password, self.rng = username, password, rng
        self.offers: list[dict[str, Any]] = []
        self.accepted: list[int] = []
        self.declined = 0
        self.refused = 0
        self.jobs: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if await self.client.login(self.username, self.password) != 302:
            raise SystemExit(f"login {self.username} failed")
        await self.client.connect()
        status, _ = await self.client.post("/console/api/presence", {"status": "available"})
        assert status == 200, status

    async def run(self) -> None:
        while True:
            item = await self.client.inbox.get()
            if item.get("type") == "offer":
                self.jobs.add(asyncio.create_task(self.answer(item, time.time())))

    async def answer(self, offer: dict[str, Any], received: float) -> None:
        await asyncio.sleep(self.rng.uniform(*THINK))
        case = offer["case"]
        if self.rng.random() < DECLINE_SHARE:
            status, _ = await self.client.post(f"/console/api/offers/{case}/decline")
            self.declined += status == 200
            return
        status, _ = await self.client.post(f"/console/api/offers/{case}/accept")
        accepted = time.time()
        if status != 200:
            self.refused += 1
            return
        offered = server_time(offer["offered_at"])
        self.offers.append({"case": case, "push": received - offered, "accept": accepted - offered})
        self.accepted.append(case)
        await asyncio.sleep(self.rng.uniform(*HANDLE))
        await self.client.post(f"/console/api/cases/{case}/close", {"disposition": "resolved"})

    async def close(self) -> None:
        for job in self.jobs:
            job.cancel()
        await asyncio.gather(*self.jobs, return_exceptions=True)
        await self.client.post("/console/api/presence", {"status": "busy:话后处理"})
        await self.client.close()
        await self.client.http.close()


async def one_customer(base: str, i: int, start: asyncio.Event, delay: float, timeout: float) -> dict[str, Any]:
    async with new_session() as http:
        customer = await ChatCustomer(http, base).open()
        await customer.say("我想问问电费的事" if i % 2 else "你好，我上个月电费有点高")
        await start.wait()
        await asyncio.sleep(delay)
        sent = time.time()
        got = await customer.say("转人工", timeout=120)
        queued = any(g.get("type") == "handoff" for g in got)
        answered = None
        deadline = sent + timeout
        while queued and answered is None and time.time() < deadline:
            try:
                item = await asyncio.wait_for(customer.inbox.get(), deadline - time.time())
            except TimeoutError:
                break
            if item.get("type") == "message" and "我是人工客服" in (item.get("text") or ""):
                answered = time.time()
        await customer.close()
    return {"queued": queued, "wait": None if answered is None else answered - sent}


async def measure(
    base: str, names: list[str], password: str, customers: int, gap: float = 0.0, seed: int = 7
) -> dict[str, Any]:
    """One run: `gap` 0, everyone asks at once (a burst); else arrivals about `gap` seconds apart (Poisson)."""
    rng = random.Random(seed)
    delays, at = [], 0.0
    for _ in range(customers):
        delays.append(at)
        at += rng.expovariate(1 / gap) if gap else 0.0
    agents = [SimulatedAgent(base, n, password, random.Random(rng.random())) for n in names]
    for agent in agents:
        await agent.start()
        await asyncio.sleep(0.3)  # they chose 示闲 one after another: the first is idle the longest
    runners = [asyncio.create_task(a.run()) for a in agents]
    start = asyncio.Event()
    tasks = [asyncio.create_task(one_customer(base, i, start, delays[i], timeout=600)) for i in range(customers)]
    await asyncio.sleep(2 + customers * 0.2)  # everyone connected and past their first sentence
    began = time.time()
    start.set()
    done = await asyncio.gather(*tasks)
    elapsed = time.time() - began
    await asyncio.sleep(HANDLE[1] + 1)  # the last chats closed
    for r in runners:
        r.cancel()
    await asyncio.gather(*runners, return_exceptions=True)
    for agent in agents:
        await agent.close()
    per_agent = {a.username: len(a.accepted) for a in agents}
    counts = list(per_agent.values())
    mean = statistics.mean(counts) if counts else 0.0
    offers = [o for a in agents for o in a.offers]
    waits = [d["wait"] * 1000 for d in done if d["wait"] is not None]
    return {
        "customers": customers,
        "arrivals": "all at once" if not gap else f"one every {gap} s on average",
        "agents": len(agents),
        "queued": sum(d["queued"] for d in done),
        "answered": len(waits),
        "seconds_to_answer_all": round(elapsed, 1),
        "declined": sum(a.declined for a in agents),
        "refused_accepts": sum(a.refused for a in agents),
        "offer_to_push_ms": spread([o["push"] * 1000 for o in offers]),
        "offer_to_accept_ms": spread([o["accept"] * 1000 for o in offers]),
        "wait_to_answer_ms": spread(waits),
        "cases_per_agent": per_agent,
        "max_min": f"{max(counts)}/{min(counts)}" if counts else "-",
        "cv": round(statistics.pstdev(counts) / mean, 3) if mean else 0.0,
    }


def report(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for run, r in results.items():
        rows.append(
            (
                run,
                f"{r['answered']}/{r['customers']}",
                r["offer_to_push_ms"]["p50"],
                r["offer_to_push_ms"]["p95"],
                r["offer_to_accept_ms"]["p50"],
                r["offer_to_accept_ms"]["p95"],
                r["wait_to_answer_ms"]["p50"],
                r["wait_to_answer_ms"]["p95"],
                " ".join(str(n) for n in r["cases_per_agent"].values()),
                r["max_min"],
                r["cv"],
            )
        )
    header = (
        "scenario/policy", "answered", "push p50", "push p95", "offer→accept p50", "p95", "wait→answer p50", "p95",
        "cases per agent", "max/min", "CV",
    )  # fmt: skip
    return table(rows, header)


def save(results: dict[str, Any]) -> None:
    path = HERE / "results.json"
    existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    existing["routing"] = {
        "command": command_line(),
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "think_seconds": list(THINK),
        "handle_seconds": list(HANDLE),
        "decline_share": DECLINE_SHARE,
        **results,
    }
    path.write_text(json.dumps(existing, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.handoff.routing")
    p.add_argument("--customers", type=int, default=50)
    p.add_argument("--agents", type=int, default=5)
    p.add_argument("--console", help="base URL of a running console (one run, with its own policy)")
    p.add_argument("--db-url", help="that console's database (to add the benchmark's agents)")
    p.add_argument("--password", default="bench-95598")
    a = p.parse_args()
    results: dict[str, Any] = {}
    if a.console:
        if not a.db_url:
            raise SystemExit("--db-url is needed with --console (the benchmark adds its agents there)")
        names = bench_agents(a.db_url, a.agents, a.password)
        results["running_console"] = asyncio.run(measure(a.console, names, a.password, a.customers))
    else:
        from scripts.stack import Stack, ensure_model

        with tempfile.TemporaryDirectory() as var:
            db_url = f"sqlite:///{Path(var) / 'backend.db'}"
            stack = Stack.on_free_ports(Path(var), db_url=db_url, extra_env={"P95598_DEMO_PASSWORD": a.password})
            try:
                stack.start(ensure_model())
                stack.wait_ready()
                for policy in ("longest_idle", "first_free"):
                    if policy != "longest_idle":
                        stack.kill("console")
                        stack.restart("console", {"P95598_ROUTING_POLICY": policy})
                        stack.wait_ready(only=("console",))
                    for scenario, gap in SCENARIOS.items():
                        names = bench_agents(db_url, a.agents, a.password)
                        run = f"{scenario}/{policy}"
                        results[run] = asyncio.run(measure(stack.console_url, names, a.password, a.customers, gap))
                        print(report({run: results[run]}), flush=True)
            finally:
                stack.stop()
    print(report(results))
    save(results)


if __name__ == "__main__":
    main()
