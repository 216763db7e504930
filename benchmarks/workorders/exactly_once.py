"""Exactly-once escalation with two worker processes and a kill -9 of one of them in the middle of a sweep.

Two `python -m backend.workorders run --interval 0.2` processes share one database and send SMS through the
fake gateway. N orders are written whose supervision clocks run out during the run: each order's warning,
overdue (team leader) and overdue-long (supervisor) moments all pass, a few seconds apart (the orders carry a
short limit of `allowed` seconds instead of the commitment table's minutes; the sweep reads the limit from
the row, so it is the real code path). Once the first escalations are written, worker A is killed with
SIGKILL while it is inside a database transaction (on PostgreSQL: the moment pg_stat_activity shows its
session busy with a sweep or a claim), and started again a second later. Then worker B is killed the moment
the gateway has taken an SMS from it, before B can mark that notice sent, and started again: the notice (and
any other B held claimed) is sent again, with the same id, once its claim lapses (outbox.LEASE, 30 s).

At the end, per (order, stage): the escalation notices written (must be exactly 1), the history entries of
the escalation (exactly 1 for the overdue stages), and per SMS notice the messages the gateway received:
all of them (repeats included: B's in-flight message arrives twice), and distinct by notice id (what the
gateway delivers: it drops a repeat of an id). Missed deliveries must be 0."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select, text

from backend import models as m
from backend.workorders.commitments import commitments
from backend.workorders.outbox import LEASE
from backend.workorders.supervision import STAGES
from benchmarks.workorders.overdue import spread_ms
from benchmarks.workorders.scratch import TimedSmsGateway, Worker, insert, load_grid, open_sessions, order_row

IN_A_TRANSACTION = ("FOR UPDATE", "INSERT INTO order_notices", "INSERT INTO work_order_events", "UPDATE work_orders")


def clocked_orders(sessions, n: int, first_warning: dt.datetime, spread: float, allowed: float) -> None:
    """n dispatched fault repairs whose warning moments follow one another over `spread` seconds."""
    grid = load_grid(sessions)
    step = dt.timedelta(seconds=allowed)
    rows = []
    for i in range(n):
        warn = first_warning + dt.timedelta(seconds=spread * i / n)
        start = warn - step * commitments().warn_at
        o = order_row(grid, f"X{i:06d}", "fault_repair", i % 24, start, i=i)
        o.due_step, o.due_at, o.step_allowed_s = "accepted", start + step, int(allowed)
        o.supervision_stage, o.next_check_at = 0, warn
        rows.append(o)
    insert(sessions, rows)


def counts(sessions) -> dict:
    with sessions() as s:
        by_kind = dict(
            s.execute(
                select(m.OrderNotice.kind, func.count()).where(m.OrderNotice.kind.in_(list(STAGES.values())))
                .group_by(m.OrderNotice.kind)
            ).tuples().all()
        )  # fmt: skip
        unsent = s.scalar(
            select(func.count()).select_from(m.OrderNotice).where(m.OrderNotice.sent_at.is_(None))
        )  # fmt: skip
        final = s.scalar(select(func.count()).select_from(m.WorkOrder).where(m.WorkOrder.supervision_stage == 3))
    return {"by_kind": by_kind, "unsent": unsent or 0, "at_stage_3": final or 0}


def busy_query(sessions, name: str) -> str | None:
    """What worker `name` is doing in an open transaction right now (PostgreSQL), else None."""
    with sessions() as s:
        rows = s.execute(
            text("SELECT state, query FROM pg_stat_activity WHERE application_name = :n"), {"n": name}
        ).all()
    for state, query in rows:
        if state in ("active", "idle in transaction") and any(k in query for k in IN_A_TRANSACTION):
            return f"{state}: {' '.join(query.split())[:90]}"
    return None


async def kill_mid_sweep(sessions, worker: Worker, postgres: bool, patience: float = 5.0) -> str:
    """SIGKILL the worker while it holds a transaction (PostgreSQL: watched in pg_stat_activity)."""
    if not postgres:
        worker.kill9()
        return "SQLite: killed at once (no session view to watch)"
    deadline = time.time() + patience
    while time.time() < deadline:
        doing = await asyncio.to_thread(busy_query, sessions, worker.name)
        if doing:
            worker.kill9()
            return doing
        await asyncio.sleep(0.002)
    worker.kill9()
    return "not seen inside a transaction: killed anyway"


async def kill_while_sending(worker: Worker, front: TimedSmsGateway, patience: float = 20.0) -> tuple[str, str]:
    """SIGKILL the worker the moment the gateway has received an SMS from it and before it is answered: the
    worker cannot mark that notice sent, so it is sent again (same id) once its claim lapses. Restarted."""
    killed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def kill(message_id: str) -> None:
        worker.kill9(wait=False)
        killed.set_result(message_id)

    front.on_message = kill
    try:
        message_id = await asyncio.wait_for(killed, patience)
    except asyncio.TimeoutError:
        front.on_message = None
        return "sent nothing in time: not killed", ""
    worker.kill9()  # reaped
    await asyncio.sleep(1)
    worker.start()
    return f"killed as the gateway took {message_id} from it, before it could mark it sent", message_id


async def run(url: str, orders: int = 2000, spread: float = 40.0, allowed: float = 30.0, interval: float = 0.2) -> dict:
    sessions = open_sessions(url)
    postgres = url.startswith("postgresql")
    expected = dict.fromkeys(STAGES.values(), orders)
    with tempfile.TemporaryDirectory() as logs:
        gateway = TimedSmsGateway()
        via_b = TimedSmsGateway(shared=gateway)  # B's way to the same gateway: tells when B is sending
        async with gateway, via_b:
            a = Worker(url, gateway.url, "worker-a", Path(logs), interval)
            b = Worker(url, via_b.url, "worker-b", Path(logs), interval)
            try:
                a.start()
                b.start()
                await asyncio.sleep(2.5)  # both up and sweeping
                t0 = time.time()
                clocked_orders(sessions, orders, m.utcnow() + dt.timedelta(seconds=2), spread, allowed)
                while (await asyncio.to_thread(counts, sessions))["by_kind"].get("warning", 0) < orders // 10:
                    await asyncio.sleep(0.05)
                doing = await kill_mid_sweep(sessions, a, postgres)
                at_kill = await asyncio.to_thread(counts, sessions)
                await asyncio.sleep(1)
                a.start()
                in_flight = await kill_while_sending(b, via_b)
                last = spread + allowed * 0.7 + LEASE.total_seconds() + 30  # all stages passed, claims lapsed
                while time.time() - t0 < last:
                    now = await asyncio.to_thread(counts, sessions)
                    if now["at_stage_3"] == orders and now["unsent"] == 0:  # a claim the killed worker held
                        break  # stays unsent until it lapses and another sender sends it again
                    await asyncio.sleep(0.5)
                finished = time.time() - t0
            finally:
                a.stop()
                b.stop()
            errors = a.errors() + b.errors()
        result = tally(sessions, gateway, expected, orders, doing, at_kill, finished, errors)
    result["sms_rejected"] += via_b.rejected
    result["b_killed_while_sending"], result["b_in_flight"] = in_flight
    return result


def tally(sessions, gateway: TimedSmsGateway, expected: dict, orders: int, doing, at_kill, finished, errors) -> dict:
    with sessions() as s:
        notices = list(
            s.execute(
                select(m.OrderNotice.id, m.OrderNotice.order_id, m.OrderNotice.kind, m.OrderNotice.channel)
                .where(m.OrderNotice.kind.in_(list(STAGES.values())))
            ).tuples()
        )  # fmt: skip
        late: dict[str, list[float]] = {kind: [] for kind in STAGES.values()}
        c = commitments()
        offset = {"warning": c.warn_at - 1, "overdue_leader": 0.0, "overdue_supervisor": c.supervisor_after}
        for kind, created, due, allowed in s.execute(
            select(m.OrderNotice.kind, m.OrderNotice.created_at, m.WorkOrder.due_at, m.WorkOrder.step_allowed_s)
            .join(m.WorkOrder, m.WorkOrder.id == m.OrderNotice.order_id)
            .where(m.OrderNotice.kind.in_(list(STAGES.values())))
        ).tuples():  # fmt: skip
            moment = due + dt.timedelta(seconds=allowed * offset[kind])
            late[kind].append((created - moment).total_seconds() * 1000)
        events = Counter(
            (oid, (detail or {}).get("stage"))
            for oid, detail in s.execute(
                select(m.WorkOrderEvent.order_id, m.WorkOrderEvent.detail).where(m.WorkOrderEvent.kind == "supervision")
            ).tuples()
        )
        order_ids = set(s.scalars(select(m.WorkOrder.id).where(m.WorkOrder.number.like("X%"))))
        stages = Counter(s.scalars(select(m.WorkOrder.supervision_stage).where(m.WorkOrder.id.in_(order_ids))))
        unsent = s.scalar(select(func.count()).select_from(m.OrderNotice).where(m.OrderNotice.sent_at.is_(None)))
    per = Counter((oid, kind) for _, oid, kind, _ in notices)
    stage_rows = {}
    for stage, kind in STAGES.items():
        have = [per[(oid, kind)] for oid in order_ids]
        twice = sum(1 for oid in order_ids if events[(oid, stage)] > 1) if stage >= 2 else 0
        stage_rows[kind] = {
            "expected": expected[kind],
            "written": sum(have),
            "missed": sum(1 for n in have if n == 0),
            "duplicates": sum(n - 1 for n in have if n > 1),
            "history_twice": twice,
            "written_after_its_moment_ms": spread_ms(late[kind]),
        }
    sms_ids = {f"n{nid}" for nid, _, _, channel in notices if channel == "sms"}
    received = [x for x in gateway.received if str(x["id"]) in sms_ids]
    return {
        "orders": orders,
        "final_stages": {str(k): v for k, v in sorted(stages.items())},
        "stages": stage_rows,
        "sms_notices": len(sms_ids),
        "sms_received": len(received),
        "sms_distinct": len({str(x["id"]) for x in received}),
        "sms_repeated_ids": sorted(i for i, n in Counter(str(x["id"]) for x in received).items() if n > 1)[:20],
        "sms_missed": len(sms_ids - set(gateway.delivered)),
        "sms_rejected": gateway.rejected,
        "unsent_notices": unsent or 0,
        "killed_while": doing,
        "written_when_killed": at_kill["by_kind"],
        "seconds": round(finished, 1),
        "worker_errors": len(errors),
        "worker_error_samples": errors[:3],
    }
