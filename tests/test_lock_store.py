"""nlu/lock_store.FileLockStore: one conversation is worked on by one process at a time, across processes and
between coroutines of one process; other conversations are not held up (run in the Rasa environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = """
import asyncio, multiprocessing, sys, time
from nlu.lock_store import FileLockStore
folder, log = sys.argv[1], sys.argv[2]

async def work(store, who, conversation, hold):
    async with store.lock(conversation):
        with open(log, "a") as f:
            f.write(f"{conversation} {who} in\\n")
        await asyncio.sleep(hold)
        with open(log, "a") as f:
            f.write(f"{conversation} {who} out\\n")

def process(who):
    store = FileLockStore(directory=folder)
    async def three():
        await asyncio.gather(*(work(store, f"{who}.{i}", "same", 0.05) for i in range(3)))
    asyncio.run(three())

if __name__ == "__main__":
    procs = [multiprocessing.get_context("fork").Process(target=process, args=(w,)) for w in ("a", "b")]
    [p.start() for p in procs]; [p.join() for p in procs]
    lines = open(log).read().split("\\n")[:-1]
    assert len(lines) == 12, lines
    for i in range(0, 12, 2):                        # strictly in, out, in, out: never two inside at once
        assert lines[i].endswith(" in") and lines[i + 1] == lines[i][:-3] + " out", lines
    open(log, "w").close()
    store = FileLockStore(directory=folder)
    async def others():
        t0 = time.monotonic()
        await asyncio.gather(*(work(store, "x", f"conversation-{k}", 0.3) for k in (1, 2)))
        return time.monotonic() - t0
    took = asyncio.run(others())
    print("serialised" + (" but other conversations waited" if took > 0.55 else ""))
"""


def test_one_conversation_one_process_at_a_time(tmp_path):
    out = subprocess.run(
        [os.environ.get("RASA_PY", sys.executable), "-c", CHECK, str(tmp_path / "locks"), str(tmp_path / "log")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.strip() == "serialised", out.stdout + out.stderr[-1500:]
