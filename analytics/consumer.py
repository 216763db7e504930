"""Reads Rasa's conversation events from RabbitMQ into the analytics table (turn_analytics).

    python -m analytics consume [--queue p95598_events] [--amqp amqp://guest:guest@127.0.0.1:5672/%2F]

One row per customer turn (function, confidence, channel, fallback) and per handoff / resume. A message
is acknowledged only after its row is committed, and rows are keyed by the event itself, so a consumer
killed mid-way and redelivered messages never lose or double a row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from backend import models as m

log = logging.getLogger(__name__)
FALLBACK = "nlu_fallback"


def row_of(event: dict) -> dict | None:
    """The analytics row for one broker message (None for events the feed does not keep)."""
    kind = {"user": "turn", "pause": "handoff", "resume": "resume"}.get(event.get("event"))
    sender, ts = event.get("sender_id"), event.get("timestamp")
    if kind is None or not sender or ts is None:
        return None
    text = event.get("text") or ""
    if kind == "turn" and (not text or text.startswith("EXTERNAL:")):
        kind = "handoff" if text.startswith("EXTERNAL: human_agent") else None
        if kind is None:
            return None
    intent = (event.get("parse_data") or {}).get("intent") or {}
    meta = event.get("metadata") or {}
    key = f"{sender}:{event.get('event')}:{ts}:{event.get('message_id') or ''}"
    return {
        "event_key": key[:200],
        "conversation_id": str(sender)[:64],
        "at": dt.datetime.fromtimestamp(float(ts), dt.timezone.utc).replace(tzinfo=None),
        "kind": kind,
        "function": intent.get("name") if kind == "turn" else None,
        "confidence": float(intent["confidence"]) if kind == "turn" and intent.get("confidence") is not None else None,
        "channel": (meta.get("channel") or event.get("input_channel") or None),
        "fallback": kind == "turn" and intent.get("name") == FALLBACK,
    }


def store(sessions: sessionmaker, body: bytes) -> bool:
    """Writes the row for one message; True when it is safe to acknowledge (written, duplicate or unusable)."""
    try:
        event = json.loads(body)
    except ValueError:
        log.warning("dropping a message that is not JSON: %r", body[:80])
        return True
    row = row_of(event) if isinstance(event, dict) else None
    if row is None:
        return True
    try:
        with sessions.begin() as s:
            s.add(m.TurnAnalytics(**row))
    except IntegrityError:  # redelivered: already written
        pass
    return True


def consume(
    sessions: sessionmaker,
    amqp_url: str,
    queue: str,
    exchange: str | None = None,
    stop_after: int | None = None,
    idle_seconds: float | None = None,
) -> int:
    """Consumes until stopped (or `stop_after` messages / `idle_seconds` without one); returns the count."""
    import pika  # only the scale profile needs it

    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    if exchange:
        channel.exchange_declare(exchange=exchange, exchange_type="fanout")
        channel.queue_bind(queue=queue, exchange=exchange)
    channel.basic_qos(prefetch_count=50)
    seen = 0
    try:
        for method, _props, body in channel.consume(queue, inactivity_timeout=idle_seconds):
            if method is None:  # idle long enough
                break
            if store(sessions, body):
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
