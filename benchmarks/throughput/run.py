"""CPU per turn, per process, for each scripted flow: at the start of a conversation and 50 turns into one.

    python -m benchmarks.throughput.run [--conversations 4] [--history 50] [--no-bare]

Starts its own stack (Rasa, action server, knowledge service, console; SQLite, scratch database) on free
ports, sends each flow one turn at a time to Rasa's REST channel and reads every process's CPU time from
/proc before and after: CPU is what limits a 2-core box, and unlike wall time it does not depend on what
else runs. "turn 1" conversations are new; "turn 50" conversations first get --history turns of earlier
talk (not measured), because the tracker store loads and saves the whole conversation on every turn.

Processes on the turn's path (Rasa, actions, knowledge, console) are summed as the turn's CPU, comparable with
earlier runs; the background processes (the analytics feed and its periodic tasks, the notices service) work off
the turn's path, on a clock as well as per turn, and are shown beside it, not hidden.

The baseline in the same table: a bare Rasa 3.6 (jieba + DIET with the product's settings, one response per
intent by rule, SQLite tracker store; no actions, no matcher, no patches), trained on the same sentences
(benchmarks/throughput/bare_rasa.py). Writes benchmarks/throughput/results.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import requests

from benchmarks.common import command_line, table, write_results
from benchmarks.throughput import bare_rasa

HERE = Path(__file__).resolve().parent
FLOWS = {
    "repair": ["我家停电了", "地址是城东区和平路12号", "没有", "电话13912340001", "对的", "谢谢"],
    "bill with identity": ["帮我查一下电费", "3201000002", "0002", "上个月", "谢谢"],
    "faq": ["怎么开电子发票", "电费可以在哪里交", "峰谷电价怎么算", "谢谢"],
    "handoff": ["我要转人工", "好的"],
}
TURN_PATH = ("rasa", "knowledge", "actions", "console")
BACKGROUND = ("analytics", "notices")
HISTORY = ["你好", "电费可以在哪里交", "峰谷电价怎么算", "谢谢", "怎么开电子发票"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children, from /proc."""
    total = 0.0
    for p in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def children(pid: int) -> list[int]:
    try:
        direct = [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    except OSError:
        return []
    return direct + [g for c in direct for g in children(c)]


class Sender:
    def __init__(self, rasa_url: str):
        self.hook = f"{rasa_url}/webhooks/rest/webhook"
        self.http = requests.Session()

    def turn(self, sender: str, text: str) -> float:
        t0 = time.perf_counter()
        r = self.http.post(self.hook, json={"sender": sender, "message": text}, timeout=60)
        r.raise_for_status()
        if not r.json():
            raise RuntimeError(f"no answer to {text!r}")
        return (time.perf_counter() - t0) * 1000


def measure(rasa_url: str, procs: dict[str, int], conversations: int, history: int) -> dict:
    """{flow: {"turn 1"|"turn 50": {"cpu_ms": {process: ms per turn}, "total_ms", "wall_ms_p50"}}}."""
    send = Sender(rasa_url)
    for turns in FLOWS.values():  # a long-running server is warm: each flow once first (SQL compiled, caches filled)
        warm = "warm-" + uuid.uuid4().hex[:6]
        for t in turns:
            send.turn(warm, t)
    out: dict = {}
    for flow, turns in FLOWS.items():
        out[flow] = {}
        for position in ("turn 1", f"turn {history}"):
            senders = [f"tp-{uuid.uuid4().hex[:10]}" for _ in range(conversations)]
            if position != "turn 1":
                for s in senders:
                    for i in range(history - 1):
                        send.turn(s, HISTORY[i % len(HISTORY)])
            before = {name: cpu_seconds(pid) for name, pid in procs.items()}
            walls = [send.turn(s, t) for s in senders for t in turns]
            n = len(walls)
            used = {name: (cpu_seconds(pid) - before[name]) / n * 1000 for name, pid in procs.items()}
            out[flow][position] = {
                "turns": n,
                "cpu_ms": {k: round(v, 1) for k, v in used.items()},
                "total_ms": round(sum(v for k, v in used.items() if k in TURN_PATH), 1),
                "background_ms": round(sum(v for k, v in used.items() if k in BACKGROUND), 1),
                "wall_ms_p50": round(statistics.median(walls), 1),
            }
    return out


def product(conversations: int, history: int) -> dict:
    from scripts.stack import Stack, ensure_model

    with tempfile.TemporaryDirectory() as var:
        stack = Stack.on_free_ports(Path(var))
        try:
            stack.start(ensure_model())
            stack.wait_ready()
            procs = {p.name: p.pid for p in stack.procs}
            return measure(stack.rasa_url, procs, conversations, history)
        finally:
            stack.stop()


def bare(conversations: int, history: int) -> dict:
    from scripts.stack import free_port

    model = bare_rasa.ensure_model()
    with tempfile.TemporaryDirectory() as var:
        port = free_port()
        proc = bare_rasa.serve(model, port, Path(var))
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.time() + 300
            while time.time() < deadline:
                try:
                    if requests.get(url, timeout=2).ok:
                        break
                except requests.RequestException:
                    time.sleep(1)
            return measure(url, {"rasa": proc.pid}, conversations, history)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def rows(name: str, result: dict) -> list[list]:
    out = []
    for flow, positions in result.items():
        for position, r in positions.items():
            c = r["cpu_ms"]
            out.append(
                [
                    name,
                    flow,
                    position,
                    c.get("rasa", 0),
                    c.get("knowledge", "-"),
                    c.get("actions", "-"),
                    c.get("console", "-"),
                    r["total_ms"],
                    c.get("analytics", "-"),
                    c.get("notices", "-"),
                    r["wall_ms_p50"],
                ]
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.throughput.run")
    ap.add_argument("--conversations", type=int, default=8, help="conversations per flow and position")
    ap.add_argument("--history", type=int, default=50, help="the later position: turns already in the conversation")
    ap.add_argument("--no-bare", action="store_true", help="skip the bare-Rasa baseline")
    a = ap.parse_args()
    results = {"product": product(a.conversations, a.history)}
    if not a.no_bare:
        results["bare_rasa"] = bare(a.conversations, a.history)
    body = rows("product", results["product"]) + (
        rows("bare Rasa", results["bare_rasa"]) if "bare_rasa" in results else []
    )
    print(
        table(
            body,
            (
                "stack",
                "flow",
                "position",
                "rasa ms",
                "knowledge ms",
                "actions ms",
                "console ms",
                "turn CPU ms",
                "analytics ms",
                "notices ms",
                "wall p50 ms",
            ),
        )
    )
    all_turns = [r for flow in results["product"].values() for r in flow.values()]
    overall = sum(r["total_ms"] * r["turns"] for r in all_turns) / sum(r["turns"] for r in all_turns)
    background = sum(r.get("background_ms", 0) * r["turns"] for r in all_turns) / sum(r["turns"] for r in all_turns)
    print(f"\nproduct, all flows and positions: {overall:.1f} ms CPU per turn on the turn's path (goal <= 40)")
    print(f"background processes beside it: {background:.1f} ms per turn (analytics feed and tasks, notices)")
    write_results(
        HERE / "results.json",
        command_line(),
        {
            "what": (
                "CPU ms per turn per process from /proc (user+system, children included); total = the turn's path"
                " (rasa, knowledge, actions, console), background = analytics + notices; wall = one turn at a time"
            ),
            "goal_total_cpu_ms": 40,
            "product_cpu_ms_per_turn_all_flows": round(overall, 1),
            "background_cpu_ms_per_turn_all_flows": round(background, 1),
            **results,
        },
    )


if __name__ == "__main__":
    main()
