"""Reads Rasa's conversation events from RabbitMQ into the analytics tables (turn_analytics, contacts).

    python -m analytics consume [--queue p95598_events] [--amqp amqp://guest:guest@127.0.0.1:5672/%2F]

One turn row per customer turn (function, confidence, channel, fallback), handoff, resume and session start, and
the contact of each conversation session (analytics.contacts), from the same mapping as the embedded feed
(analytics.events). A message is acknowledged only after its rows are committed, and rows are keyed by the event
itself, so a consumer killed mid-way and redelivered messages never lose or double a row. While the database is
unavailable messages are put back and wait in the queue.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from analytics.contacts import apply
from analytics.events import BadEvent, changes_of
from analytics.feed import Task, run_task
from backend.db import write_lock

log = logging.getLogger(__name__)


def row_of(event: dict[str, Any]) -> dict[str, Any] | None:
    """The turn_analytics row for one broker message (None for events without one, or malformed)."""
    try:
        changes = changes_of(event)
    except BadEvent:
        return None
    return changes.turn_row if changes else None


def store(sessions: sessionmaker[Session], body: bytes | str) -> bool:
    """Writes the rows of one message; True when it is safe to acknowledge (written, duplicate or unusable).
    Raises OperationalError when the database is unavailable (the message must stay in the queue)."""
    try:
        changes = changes_of(json.loads(body))
    except (ValueError, BadEvent) as e:
        log.warning("skipping a broker message (%s): %r", e, bytes(body[:80]) if isinstance(body, bytes) else body[:80])
        return True
    if changes is None:
        return True
    try:
        with sessions.begin() as s:
            write_lock(s)
            apply(s, changes)
    except IntegrityError:  # redelivered to two consumers at once: the other one wrote it
        pass
    return True


def consume(
    sessions: sessionmaker[Session],
    amqp_url: str,
    queue: str,
    exchange: str | None = None,
    stop_after: int | None = None,
    idle_seconds: float | None = None,
    tasks: Sequence[Task] = (),
    task_seconds: float = 15.0,
) -> int:
    """Consumes until stopped (or `stop_after` messages / `idle_seconds` without one); returns the count.
    `tasks` (contact refresh, surge detection...) run every `task_seconds`, messages or not."""
    import pika  # only the scale profile needs it

    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    if exchange:
        channel.exchange_declare(exchange=exchange, exchange_type="fanout")
        channel.queue_bind(queue=queue, exchange=exchange)
    channel.basic_qos(prefetch_count=50)
    seen, last_message, next_tasks = 0, time.monotonic(), 0.0
    wake = min(idle_seconds or task_seconds, task_seconds)
    try:
        for method, _props, body in channel.consume(queue, inactivity_timeout=wake):
            if time.monotonic() >= next_tasks:
                next_tasks = time.monotonic() + task_seconds
                for task in tasks:
                    try:
                        run_task(task)
                    except OperationalError as e:
                        log.warning("analytics task skipped, database unavailable: %s", str(e).splitlines()[0])
            if method is None:
                if idle_seconds is not None and time.monotonic() - last_message >= idle_seconds:
                    break
                continue
            last_message = time.monotonic()
            try:
                done = store(sessions, body)
            except OperationalError as e:  # the database is down: the message goes back and waits
                log.warning("database unavailable, message kept in the queue: %s", str(e).splitlines()[0][:120])
                channel.basic_nack(method.delivery_tag, requeue=True)
                time.sleep(2)
                continue
            if done:
                channel.basic_ack(method.delivery_tag)
            seen += 1
            if stop_after and seen >= stop_after:
                break
    finally:
        try:
            channel.cancel()
        finally:
            connection.close()
    return seen
