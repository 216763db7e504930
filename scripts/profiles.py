"""The scale profile: PostgreSQL (back end + Rasa trackers), Redis (Rasa locks, console pub/sub), RabbitMQ
(Rasa events -> analytics). Selected with P95598_PROFILE=scale; the embedded default needs none of them.

    P95598_PG_URL     postgresql+psycopg2://postgres@127.0.0.1:5432/p95598
    P95598_REDIS_URL  redis://127.0.0.1:6379/0
    P95598_AMQP_URL   amqp://guest:guest@127.0.0.1:5672/%2F
    P95598_PREFIX     p95598   (Redis keys, RabbitMQ exchange and queue; letters and digits)
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULTS = {
    "P95598_PG_URL": "postgresql+psycopg2://postgres@127.0.0.1:5432/p95598",
    "P95598_REDIS_URL": "redis://127.0.0.1:6379/0",
    "P95598_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
}


@dataclass(frozen=True)
class ScaleProfile:
    pg_url: str
    redis_url: str
    amqp_url: str
    prefix: str = "p95598"

    @classmethod
    def from_env(cls, env: dict | None = None) -> ScaleProfile | None:
        env = os.environ if env is None else env
        if env.get("P95598_PROFILE") != "scale":
            return None
        get = lambda k: env.get(k) or DEFAULTS[k]
        return cls(
            get("P95598_PG_URL"), get("P95598_REDIS_URL"), get("P95598_AMQP_URL"), env.get("P95598_PREFIX", "p95598")
        )

    def env(self) -> dict:
        """What the Rasa endpoints file (bot/endpoints.scale.yml) and the Python processes read."""
        pg, redis, amqp = urlsplit(self.pg_url), urlsplit(self.redis_url), urlsplit(self.amqp_url)
        return {
            "P95598_PROFILE": "scale",
            "P95598_DB_URL": self.pg_url,
            "P95598_PG_HOST": pg.hostname or "127.0.0.1",
            "P95598_PG_PORT": str(pg.port or 5432),
            "P95598_PG_DB": pg.path.lstrip("/"),
            "P95598_PG_USER": unquote(pg.username or "postgres"),
            "P95598_PG_PASSWORD": unquote(pg.password or ""),
            "P95598_REDIS_URL": self.redis_url,
            "P95598_REDIS_HOST": redis.hostname or "127.0.0.1",
            "P95598_REDIS_PORT": str(redis.port or 6379),
            "P95598_REDIS_DB": redis.path.lstrip("/") or "0",
            "P95598_REDIS_PREFIX": self.prefix,
            "P95598_AMQP_URL": self.amqp_url,
            "P95598_AMQP_HOST": amqp.hostname or "127.0.0.1",
            "P95598_AMQP_PORT": str(amqp.port or 5672),
            "P95598_AMQP_USER": unquote(amqp.username or "guest"),
            "P95598_AMQP_PASSWORD": unquote(amqp.password or "guest"),
            "P95598_EVENTS_EXCHANGE": f"{self.prefix}-events",
            "P95598_EVENTS_QUEUE": f"{self.prefix}-analytics",
        }

    def unreachable(self) -> list[str]:
        """The services that do not accept a connection (empty when all are there)."""
        missing = []
        for name, url, port in (
            ("PostgreSQL", self.pg_url, 5432),
            ("Redis", self.redis_url, 6379),
            ("RabbitMQ", self.amqp_url, 5672),
        ):
            parts = urlsplit(url)
            try:
                socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), timeout=2).close()
            except OSError:
                missing.append(f"{name} at {parts.hostname}:{parts.port or port}")
        return missing

    @contextmanager
    def _server(self):
        """A connection to the PostgreSQL server's own `postgres` database, and our database's name."""
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        url = make_url(self.pg_url)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                yield connection, url.database
        finally:
            admin.dispose()

    def ensure_database(self) -> None:
        """Creates the PostgreSQL database if it does not exist yet."""
        from sqlalchemy import text

        with self._server() as (c, name):
            if not c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop_database(self) -> None:
        from sqlalchemy import text

        with self._server() as (c, name):
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
