"""The held-out files stay held out: no lexicon entry or training example may come from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_vocabulary_or_example_leaked_from_the_held_out_files():
    run = subprocess.run([sys.executable, "-m", "scripts.heldout_leaks"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
