"""Closed loop: N clients, each sending its next turn as soon as the last one is answered (no think time).

    python -m benchmarks.load.closed_loop [--clients 20] [--seconds 60]

The most a 2-core box can carry: every client always has a turn in flight, so the figures are the
stack's throughput and the wait one turn sees when N others are queued with it. Clients run the load
benchmark's scripted flows (fault report, bill enquiry with the identity check, FAQ, greeting) against
Rasa's REST channel of a scratch stack on free ports (Rasa, action server, knowledge service; SQLite).
CPU per turn of each process is read from /proc over the run. Writes benchmarks/load/results_closed_loop.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from benchmarks.common import command_line, names, percentile, table, write_results
from benchmarks.load.run import FLOWS
from benchmarks.throughput.run import cpu_seconds

HERE = Path(__file__).resolve().parent


async def client(i: int, url: str, deadline: float, latencies: list[float], errors: list[str]) -> None:
    rng = random.Random(i)
    async with aiohttp.ClientSession() as http:
        while time.time() < deadline:
            sender = f"closed-{i}-{uuid.uuid4().hex[:8]}"
            for turn in rng.choice(FLOWS):
                if time.time() >= deadline:
                    return
                started = time.perf_counter()
                try:
                    async with http.post(
                        f"{url}/webhooks/rest/webhook",
                        timeout=aiohttp.ClientTimeout(total=60),
                        json={"sender": sender, "message": turn.format(n=i + 1)},
                    ) as r:
                        r.raise_for_status()
                        if not await r.json():
                            errors.append(f"client {i}: no reply to {turn!r}")
                except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                    errors.append(f"client {i}: {type(e).__name__}")
                latencies.append((time.perf_counter() - started) * 1000)


async def drive(url: str, clients: int, seconds: int) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.time()
    await asyncio.gather(*(client(i, url, started + seconds, latencies, errors) for i in range(clients)))
    return latencies, errors, time.time() - started


def run(clients: int, seconds: int, paused: tuple[str, ...] = ()) -> dict:
    """`paused`: stack processes stopped (SIGSTOP) for the measured run, e.g. the background ones, to show what
    they cost the turns beside them."""
    from scripts.stack import Stack, ensure_model, free_port

    with tempfile.TemporaryDirectory() as var:
        stack = Stack(var=Path(var), rasa_port=free_port(), action_port=free_port(), knowledge_port=free_port())
        try:
            stack.start(ensure_model())
            stack.wait_ready()
            asyncio.run(drive(stack.rasa_url, 2, 5))  # warm-up: first turns load caches
            procs = {p.name: p.pid for p in stack.procs}
            with stack.paused(*paused):
                before = {n: cpu_seconds(p) for n, p in procs.items()}
                latencies, errors, elapsed = asyncio.run(drive(stack.rasa_url, clients, seconds))
                cpu = {n: (cpu_seconds(p) - before[n]) * 1000 / max(len(latencies), 1) for n, p in procs.items()}
        finally:
            stack.stop()
    return {
        "paused": list(paused),
        "clients": clients,
        "seconds": round(elapsed),
        "turns": len(latencies),
        "turns_per_second": round(len(latencies) / elapsed, 1),
        "turn_ms": {q: percentile(latencies, int(q[1:])) for q in ("p50", "p95", "p99")},
        "errors": len(errors),
        "error_samples": errors[:10],
        "cpu_ms_per_turn": {n: round(v, 1) for n, v in cpu.items()},
        "cpu_ms_per_turn_total": round(sum(cpu.values()), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.load.closed_loop")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--pause", default="", help="processes stopped while measuring, e.g. analytics,notices")
    a = ap.parse_args()
    r = run(a.clients, a.seconds, names(a.pause))
    print(
        table(
            [
                (
                    r["clients"],
                    r["turns"],
                    r["turns_per_second"],
                    r["turn_ms"]["p50"],
                    r["turn_ms"]["p95"],
                    r["turn_ms"]["p99"],
                    r["errors"],
                    r["cpu_ms_per_turn_total"],
                )
            ],
            ("clients", "turns", "turns/s", "p50 ms", "p95 ms", "p99 ms", "errors", "CPU ms/turn"),
        )
    )
    print("goal: turn p95 <= 500 ms")
    write_results(HERE / "results_closed_loop.json", command_line(), {"goal_turn_ms_p95": 500, **r})


if __name__ == "__main__":
    main()
