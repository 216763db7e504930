"""Stack.paused: a benchmark's baseline with the background processes stopped, continued afterwards."""

from __future__ import annotations

from pathlib import Path

from scripts.stack import Stack


def state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_paused_processes_are_stopped_inside_the_block_and_run_again_after_it(tmp_path: Path) -> None:
    stack = Stack(var=tmp_path)
    stack._spawn("sleeper", ["sleep", "60"])
    sleeper = stack.proc("sleeper")
    try:
        with stack.paused("sleeper"):
            assert state(sleeper.pid) == "T"
        assert state(sleeper.pid) in {"S", "R"}
    finally:
        sleeper.kill()
        sleeper.wait()
