"""The call-volume forecast for the next 24 hours and the agents it needs (Erlang C).

Method, stated once:
1. Seasonality by hour of the week. For each of the next 24 local hours, the baseline is the mean number of
   contacts in the same hour of the week (Monday 09-10, …) over the last `weeks` weeks of contacts (4 by default),
   counting only the weeks the history covers (a product with two weeks of data averages over two). The counts
   per local hour come from the summary's kept settled days plus the raw edges (analytics/kpi_days.py).
2. Outages now. The areas of the dashboard's 当前停电 list (analytics/kpis_live.py `outages_now`: the fault
   and planned outages in effect, by backend.cis SqlCIS.active_outages, and the open suspected-outage incidents)
   bring calls on top of the baseline: the excess is the outage-related contacts of those areas in the last hour
   minus their share of that hour's baseline, assumed to go on and halve every EXCESS_HALF_LIFE hours as the
   announcement reaches people.
3. Agents. Only contacts handed to a person need an agent: the hour's agent load is the forecast times the
   measured escalation share of the history; with the measured average handling time (AHT) this is
   A = load x AHT / 3600 Erlangs, and the agents needed are the fewest N whose Erlang C service level
   (share answered within the target, 80 % in 20 s by default) reaches the target. No shrinkage (breaks,
   training) is added: the figure is agents on the phones.
4. Not enough history. The forecast needs each of the next 24 hours of the week seen at least once in the
   history (in practice a week of contacts); until then (a fresh installation) `available` is False, `hours` is
   empty and `note` says so (NOT_ENOUGH), instead of forecasting 0 calls and 0 agents.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from analytics.kpi_days import window_part
from analytics.kpi_parts import QUERIES, local_hour
from analytics.kpis import C, hour_of_week_counts
from analytics.kpis_range import EPOCH, EPOCH_MONDAY_SHIFT, KpiRange, to_local
from backend import models as m
from backend.contact_centre.metrics import ANSWER_TARGET
from backend.models_analytics import ContactOutcome

DEFAULT_WEEKS = 4
DEFAULT_AHT = 300.0  # seconds, until agents have handled anything
EXCESS_HALF_LIFE = 2.0  # hours
MAX_AGENTS = 2000
NOT_ENOUGH = "历史话务不足一周，暂不能预测。"


# ---- Erlang C ----


def erlang_b(agents: int, erlangs: float) -> float:
    """Blocking probability (Erlang B) by the stable recursion B(k) = A·B(k-1) / (k + A·B(k-1))."""
    b = 1.0
    for k in range(1, agents + 1):
        b = erlangs * b / (k + erlangs * b)
    return b


def erlang_c(agents: int, erlangs: float) -> float:
    """Probability that a contact waits (Erlang C); 1 when the agents cannot keep up (N <= A)."""
    if erlangs <= 0:
        return 0.0
    if agents <= erlangs:
        return 1.0
    b = erlang_b(agents, erlangs)
    return agents * b / (agents - erlangs * (1 - b))


def service_level(agents: int, erlangs: float, aht_seconds: float, target_seconds: float) -> float:
    """Share of contacts answered within the target: 1 - C(N, A) · exp(-(N - A) · T / AHT)."""
    if erlangs <= 0:
        return 1.0
    if agents <= erlangs:
        return 0.0
    return 1 - erlang_c(agents, erlangs) * math.exp(-(agents - erlangs) * target_seconds / aht_seconds)


def agents_needed(
    contacts_per_hour: float,
    aht_seconds: float,
    target_level: float = 0.8,
    target_seconds: float = ANSWER_TARGET.total_seconds(),
) -> int:
    """The fewest agents whose Erlang C service level reaches `target_level` within `target_seconds`."""
    erlangs = contacts_per_hour * aht_seconds / 3600
    if erlangs <= 0:
        return 0
    n = max(1, math.floor(erlangs) + 1)
    while n < MAX_AGENTS and service_level(n, erlangs, aht_seconds, target_seconds) < target_level:
        n += 1
    return n


# ---- the forecast ----


@dataclass(frozen=True)
class History:
    by_hour_of_week: dict[int, int]
    occurrences: dict[int, int]  # how many times each hour of the week lies in the covered history
    escalation_share: float
    aht_seconds: float
    aht_measured: bool


def hour_of_week(local_naive: dt.datetime) -> int:
    days = (local_naive - EPOCH).days
    return (days + EPOCH_MONDAY_SHIFT) % 7 * 24 + local_naive.hour


def read_history(s: Session, now: dt.datetime, weeks: int = DEFAULT_WEEKS, kept: bool = True) -> History:
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    start = hour_start - dt.timedelta(weeks=weeks)
    first = s.execute(select(func.min(C.started_at)).where(C.started_at >= start)).scalar_one_or_none()
    offset = KpiRange(to_local(now).date(), to_local(now).date()).offset_hours()
    occurrences: dict[int, int] = {}
    if first is not None:
        at = max(start, first.replace(minute=0, second=0, microsecond=0))
        while at < hour_start:
            how = hour_of_week(at + dt.timedelta(hours=offset))
            occurrences[how] = occurrences.get(how, 0) + 1
            at += dt.timedelta(hours=1)
    if kept:  # the summary's counters per local hour: kept settled days plus the raw edges (analytics/kpi_days.py)
        q = QUERIES["summary"]
        part = window_part(s, q, start, hour_start, None, local_hour(offset), lambda h: h, now=now)
        labels = q.labels()
        counts: dict[int, int] = {}
        sums = dict.fromkeys(("contacts", "escalated", "handle_sum", "handle_n"), 0.0)
        for (hour,), values in part.items():
            row = dict(zip(labels, values, strict=True))
            how = ((hour // 24 + EPOCH_MONDAY_SHIFT) % 7) * 24 + hour % 24
            counts[how] = counts.get(how, 0) + int(row["contacts"])
            for k in sums:
                sums[k] += row[k] or 0
        total, escalated, handle_sum, handle_n = (sums[k] for k in sums)
    else:
        counts = hour_of_week_counts(s, start, hour_start, offset)
        is_agent = and_(C.outcome == ContactOutcome.AGENT, C.handle_seconds.is_not(None))
        total, escalated, handle_sum, handle_n = s.execute(
            select(
                func.count(),
                func.sum(case((C.escalated, 1), else_=0)),
                func.sum(case((is_agent, C.handle_seconds), else_=None)),
                func.sum(case((is_agent, 1), else_=0)),
            ).where(C.started_at >= start, C.started_at < hour_start)
        ).one()
    measured = bool(handle_n)
    return History(
        by_hour_of_week=counts,
        occurrences=occurrences,
        escalation_share=(escalated or 0) / total if total else 0.0,
        aht_seconds=float(handle_sum) / handle_n if measured else DEFAULT_AHT,
        aht_measured=measured,
    )


def incident_excess(s: Session, now: dt.datetime, incident_areas: list[str], history: History) -> float:
    """Contacts per hour above the baseline brought by open incidents now (outage-related, their areas)."""
    if not incident_areas:
        return 0.0
    last_hour = s.execute(
        select(func.count()).where(
            C.started_at >= now - dt.timedelta(hours=1),
            C.started_at < now,
            C.outage_related,
            C.area_code.in_(sorted(set(incident_areas))),
        )
    ).scalar_one()
    how = hour_of_week(to_local(now - dt.timedelta(hours=1)))
    seen = history.occurrences.get(how, 0)
    expected = history.by_hour_of_week.get(how, 0) / seen if seen else 0.0
    # the incident areas' normal outage questions are a small part of the hour's traffic; count all of it as
    # excess only beyond a tenth of the baseline (a conservative allowance, never negative)
    return max(0.0, float(last_hour) - 0.1 * expected)


def forecast_24h(
    s: Session,
    now: dt.datetime | None = None,
    weeks: int = DEFAULT_WEEKS,
    target_level: float = 0.8,
    target_seconds: float = ANSWER_TARGET.total_seconds(),
    incident_areas: list[str] | None = None,
    kept: bool = True,
) -> dict[str, Any]:
    """The next 24 local hours from the coming full hour: baseline, incident excess, forecast, agents needed."""
    now = now or m.utcnow()
    history = read_history(s, now, weeks, kept)
    excess_now = incident_excess(s, now, incident_areas or [], history)
    first_hour = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    upcoming = [to_local(first_hour + dt.timedelta(hours=i)) for i in range(24)]
    available = all(history.occurrences.get(hour_of_week(at), 0) for at in upcoming)
    hours = []
    for i, at in enumerate(upcoming if available else []):
        how = hour_of_week(at)
        seen = history.occurrences.get(how, 0)
        baseline = history.by_hour_of_week.get(how, 0) / seen if seen else 0.0
        excess = excess_now * 0.5 ** ((i + 1) / EXCESS_HALF_LIFE)
        expected = baseline + excess
        load = expected * history.escalation_share
        hours.append(
            {
                "at": at.strftime("%Y-%m-%dT%H:00"),
                "label": f"{at.day}日{at.hour:02d}时",
                "baseline": round(baseline, 1),
                "excess": round(excess, 1),
                "forecast": round(expected, 1),
                "agent_contacts": round(load, 1),
                "agents": agents_needed(load, history.aht_seconds, target_level, target_seconds),
            }
        )
    return {
        "available": available,
        "note": "" if available else NOT_ENOUGH,
        "hours": hours,
        "weeks": weeks,
        "weeks_covered": round(max(history.occurrences.values(), default=0), 0),
        "aht_seconds": round(history.aht_seconds, 1),
        "aht_measured": history.aht_measured,
        "escalation_share": round(history.escalation_share, 4),
        "target_level": target_level,
        "target_seconds": target_seconds,
        "incident_excess_now": round(excess_now, 1),
        "method": (
            f"按最近{weeks}周同一“星期几+小时”的平均话务量预测，加上当前停电（故障、计划及疑似停电）带来的额外话务"
            f"（按最近一小时测得，每{EXCESS_HALF_LIFE:g}小时减半）；所需坐席按 Erlang C 计算，"
            f"目标为{target_seconds:g}秒内接通{target_level:.0%}。"
        ),
    }
