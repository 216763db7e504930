"""Overdue orders escalate exactly once under two worker processes and a kill -9 of one of them mid-sweep
(issue 16, "Done when"). The scenario is the benchmark's (benchmarks/workorders/exactly_once.py) with fewer
orders: two `python -m backend.workorders run` processes, SMS through the fake gateway, every order passing
its warning, overdue and overdue-long moments during the run; worker A is killed with SIGKILL inside a
database transaction, worker B as the gateway takes an SMS from it (before it can mark it sent), each started
again. On PostgreSQL (SKIP LOCKED) and on SQLite (the embedded default)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from benchmarks.workorders import exactly_once
from benchmarks.workorders.scratch import prepare
from tests.conftest import _postgres_url

ORDERS = 240


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'orders.db'}"
        prepare(url, customers=30)
        yield url
        return
    admin, name, url = _postgres_url()
    try:
        prepare(url, customers=30)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_two_workers_and_a_kill_escalate_every_overdue_order_exactly_once(database):
    r = asyncio.run(exactly_once.run(database, orders=ORDERS, spread=8.0, allowed=16.0))
    print({k: v for k, v in r.items() if k != "stages"})
    assert r["final_stages"] == {"3": ORDERS}, r
    for kind, row in r["stages"].items():  # warning, overdue to the leader, overdue to the supervisor
        assert (row["written"], row["missed"], row["duplicates"], row["history_twice"]) == (ORDERS, 0, 0, 0), (kind, r)
    if database.startswith("postgresql"):
        assert r["killed_while"].startswith(("active", "idle in transaction")), r["killed_while"]
    # every SMS notice reached the gateway; repeats (a sender killed between sending and marking) carry the
    # same id and are dropped there, so each notice is delivered once
    assert r["sms_notices"] == 2 * ORDERS and r["sms_missed"] == 0 and r["sms_distinct"] == r["sms_notices"], r
    assert r["b_in_flight"] in r["sms_repeated_ids"], r  # B's in-flight message was sent again, and dropped
    assert r["sms_received"] >= r["sms_distinct"] + 1 and r["sms_rejected"] == 0
    assert r["unsent_notices"] == 0 and r["worker_errors"] == 0, r
