"""Where a process's CPU goes during the repair flow: py-spy samples summarised as text.

    python -m benchmarks.throughput.profile --port 5005 --label after [--history 50] [--url http://127.0.0.1:5005]

Finds the process listening on --port (the product from `make run`: Rasa 5005, knowledge 5056, actions
5055), records it with py-spy (`pip install py-spy`; needs ptrace rights) while 8 repair conversations run
through Rasa's REST channel, and writes benchmarks/throughput/profiles/<port>-<label>.txt: the functions
holding most samples, inclusive and own. Commit before/after pairs beside the change they explain.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from benchmarks.throughput.run import FLOWS, HISTORY, Sender

HERE = Path(__file__).resolve().parent
# leaves where a thread waits rather than works (py-spy's idle detection misses some): left out of the shares
WAITING = (
    "_worker (concurrent/futures/thread.py",
    "serve (sanic/server/runners.py",
    "readinto (socket.py",
    "select (selectors.py",
    "wait (threading.py",
    "_wait_for_tstate_lock",
    "poll (selectors.py",
)


def pid_on(port: int) -> int:
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    found = re.search(r"pid=(\d+)", out)
    if not found:
        raise SystemExit(f"nothing listens on port {port}")
    return int(found.group(1))


def summarise(collapsed: str, top: int = 40) -> str:
    """py-spy's collapsed stacks ("f1;f2;f3 count" per line) -> inclusive and own sample shares."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [re.sub(r" \(.*?/(site-packages|lib/python3\.\d+|work/\w+)/", " (", f) for f in stack.split(";")]
        if frames[-1].startswith(WAITING):
            continue
        total += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    if not total:
        return "no samples (was the process busy?)\n"
    lines = [f"{total} samples of work (waiting threads left out)", "", "inclusive  function"]
    lines += [f"{100 * n / total:8.1f} %  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "own        function"]
    lines += [f"{100 * n / total:8.1f} %  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def recording(pids: dict[str, int], rate: int = 200) -> Iterator[dict[str, str]]:
    """py-spy attached to each process (and its children) inside the block; afterwards the dict holds each one's
    collapsed stacks (`summarise` them)."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))  # a venv's
    if not spy:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    stacks: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        raws = {name: Path(tmp) / f"{name}.txt" for name in pids}
        recorders = [
            subprocess.Popen(
                [spy, "record", "--subprocesses", "--pid", str(pid), "--format", "raw", "--output", str(raws[name])]
                + ["--rate", str(rate)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for name, pid in pids.items()
        ]
        time.sleep(1.5)  # attached before the work starts
        try:
            yield stacks
        finally:
            for rec in recorders:
                rec.send_signal(signal.SIGINT)  # py-spy writes what it has
            for rec in recorders:
                rec.wait(timeout=60)
            for name, raw in raws.items():
                stacks[name] = raw.read_text() if raw.exists() else ""


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.throughput.profile")
    ap.add_argument("--port", type=int, required=True, help="the port of the process to profile")
    ap.add_argument("--label", required=True, help="before / after / anything: part of the output name")
    ap.add_argument("--url", default="http://127.0.0.1:5005", help="Rasa, whose REST channel gets the turns")
    ap.add_argument("--conversations", type=int, default=8)
    ap.add_argument("--history", type=int, default=0, help="turns each conversation has before it is sampled")
    a = ap.parse_args()
    pid = pid_on(a.port)
    send = Sender(a.url)
    senders = ["profile-" + uuid.uuid4().hex[:8] for _ in range(a.conversations)]
    for sender in senders:
        for i in range(a.history):
            send.turn(sender, HISTORY[i % len(HISTORY)])
    with recording({"process": pid}) as stacks:
        for sender in senders:
            for text in FLOWS["repair"]:
                send.turn(sender, text)
    text = summarise(stacks["process"])
    out = HERE / "profiles" / f"{a.port}-{a.label}.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        f"# python -m benchmarks.throughput.profile --port {a.port} --label {a.label} --history {a.history}\n" + text,
        encoding="utf-8",
    )
    print(text[:3000])
    print(f"written to {out}")


if __name__ == "__main__":
    main()
