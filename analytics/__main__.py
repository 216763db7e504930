"""python -m analytics consume [--queue Q] [--exchange X] [--amqp URL]: the broker-to-table consumer."""

from __future__ import annotations

import argparse
import logging
import os

from analytics.consumer import consume
from backend.db import make_engine, make_sessionmaker
from backend.pii import install_log_masking


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m analytics")
    p.add_argument("command", choices=["consume"])
    p.add_argument("--queue", default=os.environ.get("P95598_EVENTS_QUEUE", "p95598_events"))
    p.add_argument("--exchange", default=os.environ.get("P95598_EVENTS_EXCHANGE", "rasa-exchange"))
    p.add_argument("--amqp", default=os.environ.get("P95598_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"))
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    consume(make_sessionmaker(make_engine()), a.amqp, a.queue, a.exchange)


if __name__ == "__main__":
    main()
