"""The scale profile for real: PostgreSQL, Redis and RabbitMQ on this machine, a scratch database, Redis key
prefix and broker queue per test module. Skips with the reason when a service is genuinely absent."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import func, select

from backend import models as m
from backend.db import make_engine, make_sessionmaker
from scripts.profiles import DEFAULTS, ScaleProfile
from scripts.stack import Stack, ensure_model, free_port
from tests.conftest import DEMO_PASSWORD


def scratch_profile() -> ScaleProfile:
    tag = uuid.uuid4().hex[:8]
    pg = DEFAULTS["P95598_PG_URL"].rsplit("/", 1)[0] + f"/p95598_t{tag}"
    profile = ScaleProfile(pg, DEFAULTS["P95598_REDIS_URL"], DEFAULTS["P95598_AMQP_URL"], prefix=f"t{tag}")
    missing = profile.unreachable()
    if missing:
        pytest.skip(f"scale profile needs {', '.join(missing)}")
    return profile


def cleanup(profile: ScaleProfile) -> None:
    import pika
    import redis

    r = redis.from_url(profile.redis_url)
    for key in r.scan_iter(f"{profile.prefix}*"):
        r.delete(key)
    env = profile.env()
    connection = pika.BlockingConnection(pika.URLParameters(profile.amqp_url))
    channel = connection.channel()
    channel.queue_delete(env["P95598_EVENTS_QUEUE"])
    channel.exchange_delete(env["P95598_EVENTS_EXCHANGE"])
    connection.close()
    profile.drop_database()


def start_stack(profile: ScaleProfile, var, *, knowledge_url: str | None = None, seed: bool = True) -> Stack:
    stack = Stack(
        var=var,
        rasa_port=free_port(),
        action_port=free_port(),
        knowledge_port=free_port(),
        console_port=free_port(),
        scale=profile,
        with_knowledge=knowledge_url is None,
        knowledge_url=knowledge_url,
        seed=seed,
        extra_env={"P95598_DEMO_PASSWORD": DEMO_PASSWORD},
    )
    stack.start(ensure_model())
    return stack


def dump_logs(var) -> None:
    for log in sorted(var.glob("*.log")):
        print(f"==== {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def orders_of(profile: ScaleProfile, conversation: str, function: str | None = None) -> list[m.WorkOrder]:
    sessions = make_sessionmaker(make_engine(profile.pg_url))
    with sessions() as s:
        q = select(m.WorkOrder).where(m.WorkOrder.conversation_id == conversation)
        if function:
            q = q.where(m.WorkOrder.function_id == function)
        return list(s.scalars(q))


def wait_for_analytics(profile: ScaleProfile, conversation: str, rows: int, timeout: float = 30) -> int:
    sessions = make_sessionmaker(make_engine(profile.pg_url))
    deadline, n = time.time() + timeout, 0
    while time.time() < deadline:
        with sessions() as s:
            n = (
                s.scalar(
                    select(func.count(m.TurnAnalytics.id)).where(
                        m.TurnAnalytics.conversation_id == conversation, m.TurnAnalytics.kind == "turn"
                    )
                )
                or 0
            )
        if n >= rows:
            return n
        time.sleep(0.5)
    return n
