"""scripts/rasa_patches.py: the patched action-result validation behaves as Rasa's own, message parsing runs
off the event loop, and the tests fail when Rasa's methods change (run in the Rasa environment). Every
conversation test goes through both patches with the real model."""

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

# the quick yes (one oneOf branch per event) never says yes where the full validator says no, and says yes to
# every valid answer, so the full validator only runs for answers that are refused
import datetime
from jsonschema.validators import validator_for
from rasa.shared.core import events as ev
schema = RemoteAction.action_response_format_spec()
full = validator_for(schema)(schema)
fast = rasa_patches.discriminated_validator(schema, validator_for(schema))
real = [e.as_dict() for e in [
    ev.SlotSet("address", "城东路8号"), ev.SlotSet("n", 3), ev.ActiveLoop("repair_form"), ev.ActiveLoop(None),
    ev.BotUttered("好的", {"buttons": [{"title": "是", "payload": "/affirm"}]}), ev.FollowupAction("action_listen"),
    ev.UserUttered("停电了", {"name": "fault_repair", "confidence": 0.9}), ev.ActionExecuted("utter_greet"),
    ev.Restarted(), ev.SessionStarted(), ev.AllSlotsReset(), ev.ActionReverted(), ev.UserUtteranceReverted(),
    ev.ReminderScheduled("EXTERNAL_x", datetime.datetime(2026, 12, 5)), ev.ReminderCancelled("r"),
    ev.ConversationPaused(), ev.ConversationResumed(), ev.LoopInterrupted(True), ev.ActionExecutionRejected("a"),
]]
assert all(full.is_valid({"events": [e]}) for e in real), [e for e in real if not full.is_valid({"events": [e]})]
answers = [{"events": real, "responses": [{"text": "好的"}]}] + [{"events": [e]} for e in real]
wrong = []
for e in real:
    wrong += [{**e, "event": "nonsense"}, {**e, "event": 7}, {**e, "event": ["slot"]}, {**e, "timestamp": "now"},
              {**e, "metadata": []},
              {k: v for k, v in e.items() if k != "event"}]
    wrong += [{**e, key: {"x": 1}} for key in e if key not in ("event", "timestamp", "metadata")]
    wrong += [{**e, key: None} for key in e if key not in ("event", "timestamp", "metadata")]
refused = [{"events": [w]} for w in wrong] + [{"events": [real[0], "x"]}, {"events": {}}, {"responses": [1]}, "x", None]
assert all(fast(a) for a in answers)
assert all(not fast(r) or full.is_valid(r) for r in refused), [r for r in refused if fast(r) and not full.is_valid(r)]
assert sum(not full.is_valid(r) for r in refused) > len(real)  # the wrong answers are mostly really wrong
print("same")
"""


def test_patched_validation_matches_rasa_and_rasa_is_unchanged():
    out = subprocess.run(
        [os.environ.get("RASA_PY", sys.executable), "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.strip().endswith("same"), out.stderr[-1500:]


PARSE_OFF_LOOP = """
import asyncio, threading, time
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from scripts import rasa_patches
rasa_patches.apply()
seen = {}

class Slow:                                   # a processor whose NLU graph takes 0.5 s (like a slow matcher)
    http_interpreter = None
    def _parse_message_with_graph(self, message, tracker, only_output_properties):
        seen["thread"] = threading.current_thread().name
        time.sleep(0.5)
        return {"text": message.text, "intent": {"name": "greet"}, "entities": []}
    def _update_full_retrieval_intent(self, parse_data): pass
    def _check_for_unseen_features(self, parse_data): pass

async def main():
    ticks = 0
    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1
    t = asyncio.create_task(ticker())
    parsed = await MessageProcessor.parse_message(Slow(), UserMessage("你好", sender_id="x"))
    t.cancel()
    assert parsed["intent"]["name"] == "greet" and seen["thread"].startswith("nlu"), (parsed, seen)
    assert ticks >= 10, ticks                 # the loop kept running while the graph worked
    print("off the loop")
asyncio.run(main())
"""


def test_message_parsing_leaves_the_event_loop_free():
    out = subprocess.run(
        [os.environ.get("RASA_PY", sys.executable), "-c", PARSE_OFF_LOOP],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.strip().endswith("off the loop"), out.stderr[-1500:]


RESOLVE_SAME = """
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.utils.common import all_subclasses
from scripts import rasa_patches
original = Event.resolve_by_type
names = sorted({c.type_name for c in all_subclasses(Event)})
want = {n: original(n) for n in names}
rasa_patches.apply()
assert Event.resolve_by_type is not original
for _ in range(2):                                  # first call walks the classes, the second remembers
    assert {n: Event.resolve_by_type(n) for n in names} == want
assert Event.resolve_by_type("no such event", default=UserUttered) is UserUttered
assert Event.resolve_by_type("topic") is None
try:
    Event.resolve_by_type("no such event")
    raise SystemExit("no error for an unknown event")
except ValueError:
    pass
print("same", len(names))
"""


def test_event_classes_are_resolved_as_rasa_does():
    out = subprocess.run(
        [os.environ.get("RASA_PY", sys.executable), "-c", RESOLVE_SAME],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "same" in out.stdout, out.stderr[-1500:]
