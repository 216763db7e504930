"""The action server: localhost by default, and only for callers that carry the shared token.

    python -m actions.server [--port 5055] [--host 127.0.0.1]

Rasa sends `Authorization: Bearer $P95598_ACTION_TOKEN` (bot/endpoints*.yml). Without it a request is
refused before any action runs, so nobody who reaches the port can run a form with a crafted tracker.
Errors answer a short message, never a traceback or the request body.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import response

from actions import services
from actions.config import ActionServerConfig, ConfigError
from backend.settings import bind_address, refuse_unsafe

log = logging.getLogger(__name__)
OPEN_PATHS = ("/health",)


def build_app(token: str):
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=None)
    expected = f"Bearer {token}".encode()

    @app.on_request
    async def require_token(request):
        if request.path in OPEN_PATHS:
            return None
        given = (request.headers.get("Authorization") or "").encode()
        if not token or not hmac.compare_digest(given, expected):
            return response.json({"error": "unauthorised"}, status=401)
        compressed = request.headers.get("Content-Encoding") == "deflate"  # rasa_sdk inflates it itself
        if request.method == "POST" and not compressed and not isinstance(_json_body(request), dict):
            return response.json({"error": "the body must be a JSON object"}, status=400)
        return None

    @app.exception(Exception)
    async def failed(request, exception):
        log.error("action call failed: %s", type(exception).__name__, exc_info=exception)
        return response.json({"error": "the action failed"}, status=500)

    return app


def _json_body(request):
    try:
        return request.json
    except Exception:  # noqa: BLE001 - sanic raises BadRequest on a body that is not JSON
        return None


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m actions.server")
    p.add_argument("--host", default=None, help="default: P95598_ACTION_HOST, else 127.0.0.1")
    p.add_argument("--port", type=int, default=5055)
    a = p.parse_args(argv)
    try:
        cfg = ActionServerConfig.from_env(host=a.host, port=a.port)
    except ConfigError as e:
        raise SystemExit(f"[actions] {e}") from None
    refuse_unsafe("actions", {**os.environ, "P95598_ACTION_HOST": cfg.host})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    services.configure(cfg.services)
    build_app(cfg.token).run(
        host=bind_address(cfg.host), port=cfg.port, single_process=True, access_log=False, motd=False
    )


if __name__ == "__main__":
    main()
