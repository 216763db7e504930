"""python -m voice serve [--host H] [--port 5058]: the hotline gateway (Twilio webhooks + Media Streams).

Configuration from the environment: P95598_PUBLIC_URL, TWILIO_AUTH_TOKEN, P95598_RASA_URL, P95598_DB_URL,
P95598_VOSK_MODEL, P95598_TTS_MODEL, P95598_PROMPT_CACHE, P95598_REQUIRE_STREAM_SIGNATURE.
"""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from backend.pii import install_log_masking
from backend.settings import refuse_unsafe
from voice.config import ConfigError, VoiceConfig
from voice.gateway import create_app


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m voice")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the voice gateway")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=5058)
    serve.add_argument("--log-level", default="INFO")
    a = p.parse_args(argv)
    logging.basicConfig(level=a.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        config = VoiceConfig.from_env()
    except ConfigError as e:
        sys.exit(f"voice gateway: {e}")
    logging.getLogger("voice").info(
        "public URL %s, stream %s, Rasa %s", config.public_url, config.stream_url, config.rasa_url
    )
    refuse_unsafe("voice")
    web.run_app(create_app(config), host=a.host, port=a.port, print=None)


if __name__ == "__main__":
    main()
