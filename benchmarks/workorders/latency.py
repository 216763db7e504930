"""Dispatch latency: `SqlCIS.create_work_order` (intake: area, time limit; dispatch: team, least-loaded on-duty
member with the skill; history; notices to the customer and the staff, all in one transaction), timed call by
call over orders spread across the 24 areas and several functions. Beside it, the same insert with dispatch
left out (the order row, its number and its first history entry, as create_work_order writes them before
`lifecycle.intake`), interleaved call for call so both see the same table sizes."""

from __future__ import annotations

import random
import time

from sqlalchemy import func, select

from backend import models as m
from backend.cis import SqlCIS
from backend.workorders import lifecycle
from benchmarks.workorders.overdue import spread_ms
from benchmarks.workorders.scratch import load_grid, open_sessions

MIX = [
    ("fault_repair", "normal", 45), ("fault_repair", "urgent", 5), ("safety_hazard", "urgent", 8),
    ("meter_issue", "normal", 10), ("power_quality", "normal", 7), ("complaint", "normal", 10),
    ("new_connection", "normal", 8), ("appliance_damage_claim", "normal", 4), ("tou_apply", "normal", 3),
]  # fmt: skip


def requests(sessions, n: int, seed_value: int = 7) -> list[dict]:
    """n order requests: function, priority, channel (chat or phone), an address in one of the 24 areas or an
    account number of a customer there."""
    rng = random.Random(seed_value)
    grid = load_grid(sessions)
    with sessions() as s:
        accounts = list(s.scalars(select(m.Customer.account_no).limit(200)))
        districts = {a.code: a.district for a in s.scalars(select(m.Area))}
    mix = [(f, p) for f, p, w in MIX for _ in range(w)]
    out = []
    for i in range(n):
        function_id, priority = rng.choice(mix)
        code, _, _, streets = grid.areas[i % len(grid.areas)]
        details = {"address": f"{districts[code]}{rng.choice(streets)}{rng.randint(1, 300)}号", "fault_desc": "停电"}
        chat = rng.random() < 0.5
        if not chat:
            details["contact_phone"] = f"138{rng.randint(0, 99_999_999):08d}"
        out.append(
            {
                "function_id": function_id,
                "channel": "chat" if chat else "voice",
                "details": details,
                "account_no": rng.choice(accounts) if rng.random() < 0.3 else None,
                "conversation_id": f"bench-{i}" if chat else None,
                "priority": priority,
                "idempotency_key": f"bench:{i}",
            }
        )
    return out


def insert_only(sessions, r: dict, i: int) -> None:
    """create_work_order without lifecycle.intake (no area, no limit, no dispatch, no notices)."""
    with sessions() as s:  # the same idempotency look-up first
        s.scalars(select(m.WorkOrder).where(m.WorkOrder.idempotency_key == f"base:{i}")).first()
    with sessions.begin() as s:
        o = m.WorkOrder(
            number=f"T{m.utcnow():%H%M%S%f}",
            function_id=r["function_id"],
            status="received",
            priority=r["priority"],
            channel=r["channel"],
            account_no=r["account_no"],
            conversation_id=r["conversation_id"],
            idempotency_key=f"base:{i}",
            details=r["details"],
        )
        s.add(o)
        s.flush()
        o.number = lifecycle.order_number(o.id, o.created_at)
        lifecycle.record(o, lifecycle.Actor("bot", r["channel"], "智能客服"), "客户来电/留言受理", now=o.created_at)
        s.flush()


def measure(url: str, n: int = 1000) -> dict:
    sessions = open_sessions(url)
    cis = SqlCIS(sessions)
    with_dispatch, without = [], []
    for i, r in enumerate(requests(sessions, n)):
        t = time.perf_counter()
        cis.create_work_order(**r)
        with_dispatch.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        insert_only(sessions, r, i)
        without.append((time.perf_counter() - t) * 1000)
    with sessions() as s:
        dispatched = s.scalar(select(func.count()).select_from(m.WorkOrder).where(m.WorkOrder.assignee_id.is_not(None)))
        notices = s.scalar(select(func.count()).select_from(m.OrderNotice))
        teams = s.scalar(select(func.count(func.distinct(m.WorkOrder.team_id))))
    return {
        "orders": n,
        "dispatched": dispatched,
        "teams_used": teams,
        "notices_written": notices,
        "create_work_order_ms": spread_ms(with_dispatch),
        "insert_without_dispatch_ms": spread_ms(without),
    }
