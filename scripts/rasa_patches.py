"""Small, documented patches to Rasa OSS 3.6.21, applied by scripts/rasa_server.py before Rasa starts.

`RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for every action-server
answer (every form validation, every custom action). `jsonschema.validate` re-checks the *schema* against
the meta-schema on each call, which was about 60 % of the Rasa process's CPU per turn (issue 14). The schema
is a constant (`RemoteAction.action_response_format_spec()`), so it is checked once here and a compiled
validator is reused; results are validated exactly as before (same schema, same validator class, the same
`best_match` error: what `jsonschema.validate` itself does after checking the schema, the same message added). `tests/test_rasa_patches.py` fails if Rasa's method changes.
"""
from __future__ import annotations

import hashlib
import inspect

# sha256 of the source of RemoteAction._validate_action_result in Rasa 3.6.21: the code this patch replaces
PATCHED_SOURCE_SHA256 = "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42"


def source_hash() -> str:
    from rasa.core.actions.action import RemoteAction
    return hashlib.sha256(inspect.getsource(RemoteAction._validate_action_result).encode()).hexdigest()


def compiled_validate_action_result():
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import DOCS_BASE_URL, RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)   # once, not on every answer
    validator = cls(schema)

    def _validate_action_result(self, result):
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


def apply() -> None:
    from rasa.core.actions.action import RemoteAction
    if source_hash() != PATCHED_SOURCE_SHA256:
        raise RuntimeError("Rasa's RemoteAction._validate_action_result changed: review scripts/rasa_patches.py")
    RemoteAction._validate_action_result = compiled_validate_action_result()
