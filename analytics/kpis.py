"""The KPI queries of the dashboard, the alerts and the reports, written once over the `contacts` table.

Each query is a SQLAlchemy Core expression that runs unchanged on SQLite (embedded profile) and PostgreSQL (scale
profile): the issue suggests Ibis as one way to write queries once, but the product already speaks SQLAlchemy
everywhere and these are plain group-bys, so Core it is; the one dialect difference, whole hours since the epoch
of a timestamp, is a compiled construct in analytics/kpis_range.py. Buckets (hour, day, Monday weeks) are local
time, Asia/Shanghai.

Definitions (tests/analytics/test_kpis.py checks each on hand-made contacts, on both databases):
- contacts: rows started in the period (a contact is a conversation session from its first customer turn);
- bot containment: of the finished contacts (outcome not in_progress), the share the bot served alone (contained);
- transfer rate: of all contacts, the share escalated to a person; reasons counted over the escalated ones;
- fallback rate: of the customer turns, the share the bot could not place (fallbacks / turns);
- average handling time: mean handle_seconds of the contacts an agent handled (outcome agent);
- abandonment: of the escalations that ended (agent or abandoned), the share abandoned before an agent took it;
- service level: of the escalations an agent answered (wait known), the share answered within the target
  (20 s by default, backend.contact_centre.metrics.ANSWER_TARGET), as on the supervisor's live tiles;
- satisfaction: mean score (1..5) of the rated contacts, and how many rated.
A figure with nothing to count is None (shown "—"), never 0.

The Core queries themselves are in analytics/kpi_parts.py (additive sums only); a period longer than a day adds
the kept rows of its settled days to the same query over its unsettled edge (analytics/kpi_days.py: the settle
rule and why a kept day is never stale). `kept=False` runs the query over the whole period instead (the raw path).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from analytics import kpi_days
from analytics.kpi_parts import (
    QUERIES,
    TARGET_SECONDS,
    C,
    Part,
    add_rows,
    db_order,
    part_rows,
    summary_columns,
)
from analytics.kpis_range import EPOCH_MONDAY_SHIFT, KpiRange, bucket_of, epoch_hours, to_local
from backend import models as m
from backend.contact_centre.kinds import CHANNEL_LABELS, REASON_LABELS
from knowledge.catalog import catalog

CHANNEL_NAMES = {**CHANNEL_LABELS, "rest": "开放接口"}
NO_FUNCTION = "未识别业务"
NO_AREA = "未知区域"
OTHER_REASON = "其他原因"
KPI_NAMES = {  # the one set of Chinese KPI names: dashboard, alerts, reports
    "contacts": "会话量",
    "containment": "机器人独立服务率",
    "transfer_rate": "转人工率",
    "fallback_rate": "机器人未识别率",
    "handle_seconds": "平均处理时长",
    "wait_seconds": "平均应答等待",
    "abandon_rate": "放弃率",
    "service_level": "服务水平（20秒接通率）",
    "satisfaction": "满意度",
}
COMPLAINT_FUNCTIONS = frozenset({"complaint"})  # the catalog's complaint function: the report's 投诉 section
# the summary's counters, each summed per bucket; the ratios are computed from them (so totals are exact)
COUNTERS = (
    "contacts",
    "finished",
    "contained",
    "escalated",
    "handled",
    "abandoned",
    "turns",
    "fallbacks",
    "answered",
    "answered_within",
    "rated",
)
SUMS = ("wait_sum", "handle_sum", "satisfaction_sum")
Now = dt.datetime | None  # naive UTC deciding which days are settled (analytics/kpi_days.py); None: the clock
__all__ = ["C", "TARGET_SECONDS", "summary_columns"]


def channel_name(code: str | None) -> str:
    return CHANNEL_NAMES.get(code or "", "其他渠道")


def function_name(function_id: str | None) -> str:
    """The catalog's Chinese name; an id the catalog does not know is 其他业务, never shown raw."""
    if not function_id:
        return NO_FUNCTION
    f = catalog().functions.get(function_id)
    return f.name if f else "其他业务"


def reason_name(reason: str | None) -> str:
    return REASON_LABELS.get(reason or "", OTHER_REASON)


def area_names(s: Session) -> dict[str, str]:
    return {str(code): str(name) for code, name in s.execute(select(m.Area.code, m.Area.name))}


def _in_range(r: KpiRange) -> list[ColumnElement[bool]]:
    where = [C.started_at >= r.start, C.started_at < r.end]
    if r.area:
        where.append(C.area_code == r.area)
    return where


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _mean(total: float, n: float) -> float | None:
    return total / n if n else None


