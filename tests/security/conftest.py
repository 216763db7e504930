"""Security reproductions against the running product: each attack is replayed and must be refused, with
the database compared before and after (`db_state`)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, text

WATCHED = {  # what an attack must not change: registered phones, tariffs, orders and their history
    "customers": "SELECT account_no, phone, tou_enabled FROM customers ORDER BY account_no",
    "work_orders": "SELECT number, function_id, status, account_no FROM work_orders ORDER BY number",
    "work_order_events": "SELECT COUNT(*) FROM work_order_events",
}


def db_state(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return {
                name: hashlib.sha256(repr(c.execute(text(sql)).all()).encode()).hexdigest()
                for name, sql in WATCHED.items()
            }
    finally:
        engine.dispose()


@pytest.fixture
def unchanged(seeded_db_url):
    """Asserts, after the test, that nothing watched changed in the database."""
    before = db_state(seeded_db_url)
    yield
    after = db_state(seeded_db_url)
    assert after == before, {k for k in before if before[k] != after[k]}
