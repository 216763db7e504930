"""Overdue detection with 10,000 open orders: how long after an order's due time its overdue notice is written,
and sent, by a real worker process (`python -m backend.workorders run --interval 1`) through the fake SMS
gateway; then what one supervision sweep costs over those orders.

Probe orders (fault repairs waiting to be accepted, already warned) fall due one after another over
`spread` seconds while the worker runs; the other orders are open orders of every kind and age, none of
which needs a look during the measurement (the sweep still has to pass over them)."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, update

from backend import models as m
from backend.workorders.states import OPEN_STATUSES
from backend.workorders.supervision import sweep
from benchmarks.common import percentile
from benchmarks.workorders.scratch import (
    TimedSmsGateway,
    Worker,
    background_orders,
    insert,
    load_grid,
    open_sessions,
    order_row,
    utc,
)

ACCEPT = dt.timedelta(minutes=10)  # a normal fault repair must be accepted within 10 minutes
ARRIVE = dt.timedelta(minutes=45)  # and reached within 45 (urban)


def spread_ms(values: list[float]) -> dict:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": percentile(values, 100),
        "n": len(values),
    }


async def detection(url: str, total: int = 10_000, probes: int = 200, spread: float = 30.0) -> dict:
    sessions = open_sessions(url)
    grid = load_grid(sessions)
    now = m.utcnow()
    t = time.time()
    stages = background_orders(sessions, grid, total - probes, now, now + dt.timedelta(minutes=10))
    filled = time.time() - t
    with tempfile.TemporaryDirectory() as logs:
        gateway = TimedSmsGateway()
        async with gateway:
            worker = Worker(url, gateway.url, "detect", Path(logs), interval=1.0).start()
            try:
                await asyncio.sleep(3)  # the worker is up and sweeping
                first_due = m.utcnow() + dt.timedelta(seconds=5)
                rows = []
                for i in range(probes):
                    due = first_due + dt.timedelta(seconds=spread * i / probes)
                    o = order_row(grid, f"P{i:06d}", "fault_repair", i % 24, due - ACCEPT, i=i)
                    o.supervision_stage, o.next_check_at = 1, o.due_at  # warned at 8 minutes already
                    rows.append(o)
                insert(sessions, rows)
                deadline = time.time() + spread + 60
                while time.time() < deadline:
                    await asyncio.sleep(0.5)
                    if _sent_probes(sessions) >= probes:
                        break
                await asyncio.sleep(1)
            finally:
                worker.stop()
            errors = worker.errors()
        written, sent, arrived = [], [], []
        with sessions() as s:
            q = (
                select(m.OrderNotice.id, m.OrderNotice.created_at, m.OrderNotice.sent_at, m.WorkOrder.due_at)
                .join(m.WorkOrder, m.WorkOrder.id == m.OrderNotice.order_id)
                .where(m.WorkOrder.number.like("P%"), m.OrderNotice.kind == "overdue_leader")
            )
            for nid, created, sent_at, due in s.execute(q):
                written.append((created - due).total_seconds() * 1000)
                if sent_at is not None:
                    sent.append((sent_at - due).total_seconds() * 1000)
                if f"n{nid}" in gateway.arrived:
                    arrived.append((utc(gateway.arrived[f"n{nid}"]) - due).total_seconds() * 1000)
            open_now = s.scalar(
                select(func.count())
                .select_from(m.WorkOrder)
                .where(m.WorkOrder.status.in_([x.value for x in OPEN_STATUSES]))
            )
    return {
        "open_orders": open_now,
        "background_stages": {str(k): v for k, v in sorted(stages.items())},
        "probes": probes,
        "probes_spread_s": spread,
        "worker_interval_s": 1.0,
        "bulk_insert_s": round(filled, 1),
        "due_to_notice_written_ms": spread_ms(written),
        "due_to_marked_sent_ms": spread_ms(sent),
        "due_to_gateway_received_ms": spread_ms(arrived),
        "sms_received": len(gateway.received),
        "sms_distinct": len(gateway.delivered),
        "worker_errors": errors[:5],
    }


def _sent_probes(sessions) -> int:
    with sessions() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(m.OrderNotice)
                .join(m.WorkOrder, m.WorkOrder.id == m.OrderNotice.order_id)
                .where(
                    m.WorkOrder.number.like("P%"),
                    m.OrderNotice.kind == "overdue_leader",
                    m.OrderNotice.sent_at.is_not(None),
                )
            )
            or 0
        )


def sweep_cost(url: str) -> dict:
    """An idle sweep (nothing due among the open orders), then one sweep that escalates every open order."""
    sessions = open_sessions(url)
    idle = []
    for _ in range(5):
        t = time.perf_counter()
        sweep(sessions)
        idle.append((time.perf_counter() - t) * 1000)
    now = m.utcnow()
    due = now - dt.timedelta(seconds=1)
    with sessions.begin() as s:  # every open order: warned, and due on site a second ago
        s.execute(
            update(m.WorkOrder)
            .where(m.WorkOrder.status.in_([x.value for x in OPEN_STATUSES]))
            .values(
                supervision_stage=1,
                due_step="on_site",
                step_allowed_s=int(ARRIVE.total_seconds()),
                due_at=due,
                clock_start=due - ARRIVE,
                next_check_at=due,
            )
        )
        n = s.scalar(select(func.count()).select_from(m.WorkOrder).where(m.WorkOrder.next_check_at == due)) or 0
        before = s.scalar(select(func.count()).select_from(m.OrderNotice)) or 0
    t = time.perf_counter()
    looked = sweep(sessions, now, batch=n)
    full = time.perf_counter() - t
    with sessions() as s:
        written = (s.scalar(select(func.count()).select_from(m.OrderNotice)) or 0) - before
    return {
        "idle_sweep_ms": round(statistics.median(idle), 1),
        "orders_escalated_in_one_sweep": looked,
        "notices_written": written,
        "one_sweep_s": round(full, 2),
        "per_order_ms": round(full * 1000 / max(1, looked), 2),
    }
