"""`rasa run` with the HTTP API on and its token taken from the environment, never from the command line
(where any local user could read it in the process list); personal data masked in every log record; and
type-confused bodies answered with a clear 400 before Rasa's handlers (which answer 500 to {"text": 123}).

    python -m scripts.rasa_server [rasa run options]     # needs P95598_RASA_TOKEN
"""

from __future__ import annotations

import json
import os
import re
import sys

TEXT_FIELDS = {  # path pattern -> the string fields its JSON object body must have when present
    re.compile(r"^/model/parse$"): ("text",),
    re.compile(r"^/conversations/[^/]+/messages$"): ("text", "sender"),
    re.compile(r"^/conversations/[^/]+/trigger_intent$"): ("name",),
}


def body_problem(path: str, raw: bytes) -> str | None:
    """Why this API body cannot be served, or None (paths we do not check are left to Rasa)."""
    fields = next((f for pattern, f in TEXT_FIELDS.items() if pattern.match(path)), None)
    if fields is None:
        return None
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return "the body must be JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    wrong = [f for f in fields if f in body and not isinstance(body[f], str)]
    if wrong:
        return f'"{wrong[0]}" must be a string'
    if "entities" in body and not isinstance(body["entities"], (dict, list, type(None))):
        return '"entities" must be an object'
    return None


def with_typed_bodies(create_app):
    def create(*args, **kwargs):
        from sanic import response

        app = create_app(*args, **kwargs)

        @app.on_request
        async def typed(request):
            if request.method in ("POST", "PUT"):
                problem = body_problem(request.path, request.body)
                if problem:
                    return response.json({"error": problem, "code": 400}, status=400)
            return None

        return app

    return create


def main() -> None:
    token = os.environ.get("P95598_RASA_TOKEN", "")
    if not token:
        raise SystemExit("[rasa] P95598_RASA_TOKEN is not set: the HTTP API never runs without a token")
    from backend.pii import install_log_masking
    from backend.settings import refuse_unsafe

    refuse_unsafe("rasa")
    install_log_masking()  # Rasa's own logs (debug ones print whole messages) never carry phone or 户号 numbers
    import rasa.server

    from scripts import rasa_patches

    rasa.server.create_app = with_typed_bodies(rasa.server.create_app)
    rasa_patches.apply()  # the action-response schema is checked once, not on every turn
    from rasa.__main__ import main as rasa_main

    # one word: a random token may start with "-", which argparse would take for an option
    sys.argv = ["rasa", "run", "--enable-api", f"--auth-token={token}", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
