"""CPU seconds of every process of a running stack, idle and per burst of the handoff benchmark.

    python -m benchmarks.handoff.cpu --stack-pid PID --console URL [--password PW] [--label L] [--idle 10] [--rounds 3]

Any commit's stack can be measured by this commit's clients: start it (`python -m scripts.stack run` in a
worktree of that commit, its own ports and P95598_VAR), then point this at the stack runner's pid and its
console. Both bursts of `run.measure` are the same for every commit, so two commits compare turn for turn.
Per process (named by its `-m` module) it reads utime+stime from /proc: first over `--idle` seconds with nothing
to do (the background loops' own cost), then per burst. One JSON line per run is appended to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.handoff.run import measure

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def name(pid: int) -> str:
    """The module a process runs (`-m console` -> console), else its program's name."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    except OSError:
        return "?"
    if "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1]
    return Path(argv[0]).name if argv and argv[0] else "?"


def cpu(root: int) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for pid in tree(root):
        with contextlib.suppress(OSError, IndexError):
            fields = _stat(pid)
            key = name(pid)
            seconds[key] = seconds.get(key, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return seconds


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    keys = sorted(set(before) | set(after))
    used = {k: round(after.get(k, 0.0) - before.get(k, 0.0), 3) for k in keys}
    return {k: v for k, v in used.items() if v > 0} | {"total": round(sum(used.values()), 3)}


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.handoff.cpu")
    p.add_argument("--stack-pid", type=int, required=True, help="pid of the running `scripts.stack run`")
    p.add_argument("--console", required=True, help="that stack's console URL")
    p.add_argument("--password", default="bench-95598", help="its P95598_DEMO_PASSWORD")
    p.add_argument("--label", default="", help="what is measured (commit, run)")
    p.add_argument("--idle", type=float, default=10.0, help="seconds measured with nothing to do")
    p.add_argument("--chats", type=int, default=50)
    p.add_argument("--rounds", type=int, default=1, help="bursts of each kind, replies pooled (CPU summed)")
    p.add_argument("--out", default=str(HERE / "cpu_runs.jsonl"))
    a = p.parse_args()
    before = cpu(a.stack_pid)
    time.sleep(a.idle)
    idle = {k: round(v / a.idle, 4) for k, v in spent(before, cpu(a.stack_pid)).items()}
    bursts: dict[str, dict] = {}

    @contextlib.contextmanager
    def per_burst(burst: str) -> Iterator[None]:
        start, before = time.time(), cpu(a.stack_pid)
        yield
        bursts[burst] = {"seconds": round(time.time() - start, 1), "cpu": spent(before, cpu(a.stack_pid))}

    results = asyncio.run(measure(a.console, a.password, a.chats, per_burst, a.rounds))
    run = {
        "label": a.label,
        "rounds": a.rounds,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "idle_cpu_per_second": idle,
        "bursts": bursts,
        "reply_p95_ms": results["reply_ms"]["p95"],
        "question_reply_p95_ms": results["question_reply_ms"]["p95"],
        "escalation_to_visible_p95_ms": results["escalation_to_visible_ms"]["p95"],
    }
    print(json.dumps(run, ensure_ascii=False))
    with open(a.out, "a", encoding="utf-8") as out:
        out.write(json.dumps(run, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
