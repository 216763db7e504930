"""The analytics consumer against the real RabbitMQ: Rasa-shaped events in, one row per event out, even
when the broker delivers a message twice."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
from sqlalchemy import select

from analytics.consumer import consume, row_of
from backend import models as m
from backend.db import open_database

AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"
USER = {
    "event": "user",
    "sender_id": "chat:abc",
    "timestamp": 1764300000.5,
    "text": "我家停电了",
    "message_id": "m1",
    "parse_data": {"intent": {"name": "fault_repair", "confidence": 0.97}},
    "metadata": {"channel": "wechat"},
}


def test_rows_for_turns_fallbacks_and_handoffs():
    assert row_of(USER)["function"] == "fault_repair" and row_of(USER)["channel"] == "wechat"
    fallback = row_of({**USER, "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.3}}})
    assert fallback["fallback"] is True
    assert row_of({"event": "pause", "sender_id": "chat:abc", "timestamp": 1.0})["kind"] == "handoff"
    assert row_of({"event": "bot", "sender_id": "chat:abc", "timestamp": 1.0, "text": "好的"}) is None
    assert row_of({"event": "user", "timestamp": 1.0}) is None  # no sender: not usable


def test_consumer_writes_each_event_once(tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        pytest.skip("RabbitMQ not reachable at 127.0.0.1:5672")
    import pika

    queue = f"test-analytics-{uuid.uuid4().hex[:8]}"
    sessions = open_database(f"sqlite:///{tmp_path / 'a.db'}")[1]
    connection = pika.BlockingConnection(pika.URLParameters(AMQP))
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    try:
        for body in (
            USER,
            USER,
            {**USER, "message_id": "m2", "timestamp": 1764300009.0},
            "not json",
            {"event": "pause", "sender_id": "chat:abc", "timestamp": 1764300010.0},
        ):
            channel.basic_publish("", queue, json.dumps(body, ensure_ascii=False) if isinstance(body, dict) else body)
        assert consume(sessions, AMQP, queue, idle_seconds=2) == 5
        with sessions() as s:
            rows = list(s.scalars(select(m.TurnAnalytics).order_by(m.TurnAnalytics.at)))
        assert [(r.kind, r.function) for r in rows] == [
            ("turn", "fault_repair"),
            ("turn", "fault_repair"),
            ("handoff", None),
        ]
        assert channel.queue_declare(queue=queue, durable=True, passive=True).method.message_count == 0  # all acked
    finally:
        channel.queue_delete(queue)
        connection.close()
