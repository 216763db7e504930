"""Where a process's CPU goes during the repair flow: py-spy samples summarised as text.

    python -m benchmarks.throughput.profile --port 5005 --label after [--url http://127.0.0.1:5005]

Finds the process listening on --port (the product from `make run`: Rasa 5005, knowledge 5056, actions
5055), records it with py-spy (`pip install py-spy`; needs ptrace rights) while 8 repair conversations run
through Rasa's REST channel, and writes benchmarks/throughput/profiles/<port>-<label>.txt: the functions
holding most samples, inclusive and own. Commit before/after pairs beside the change they explain.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from benchmarks.throughput.run import FLOWS, Sender

HERE = Path(__file__).resolve().parent


def pid_on(port: int) -> int:
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    found = re.search(r"pid=(\d+)", out)
    if not found:
        raise SystemExit(f"nothing listens on port {port}")
    return int(found.group(1))


def summarise(collapsed: str, top: int = 25) -> str:
    """py-spy's collapsed stacks ("f1;f2;f3 count" per line) -> inclusive and own sample shares."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r" \(.*?/(site-packages|lib/python3\.\d+|work/\w+)/", " (", f) for f in stack.split(";")]
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    if not total:
        return "no samples (was the process busy?)\n"
    lines = [f"{total} samples", "", "inclusive  function"]
    lines += [f"{100 * n / total:8.1f} %  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "own        function"]
    lines += [f"{100 * n / total:8.1f} %  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.throughput.profile")
    ap.add_argument("--port", type=int, required=True, help="the port of the process to profile")
    ap.add_argument("--label", required=True, help="before / after / anything: part of the output name")
    ap.add_argument("--url", default="http://127.0.0.1:5005", help="Rasa, whose REST channel gets the turns")
    ap.add_argument("--conversations", type=int, default=8)
    a = ap.parse_args()
    spy = shutil.which("py-spy")
    if not spy:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    pid = pid_on(a.port)
    send = Sender(a.url)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "stacks.txt"
        rec = subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(raw),
                                "--rate", "200", "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.5)
        for _ in range(a.conversations):
            sender = "profile-" + uuid.uuid4().hex[:8]
            for text in FLOWS["repair"]:
                send.turn(sender, text)
        rec.send_signal(2)   # SIGINT: py-spy writes what it has
        rec.wait(timeout=60)
        text = summarise(raw.read_text() if raw.exists() else "")
    out = HERE / "profiles" / f"{a.port}-{a.label}.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"# python -m benchmarks.throughput.profile --port {a.port} --label {a.label}\n" + text,
                   encoding="utf-8")
    print(text[:3000])
    print(f"written to {out}")


if __name__ == "__main__":
    main()