def period_part(
    s: Session, name: str, r: KpiRange, target_seconds: float = TARGET_SECONDS, now: Now = None, kept: bool = True
) -> Part:
    """One query's summed rows over the period: kept settled days plus the raw edge (analytics/kpi_days.py), or
    with kept=False the query over every contact of the period (the raw path, the benchmark's baseline)."""
    q = QUERIES[name]
    if kept:
        return kpi_days.period_part(s, q, r, target_seconds, now)
    part: Part = {}
    bucket = bucket_of(C.started_at, r) if q.bucketed else None
    add_rows(part, part_rows(s, q, r.start, r.end, r.area, bucket, target_seconds), len(q.keys) + q.bucketed)
    return part


def _ranked(s: Session, part: Part, limit: int) -> list[tuple[Any, list[Any]]]:
    """The keys with the highest first value, ties in the database's own order of the key (ORDER BY n DESC, key)."""
    items = [(k[0], v) for k, v in part.items()]
    seen = Counter(int(v[0]) for _, v in items)
    order = db_order(s, [k for k, v in items if seen[int(v[0])] > 1])
    items.sort(key=lambda kv: (-int(kv[1][0]), order.get(kv[0], 0)))
    return items[:limit]


def figures(counts: dict[str, float]) -> dict[str, Any]:
    """The KPI figures from summed counters (a bucket's, or the whole period's)."""
    n = {k: counts.get(k) or 0 for k in (*COUNTERS, *SUMS, "handle_n")}
    ended = n["handled"] + n["abandoned"]
    return {
        **{k: int(n[k]) for k in COUNTERS},
        "containment": _share(n["contained"], n["finished"]),
        "transfer_rate": _share(n["escalated"], n["contacts"]),
        "fallback_rate": _share(n["fallbacks"], n["turns"]),
        "handle_seconds": _mean(n["handle_sum"], n["handle_n"]),
        "wait_seconds": _mean(n["wait_sum"], n["answered"]),
        "abandon_rate": _share(n["abandoned"], ended),
        "service_level": _share(n["answered_within"], n["answered"]),
        "satisfaction": _mean(n["satisfaction_sum"], n["rated"]),
        "_sums": {k: float(n[k]) for k in (*SUMS, "handle_n")},
    }


def summary(
    s: Session, r: KpiRange, target_seconds: float = TARGET_SECONDS, now: Now = None, kept: bool = True
) -> dict[str, Any]:
    """Every bucket of the period (empty ones too) with its figures, and the period's totals."""
    labels = QUERIES["summary"].labels(target_seconds)
    part = period_part(s, "summary", r, target_seconds, now, kept)
    found = {int(key[0]): dict(zip(labels, values, strict=True)) for key, values in sorted(part.items())}
    total: dict[str, float] = {}
    for counts in found.values():
        for k, v in counts.items():
            if v is not None:
                total[k] = total.get(k, 0) + v
    series = [{"bucket": b, "label": r.label(b), **figures(found.get(b, {}))} for b in r.buckets()]
    for point in series:
        point.pop("_sums")
    totals = figures(total)
    totals.pop("_sums")
    return {"series": series, "totals": totals, "target_seconds": target_seconds}


def window_totals(
    s: Session, start: dt.datetime, end: dt.datetime, area: str | None = None, target_seconds: float = TARGET_SECONDS
) -> dict[str, Any]:
    """The figures of the contacts started between two UTC times (the alerts' sliding window)."""
    where = [C.started_at >= start, C.started_at < end] + ([C.area_code == area] if area else [])
    row = s.execute(select(*summary_columns(target_seconds)).where(*where)).one()
    totals = figures({k: v for k, v in row._mapping.items() if v is not None})
    totals.pop("_sums")
    return totals


def by_channel(s: Session, r: KpiRange, now: Now = None, kept: bool = True) -> list[dict[str, Any]]:
    """Contacts per bucket and channel (every bucket of the period, each channel that had contacts)."""
    part = period_part(s, "by_channel", r, now=now, kept=kept)
    counts = {(int(b), str(ch)): int(v[0]) for (b, ch), v in part.items()}
    totals = Counter[str]()
    for (_, ch), n in counts.items():
        totals[ch] += n
    channels = sorted(totals, key=lambda ch: (-totals[ch], ch))
    return [
        {"bucket": b, "label": r.label(b), "channel": ch, "name": channel_name(ch), "contacts": counts.get((b, ch), 0)}
        for b in r.buckets()
        for ch in channels
    ]


