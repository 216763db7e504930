"""The scale profile's consumer on the local RabbitMQ and PostgreSQL: the recorded conversations' events published
as Rasa's broker publishes them (with sender_id), every message twice and malformed ones between, give the same
contacts as the embedded feed gives from the tracker store, and every message is acknowledged."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from analytics.consumer import consume
from backend.db import make_engine, make_sessionmaker, upgrade
from tests.analytics.test_feed import KEYS, MORE, RECORDED, backend, feed_all, make_tracker, populate, rows
from tests.conftest import _postgres_url

AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A PostgreSQL back end with the recorded customer and cases."""
    admin, name, url = _postgres_url()
    engine = make_engine(url)
    upgrade(engine)
    sessions = populate(make_sessionmaker(engine))
    yield sessions
    engine.dispose()
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_the_consumer_writes_the_same_contacts_as_the_feed(postgres, tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        pytest.skip("RabbitMQ not reachable at 127.0.0.1:5672")
    import pika

    queue = f"test-contacts-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(AMQP))
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    bodies: list[bytes] = [b"not json", json.dumps({"event": "user", "timestamp": "x"}).encode()]
    for conversation in RECORDED.values():
        for r in conversation:
            body = json.dumps({"sender_id": r["sender_id"], **json.loads(r["data"])}, ensure_ascii=False).encode()
            bodies += [body, body]  # redelivered
    try:
        for body in bodies:
            channel.basic_publish("", queue, body)
        assert consume(postgres, AMQP, queue, idle_seconds=3) == len(bodies)
        assert channel.queue_declare(queue=queue, durable=True, passive=True).method.message_count == 0  # all acked
    finally:
        channel.queue_delete(queue)
        connection.close()

    fed = backend(tmp_path / "fed.db")
    feed_all(make_tracker(tmp_path / "tracker.db"), fed)
    got = rows(postgres, KEYS + MORE)
    assert len(got) == 3 and got == rows(fed, KEYS + MORE)
