"""Small, documented patches to Rasa OSS 3.6.21, applied by scripts/rasa_server.py before Rasa starts.

`RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for every action-server
answer (every form validation, every custom action). `jsonschema.validate` re-checks the *schema* against
the meta-schema on each call, which was about 60 % of the Rasa process's CPU per turn (issue 14). The schema
is a constant (`RemoteAction.action_response_format_spec()`), so it is checked once here and a compiled
validator is reused; results are validated exactly as before (same schema, same validator class, the same
`best_match` error: what `jsonschema.validate` itself does after checking the schema, the same message added).
A valid answer is first recognised cheaply, each event against the one `oneOf` branch its type names
(`discriminated_validator`); only what that does not accept goes through the full validator.

`MessageProcessor.parse_message` runs the NLU graph synchronously on Rasa's event loop, and our
MatcherIntentClassifier waits there for the knowledge service: while one message was parsed, no other
conversation moved. The patched method runs the same graph call on one dedicated thread (one: CRF taggers
and DIET are not safe to run twice at once), so the loop keeps serving other conversations' trackers,
policies and action calls meanwhile. Everything else in the method is Rasa's, unchanged.

`Event.resolve_by_type` walks every subclass of Event (recursively, with an `inspect.isabstract` per class)
for each event it turns back into an object. Loading a stored conversation does that once per event, so
at turn 50 it was a fifth of Rasa's CPU per turn. The patched method remembers the class found per type
name; a name it has not seen goes through Rasa's own walk (classes defined later are still found).

`tests/test_rasa_patches.py` fails if any of these Rasa methods changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from concurrent.futures import ThreadPoolExecutor

# sha256 of the source of each Rasa 3.6.21 method these patches replace
PATCHED_SOURCE_SHA256 = {
    "RemoteAction._validate_action_result": "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
    "MessageProcessor.parse_message": "b98d8e49b9f2c433040af62752212dc374600d50cd21deec82386642b64d30dc",
    "Event.resolve_by_type": "b5cf570fa7f286c7059ec73d8880528d03a78b28cf4e80285a46079c0fa65968",
}


def _methods() -> dict:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import Event

    return {
        "RemoteAction._validate_action_result": RemoteAction._validate_action_result,
        "MessageProcessor.parse_message": MessageProcessor.parse_message,
        "Event.resolve_by_type": Event.resolve_by_type,
    }


def source_hashes() -> dict[str, str]:
    return {name: hashlib.sha256(inspect.getsource(m).encode()).hexdigest() for name, m in _methods().items()}


def compiled_validate_action_result():
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import DOCS_BASE_URL, RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, not on every answer
    validator = cls(schema)
    valid_fast = discriminated_validator(schema, cls)

    def _validate_action_result(self, result):
        if valid_fast(result):
            return True
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _validate_action_result.__doc__ = "jsonschema validation with a validator compiled once (scripts/rasa_patches.py)"
    return _validate_action_result


def discriminated_validator(schema: dict, cls):
    """A quick yes for a valid answer: each event checked against the one `oneOf` branch its `event` names,
    not all 23 of them (the full check was ~3.5 ms for a form's answer of 13 events). Only a yes is trusted:
    anything else goes through the full validator, which gives Rasa's verdict and error. Sound because every
    branch pins `event` to a different constant and `event` is required, so no other branch can also match."""
    never = lambda result: False  # noqa: E731 - the schema is not of the expected shape: always the full check
    events = schema.get("properties", {}).get("events", {})
    items = events.get("items", {})
    branches = items.get("oneOf", [])
    kinds = [b.get("properties", {}).get("event", {}).get("const") for b in branches]
    if not branches or None in kinds or len(set(kinds)) != len(kinds) or "event" not in items.get("required", []):
        return never
    item_base = {k: v for k, v in items.items() if k != "oneOf"}
    per_kind = {kind: cls({**item_base, "allOf": [branch]}) for kind, branch in zip(kinds, branches)}
    rest = cls(
        {**schema, "properties": {**schema["properties"], "events": {k: v for k, v in events.items() if k != "items"}}}
    )

    def valid(result) -> bool:
        if not rest.is_valid(result):
            return False
        for event in (result.get("events") or []) if isinstance(result, dict) else []:
            kind = event.get("event") if isinstance(event, dict) else None
            check = per_kind.get(kind) if isinstance(kind, str) else None  # a list here must not raise TypeError
            if check is None or not check.is_valid(event):
                return False
        return True

    return valid


def threaded_parse_message():
    import copy

    from rasa.core.processor import structlogger
    from rasa.shared.core.trackers import DialogueStateTracker

    nlu_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")

    async def parse_message(self, message, tracker=None, only_output_properties=True):
        if self.http_interpreter:
            parse_data = await self.http_interpreter.parse(message)
        else:
            if tracker is None:
                tracker = DialogueStateTracker.from_events(message.sender_id, [])
            parse_data = await asyncio.get_running_loop().run_in_executor(
                nlu_thread, self._parse_message_with_graph, message, tracker, only_output_properties
            )

        self._update_full_retrieval_intent(parse_data)
        structlogger.debug(
            "processor.message.parse",
            parse_data_text=copy.deepcopy(parse_data["text"]),
            parse_data_intent=parse_data["intent"],
            parse_data_entities=copy.deepcopy(parse_data["entities"]),
        )
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message.__doc__ = "Rasa's parse_message with the NLU graph on its own thread (scripts/rasa_patches.py)"
    return parse_message


def remembered_resolve_by_type():
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    found: dict = {}

    def resolve_by_type(type_name, default=None):
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    resolve_by_type.__doc__ = "Rasa's resolve_by_type, remembering the class per type name (scripts/rasa_patches.py)"
    return staticmethod(resolve_by_type)


def apply() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import Event

    changed = [name for name, h in source_hashes().items() if PATCHED_SOURCE_SHA256[name] != h]
    if changed:
        raise RuntimeError(f"Rasa's {', '.join(changed)} changed: review scripts/rasa_patches.py")
    RemoteAction._validate_action_result = compiled_validate_action_result()
    MessageProcessor.parse_message = threaded_parse_message()
    Event.resolve_by_type = remembered_resolve_by_type()
