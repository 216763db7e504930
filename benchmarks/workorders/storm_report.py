"""What the storm day left in the database, per service function: resolved within the limit, on site within the
limit, escalations, closures and surveys; and a cross-check of supervision: every step that was late (reached
after its due time, or not reached by the end though due) must have an overdue escalation for that step, and
no step that was on time may have one (orders worked by one member in one round; the sweep runs every tick,
so a step reached less than a tick late may go either way and is not counted)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select

from backend import models as m
from backend.workorders import WorkOrders
from backend.workorders.commitments import commitments
from backend.workorders.states import PROGRESS, OrderStatus
from benchmarks.workorders.overdue import spread_ms

OVERDUE = ("overdue_leader", "overdue_supervisor")


STEPS = ("accepted", "en_route", "on_site", "resolved")  # what a time limit can ask an order to reach


def first_reached(events: list[tuple[str, str, dt.datetime]]) -> dict[str, dt.datetime]:
    """The first time the order reached each step (resolving counts as arriving, and so on)."""
    out: dict[str, dt.datetime] = {}
    for _, status, at in sorted(events, key=lambda e: e[2]):
        if status in (OrderStatus.CLOSED, OrderStatus.WITHDRAWN) or status not in PROGRESS:
            continue
        for step in STEPS:
            if step not in out and PROGRESS[OrderStatus(step)] <= PROGRESS[OrderStatus(status)]:
                out[step] = at
    return out


def report(sessions, storm, seconds: float, end: dt.datetime, tick: dt.timedelta) -> dict[str, Any]:
    c = commitments()
    with sessions() as s:
        orders = list(s.scalars(select(m.WorkOrder).where(m.WorkOrder.number.like("G%"))))
        events: dict[int, list[tuple[str, str, dt.datetime]]] = defaultdict(list)
        repeats = 0  # escalations of one step of one clock recorded twice in the history
        told: dict[int, set[tuple[Any, Any]]] = defaultdict(set)
        for oid, kind, status, at, detail in s.execute(
            select(
                m.WorkOrderEvent.order_id, m.WorkOrderEvent.kind, m.WorkOrderEvent.status, m.WorkOrderEvent.at,
                m.WorkOrderEvent.detail,
            ).order_by(m.WorkOrderEvent.id)
        ).tuples():  # fmt: skip
            events[oid].append((kind, status, at))
            if kind == "status" and status == OrderStatus.REOPENED:
                told[oid].clear()  # a new clock
            elif kind == "supervision":
                key = ((detail or {}).get("step"), (detail or {}).get("stage"))
                repeats += key in told[oid]
                told[oid].add(key)
        notices: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for oid, kind, key in s.execute(
            select(m.OrderNotice.order_id, m.OrderNotice.kind, m.OrderNotice.dedupe_key)
        ).tuples():  # fmt: skip
            notices[oid].append((kind, key.split(":")[2] if kind in OVERDUE or kind == "warning" else ""))
        surveys = s.execute(
            select(func.count(), func.count(m.Survey.score), func.avg(m.Survey.score)).where(m.Survey.sent_at <= end)
        ).one()
        outcomes = dict(
            s.execute(
                select(m.Survey.outcome, func.count()).where(m.Survey.outcome.is_not(None)).group_by(m.Survey.outcome)
            ).tuples().all()
        )  # fmt: skip
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    check: Counter[str] = Counter()
    for o in orders:
        row = rows[o.function_id]
        row["orders"] += 1
        reached = first_reached(events[o.id])
        steps = c.steps(o.function_id, o.priority, o.area_class, o.created_at)
        due = {st.status.value: st.due for st in steps}
        kinds = Counter(k for k, _ in notices[o.id])
        row["warned"] += kinds["warning"] > 0
        row["to_leader"] += kinds["overdue_leader"] > 0
        row["to_supervisor"] += kinds["overdue_supervisor"] > 0
        row["closed"] += o.status == OrderStatus.CLOSED
        row["open_at_end"] += OrderStatus(o.status).open and o.status != OrderStatus.RESOLVED
        for step in ("on_site", "resolved"):
            if step in due:
                row[f"{step}_due"] += 1
                row[f"{step}_in_limit"] += step in reached and reached[step] <= due[step]
                row[f"{step}_late"] += (step in reached and reached[step] > due[step]) or (
                    step not in reached and due[step] <= end
                )
        row["resolved"] += "resolved" in reached
        simple = sum(1 for k, _, _ in events[o.id] if k == "dispatch") == 1 and not any(
            st == OrderStatus.REOPENED for _, st, _ in events[o.id]
        )
        if not simple:
            continue
        escalated = {step for k, step in notices[o.id] if k in OVERDUE}
        for st in steps:
            at = reached.get(st.status.value)
            if at is not None and abs((at - st.due).total_seconds()) < tick.total_seconds():
                continue  # reached within a tick of its due time: either answer is right
            late = (at is not None and at > st.due) or (at is None and st.due < end - tick)
            if at is None and not late and st.due < end:
                continue
            check["steps_checked"] += 1
            if late and st.status.value not in escalated:
                check["late_not_escalated"] += 1
            if not late and st.status.value in escalated:
                check["escalated_not_late"] += 1
    figures = WorkOrders(sessions).team_figures()
    return {
        "orders": len(orders),
        "simulated_hours": round((end - min(o.created_at for o in orders)).total_seconds() / 3600, 1),
        "real_seconds": round(seconds, 1),
        "per_function": {f: dict(sorted(r.items())) for f, r in sorted(rows.items(), key=lambda x: -x[1]["orders"])},
        "field_moves": dict(storm.moves),
        "field_refused": dict(storm.refused),
        "field_move_http_ms": spread_ms(storm.move_ms),
        "redispatched_by_centre": storm.redispatched,
        "notices_delivered": dict(sorted(storm.delivered.items())),
        "escalation_history_repeats": repeats,
        "supervision_check": dict(check),
        "surveys": {
            "sent": surveys[0],
            "answered": surveys[1],
            "response_rate": round(surveys[1] / surveys[0], 3) if surveys[0] else None,
            "mean_score": round(float(surveys[2]), 2) if surveys[2] is not None else None,
            "outcomes": outcomes,
        },
        "team_figures_total": {
            k: sum(r[k] for r in figures) for k in ("open", "warned", "overdue", "done_in_time", "done_late")
        },
    }
