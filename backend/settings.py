"""Secrets the product's processes share, and production mode's refusal of unsafe settings.

    P95598_MODE=production      deployments set this; every process then refuses to start with a problem below
    P95598_RASA_TOKEN           the Rasa HTTP API's token (`rasa run --auth-token`); the hub, console and voice use it
    P95598_ACTION_TOKEN         sent by Rasa to the action server (bot/endpoints*.yml); the action server checks it
    P95598_STREAM_SECRET        signs the per-call token the voice gateway checks at a media stream's `start`

Outside production (`make run`, tests) missing secrets are generated once into var/secrets.env (mode 0600),
so a developer never runs with a guessable default, and nothing has to be set by hand.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from pathlib import Path

SECRETS = ("P95598_RASA_TOKEN", "P95598_ACTION_TOKEN", "P95598_STREAM_SECRET")
KNOWN_DEFAULTS = {"", "changeme", "secret", "token", "95598demo", "password", "admin"}
MIN_SECRET = 24


def production(env: dict | None = None) -> bool:
    return (env if env is not None else os.environ).get("P95598_MODE", "").lower() == "production"


def ensure_dev_secrets(var: Path, env: dict | None = None) -> dict[str, str]:
    """The shared secrets, from the environment or var/secrets.env (created with fresh random values)."""
    env = env if env is not None else dict(os.environ)
    path = var / "secrets.env"
    stored = stored_secrets(path)
    for key in SECRETS:
        stored.setdefault(key, secrets.token_urlsafe(32))
    var.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("".join(f"{k}={v}\n" for k, v in stored.items()))
    return {k: env.get(k) or stored[k] for k in SECRETS}


def stored_secrets(path: Path) -> dict[str, str]:
    """The secrets kept in a var/secrets.env file (none if it does not exist)."""
    stored: dict[str, str] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        key, _, value = line.partition("=")
        if key in SECRETS and value:
            stored[key] = value
    return stored


def bind_address(host: str) -> str:
    """`private`: this container's or pod's own address on its private network (compose, Kubernetes)."""
    return socket.gethostbyname(socket.gethostname()) if host == "private" else host


def public_bind(host: str) -> bool:
    """All interfaces, or an address outside loopback and the private ranges."""
    try:
        address = ipaddress.ip_address(bind_address(host))
    except ValueError:
        return host != "localhost"
    return address.is_unspecified or not (address.is_loopback or address.is_private)


def problems(env: dict | None = None) -> list[str]:
    """What production mode refuses; empty outside production."""
    env = env if env is not None else dict(os.environ)
    if not production(env):
        return []
    found = []
    for key in SECRETS:
        value = env.get(key, "")
        if value.lower() in KNOWN_DEFAULTS or len(value) < MIN_SECRET:
            found.append(f"{key} must be set to a random secret of at least {MIN_SECRET} characters")
    if env.get("P95598_DEMO_AGENTS", "1") != "0":
        found.append(
            "demo console logins are on: set P95598_DEMO_AGENTS=0 and create agents with `python -m console add-agent`"
        )
    if env.get("P95598_DEMO_PASSWORD"):
        found.append("P95598_DEMO_PASSWORD is set: demo logins are not allowed in production")
    if public_bind(env.get("P95598_ACTION_HOST", "127.0.0.1")):
        found.append("the action server must bind loopback or its private address (P95598_ACTION_HOST=private)")
    if env.get("P95598_RASA_CORS", "") in ("*", ""):
        found.append("P95598_RASA_CORS must name the console's origin, not *")
    if env.get("P95598_WECHAT_APPID") and len(env.get("P95598_WECHAT_TOKEN", "")) < 16:
        found.append("P95598_WECHAT_TOKEN must be set (16+ characters) when the WeChat channel is on")
    return found


def refuse_unsafe(process: str, env: dict | None = None) -> None:
    found = problems(env)
    if found:
        raise SystemExit(f"[{process}] production mode refuses to start:\n  - " + "\n  - ".join(found))


def rasa_token(var: Path | None = None) -> str:
    """The Rasa API token for a client: the environment, else the running `make run`'s var/secrets.env."""
    var = var or Path(os.environ.get("P95598_VAR", Path(__file__).resolve().parent.parent / "var"))
    return os.environ.get("P95598_RASA_TOKEN", "") or stored_secrets(var / "secrets.env").get("P95598_RASA_TOKEN", "")


RECORDINGS_ENV = "P95598_RECORDINGS_DIR"
DEFAULT_RECORDINGS_DIR = Path(__file__).resolve().parent.parent / "var" / "recordings"


def recordings_dir(env: dict | None = None) -> Path | None:
    """Where both legs of every call are kept (the voice gateway writes, the console plays): P95598_RECORDINGS_DIR,
    var/recordings by default; set empty, calls are not recorded (None)."""
    value = (os.environ if env is None else env).get(RECORDINGS_ENV, str(DEFAULT_RECORDINGS_DIR))
    return Path(value) if value else None
