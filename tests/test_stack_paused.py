"""Stack.paused: a benchmark's baseline with the background processes stopped, continued afterwards."""

from __future__ import annotations

import time
from pathlib import Path

from scripts.stack import Stack, process_state


def test_paused_processes_are_stopped_inside_the_block_and_run_again_after_it(tmp_path: Path) -> None:
    stack = Stack(var=tmp_path)
    stack._spawn("sleeper", ["sleep", "60"])
    sleeper = stack.proc("sleeper")
    try:
        with stack.paused("sleeper"):
            assert process_state(sleeper.pid) == "T"
        deadline = time.monotonic() + 5  # SIGCONT, like SIGSTOP, is delivered a moment later
        while process_state(sleeper.pid) == "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process_state(sleeper.pid) in {"S", "R"}
    finally:
        sleeper.kill()
        sleeper.wait()