def channel_totals(points: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for p in points:
        t = totals.setdefault(p["channel"], {"channel": p["channel"], "name": p["name"], "contacts": 0})
        t["contacts"] += p["contacts"]
    return sorted(totals.values(), key=lambda t: -int(t["contacts"]))


def transfer_reasons(s: Session, r: KpiRange, now: Now = None, kept: bool = True) -> list[dict[str, Any]]:
    """Why contacts were escalated: each reason with its Chinese label and count, most first."""
    merged: dict[str, int] = {}
    for (reason,), (n,) in period_part(s, "transfer_reasons", r, now=now, kept=kept).items():
        merged[reason_name(reason)] = merged.get(reason_name(reason), 0) + int(n)
    return [{"name": k, "contacts": v} for k, v in sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))]


def top_functions(s: Session, r: KpiRange, limit: int = 10, now: Now = None, kept: bool = True) -> list[dict[str, Any]]:
    """The most asked service functions (catalog names), with how many the bot served alone."""
    part = period_part(s, "top_functions", r, now=now, kept=kept)
    return [
        {"function": f, "name": function_name(f), "contacts": int(n), "contained": int(contained or 0)}
        for f, (n, contained) in _ranked(s, part, limit)
    ]


def top_areas(s: Session, r: KpiRange, limit: int = 10, now: Now = None, kept: bool = True) -> list[dict[str, Any]]:
    """The areas with the most contacts (area names; contacts of no known area as 未知区域)."""
    part = period_part(s, "top_areas", r, now=now, kept=kept)
    names = area_names(s)
    return [
        {
            "area": code,
            "name": names.get(code, code) if code else NO_AREA,
            "contacts": int(count),
            "outage": int(outage or 0),
        }
        for code, (count, outage) in _ranked(s, part, limit)
    ]


def satisfaction_scores(s: Session, r: KpiRange, now: Now = None, kept: bool = True) -> list[dict[str, Any]]:
    """How many contacts rated 1..5 (every score listed)."""
    part = period_part(s, "satisfaction", r, now=now, kept=kept)
    counts = {int(score): int(n) for (score,), (n,) in part.items()}
    return [{"score": score, "name": f"{score}分", "contacts": counts.get(score, 0)} for score in range(1, 6)]


def samples(s: Session, r: KpiRange, where: ColumnElement[bool], limit: int = 8) -> list[dict[str, Any]]:
    """The latest contacts matching `where` with their (PII-masked) first words, for the report's examples."""
    rows = s.execute(
        select(C.started_at, C.channel, C.area_code, C.function, C.first_text, C.fallbacks)
        .where(*_in_range(r), where, func.length(C.first_text) > 0)
        .order_by(C.started_at.desc())
        .limit(limit)
    ).all()
    names = area_names(s)
    return [
        {
            "at": to_local(at).strftime("%m-%d %H:%M"),
            "channel": channel_name(ch),
            "area": names.get(area, area) if area else NO_AREA,
            "function": function_name(f),
            "text": text,
            "fallbacks": int(fb or 0),
        }
        for at, ch, area, f, text, fb in rows
    ]


def complaints(s: Session, r: KpiRange, limit: int = 8) -> dict[str, Any]:
    """Contacts with a complaint function: how many, and the latest samples."""
    where = C.function.in_(sorted(COMPLAINT_FUNCTIONS))
    count = s.execute(select(func.count()).where(*_in_range(r), where)).scalar_one()
    return {"contacts": int(count), "samples": samples(s, r, where, limit)}


def misunderstandings(s: Session, r: KpiRange, limit: int = 8) -> dict[str, Any]:
    """Contacts in which the bot fell back at least once: how many, and what the customers first said."""
    where = C.fallbacks > 0
    count = s.execute(select(func.count()).where(*_in_range(r), where)).scalar_one()
    return {"contacts": int(count), "samples": samples(s, r, where, limit)}


def hour_of_week_counts(s: Session, start: dt.datetime, end: dt.datetime, offset_hours: int) -> dict[int, int]:
    """Contacts per local hour-of-week (0 = Monday 00-01 .. 167) between two UTC times: the forecast's history."""
    local_hours = epoch_hours(C.started_at) + offset_hours
    how = ((local_hours // 24 + EPOCH_MONDAY_SHIFT) % 7 * 24 + local_hours % 24).cast(Integer).label("how")
    rows = s.execute(select(how, func.count()).where(C.started_at >= start, C.started_at < end).group_by(how)).all()
    return {int(h): int(n) for h, n in rows}
