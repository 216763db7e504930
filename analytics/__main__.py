"""python -m analytics feed [--tracker PATH]: the embedded profile's feed (Rasa's SQLite tracker store -> contacts).
python -m analytics consume [--queue Q] [--exchange X] [--amqp URL]: the scale profile's broker-to-table consumer.
python -m analytics synth --days 30 --contacts 1000000: the synthetic contact stream (analytics.synthetic).
python -m analytics report --kind weekly --from 2026-11-23 [--area A01]: one report (analytics.report_cli).

feed and consume write turn_analytics and contacts from the same mapping (analytics.events) and run the periodic
tasks of `periodic_tasks` (open contacts settled, settled days' KPI results kept; other analytics loops add theirs
there) in the same process."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from analytics.consumer import consume
from analytics.feed import Task, refresh_contacts, run, tracker_engine
from analytics.kpi_days import keep_task
from analytics.surge import surge_task
from backend.db import make_engine, make_sessionmaker
from backend.pii import install_log_masking


def periodic_tasks(sessions: sessionmaker[Session], tracker: Engine) -> list[Task]:
    """What the analytics process does every few seconds besides feeding, in both profiles. `tracker`: Rasa's
    tracker store (the embedded SQLite file; in the scale profile the back end's PostgreSQL database holds it)."""
    from quality.worker import inspection_task  # loads the rules now: a bad rule file stops the process

    return [refresh_contacts(sessions), surge_task(sessions), keep_task(sessions), inspection_task(sessions, tracker)]


BACKGROUND_NICE = 10  # the feed, inspection and reports yield the CPU to live turns on a shared box


def yield_to_live_turns() -> int:
    """Lowers this process's CPU priority by BACKGROUND_NICE (never raises it); the niceness now. On the embedded
    profile's 2 cores the feed and the inspection worker ran at the same priority as Rasa and took CPU from the
    conversations in a burst; they run seconds behind anyway, and alone on a box this changes nothing. Not lower:
    the feed takes SQLite's write lock for short chunks, and at nice 19 a holder preempted by Rasa kept live writes
    waiting longer (pooled handoff runs: "转人工" p95 +16 % against 2fd4368 at 19, level at 10)."""
    return os.nice(max(0, BACKGROUND_NICE - os.nice(0)))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["synth"]:  # the synthetic contact stream (analytics.synthetic), its own options
        from analytics.synthetic import cli

        return cli(args[1:])
    if args[:1] == ["report"]:  # one weekly / monthly report (analytics.report_cli), its own options
        from analytics.report_cli import cli as report_cli

        sys.exit(report_cli(args[1:]))
    p = argparse.ArgumentParser(prog="python -m analytics")
    p.add_argument("command", choices=["consume", "feed"])
    p.add_argument("--queue", default=os.environ.get("P95598_EVENTS_QUEUE", "p95598_events"))
    p.add_argument("--exchange", default=os.environ.get("P95598_EVENTS_EXCHANGE", "rasa-exchange"))
    p.add_argument("--amqp", default=os.environ.get("P95598_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"))
    p.add_argument("--tracker", default=os.environ.get("P95598_TRACKER_DB", "var/tracker.db"))  # feed: Rasa's store
    a = p.parse_args(argv)
    yield_to_live_turns()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    engine = make_engine()
    sessions = make_sessionmaker(engine)
    tracker = tracker_engine(a.tracker) if a.command == "feed" else engine
    try:
        tasks = periodic_tasks(sessions, tracker)
    except ValueError as e:  # quality.rules.RuleFileError (names the rule and line), a bad P95598_QUALITY_SAMPLE
        sys.exit(f"analytics: {e}")
    if a.command == "feed":
        run(tracker, sessions, tasks)
    else:
        consume(sessions, a.amqp, a.queue, a.exchange, tasks=tasks)


if __name__ == "__main__":
    main()
