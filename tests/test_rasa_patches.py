"""scripts/rasa_patches.py: the patched action-result validation behaves as Rasa's own, and the test fails
when Rasa's method changes (run in the Rasa environment)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = """
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from scripts import rasa_patches
original = RemoteAction._validate_action_result
rasa_patches.apply()
patched = RemoteAction._validate_action_result
assert patched is not original
good = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
bad = [{"events": "nope"}, {"events": [{"name": "x"}]}, {"responses": "x"}, []]
assert original(RemoteAction, good) is True and patched(RemoteAction, good) is True
for b in bad:
    msgs = []
    for f in (original, patched):
        try:
            f(RemoteAction, b)
            msgs.append(None)
        except ValidationError as e:
            msgs.append(e.message)
    assert msgs[0] is not None and msgs[0] == msgs[1], (b, msgs)
print("same")
"""


def test_patched_validation_matches_rasa_and_rasa_is_unchanged():
    out = subprocess.run([os.environ.get("RASA_PY", sys.executable), "-c", CHECK], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip().endswith("same"), out.stderr[-1500:]
