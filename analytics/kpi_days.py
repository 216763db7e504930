"""Kept results of settled days: a long period's KPIs without aggregating every one of its contacts each time.

Every KPI query (analytics/kpi_parts.py) sums additive values, so a period is the sum of its days. The rows of one
*settled* local day (Asia/Shanghai), grouped by local hour for the per-bucket queries (summary, by channel) or over
the day for the rankings, are computed once by the same Core query and kept in `kpi_day_results`; a period is
then its kept days plus the same query over its unsettled edge (and over a partial first or last day).

The settle rule: a local day is settled SETTLE_AFTER (2 days) after it ends. That is the horizon after which the
analytics feed's periodic refresh (analytics/contacts.py REFRESH_HORIZON) stops settling contacts: before it, a
contact may still close after 30 idle minutes, be claimed or closed by an agent (outcome, wait, handling time) or
get a bot rating, and the feed does that every few seconds. After it a contact can still change, rarely: a
follow-up survey (回访) answered days later, or the feed catching up after a long stop. Those changes go through
the ORM, and backend.models_reports forgets the kept results of the contact's day in the same transaction (Core
bulk writes, the synthetic generator's, call forget_days); the next query computes that day again.

Whoever finds a day missing computes and stores it: the first dashboard or report request, or the analytics
process's periodic task (`keep_task`, whole-centre results of the last KEEP_DAYS settled days). Storing is a
separate short transaction; when another process stored the day first, or the database is busy, the computed
rows are used and not stored. One window is left open: on PostgreSQL (read committed) a late change committed
while a day is being computed for the first time, after the computation read the contacts, forgets nothing and
the stored day misses it; under the settle rule that needs a change to a day over 2 days old within the same
fraction of a second as that day's first computation.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from analytics.contacts import REFRESH_HORIZON
from analytics.kpi_parts import QUERIES, TARGET_SECONDS, C, Part, PartQuery, add, add_rows, local_hour, part_rows
from analytics.kpis_range import EPOCH, EPOCH_MONDAY_SHIFT, Grain, KpiRange, bucket_of, to_local, to_utc
from backend.model_base import utcnow
from backend.models_reports import KpiDayResult

log = logging.getLogger(__name__)
SETTLE_AFTER = REFRESH_HORIZON
KEEP_DAYS = 35  # the periodic task keeps this many settled days (a month's dashboard, the forecast's 4 weeks)
KEEP_PER_RUN = 3  # days the periodic task computes per query and run, so it never holds the process for long
T = KpiDayResult.__table__.c
Rows = list[list[Any]]


def last_settled(now: dt.datetime) -> dt.date:
    """The last local day settled at `now` (naive UTC): its end plus SETTLE_AFTER has passed."""
    return to_local(now - SETTLE_AFTER).date() - dt.timedelta(days=1)


def _midnight(day: dt.date) -> dt.datetime:
    return to_utc(dt.datetime.combine(day, dt.time()))


def _offset(day: dt.date) -> int:
    return KpiRange(day, day).offset_hours()


def period_part(
    s: Session, q: PartQuery, r: KpiRange, target_seconds: float = TARGET_SECONDS, now: dt.datetime | None = None
) -> Part:
    """The query's rows over a period, keyed by (period bucket?, *keys): kept days plus the raw edge."""
    week = r.grain == Grain.WEEK

    def to_bucket(hour: int) -> int:
        if r.grain == Grain.HOUR:
            return hour
        return (hour // 24 + EPOCH_MONDAY_SHIFT) // 7 if week else hour // 24

    bucket = bucket_of(C.started_at, r)
    if r.grain == Grain.HOUR and r.days == 1:  # one day by hour stays raw
        part: Part = {}
        rows = part_rows(s, q, r.start, r.end, r.area, bucket if q.bucketed else None, target_seconds)
        add_rows(part, rows, len(q.keys) + (1 if q.bucketed else 0))
        return part
    return window_part(s, q, r.start, r.end, r.area, bucket, to_bucket, target_seconds, now)


def window_part(
    s: Session,
    q: PartQuery,
    start: dt.datetime,
    end: dt.datetime,
    area: str | None,
    bucket: Any,
    to_bucket: Callable[[int], int],
    target_seconds: float = TARGET_SECONDS,
    now: dt.datetime | None = None,
) -> Part:
    """Rows over [start, end) (naive UTC) grouped by `bucket` (an SQL expression; `to_bucket` maps a local hour
    to the same bucket): the kept settled whole local days inside, plus the same query over the rest."""
    nkeys = len(q.keys) + (1 if q.bucketed else 0)
    raw_bucket = bucket if q.bucketed else None
    first = to_local(start).date() + dt.timedelta(days=0 if to_local(start).time() == dt.time() else 1)
    last = min(to_local(end).date() - dt.timedelta(days=1), last_settled(now or utcnow()))
    part: Part = {}
    if first > last:
        add_rows(part, part_rows(s, q, start, end, area, raw_bucket, target_seconds), nkeys)
        return part
    for a, b in ((start, _midnight(first)), (_midnight(last + dt.timedelta(days=1)), end)):
        if a < b:
            add_rows(part, part_rows(s, q, a, b, area, raw_bucket, target_seconds), nkeys)
    for rows in kept(s, q, area, first, last, target_seconds).values():
        for row in rows:
            key = (to_bucket(int(row[0])), *row[1:nkeys]) if q.bucketed else tuple(row[: len(q.keys)])
            add(part, key, row[nkeys:] if q.bucketed else row[len(q.keys) :])
    return part


def kept(
    s: Session, q: PartQuery, area: str | None, first: dt.date, last: dt.date, target_seconds: float = TARGET_SECONDS
) -> dict[dt.date, Rows]:
    """The kept rows of each local day first..last (all settled), computing and storing the missing ones."""
    key, code = q.key(target_seconds), area or ""
    found: dict[dt.date, Rows] = {
        day: json.loads(result)
        for day, result in s.execute(
            select(T.day, T.result).where(T.query == key, T.area_code == code, T.day >= first, T.day <= last)
        )
    }
    missing = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    missing = [d for d in missing if d not in found]
    runs: list[list[dt.date]] = []
    for day in missing:
        if runs and runs[-1][-1] + dt.timedelta(days=1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    for run in runs:
        computed = compute_days(s, q, area, run[0], run[-1], target_seconds)
        found.update(computed)
        store(s, key, code, computed)
    return found


def compute_days(
    s: Session, q: PartQuery, area: str | None, first: dt.date, last: dt.date, target_seconds: float = TARGET_SECONDS
) -> dict[dt.date, Rows]:
    """The rows of each local day first..last from the contacts: by local hour (bucketed queries) or by day."""
    hour = local_hour(_offset(first))
    bucket = hour if q.bucketed else hour // 24
    rows = part_rows(s, q, _midnight(first), _midnight(last + dt.timedelta(days=1)), area, bucket, target_seconds)
    days: dict[dt.date, Rows] = {first + dt.timedelta(days=i): [] for i in range((last - first).days + 1)}
    for row in rows:
        local_days = int(row[0]) // 24 if q.bucketed else int(row[0])
        day = (EPOCH + dt.timedelta(days=local_days)).date()
        days[day].append([int(row[0]), *row[1:]] if q.bucketed else list(row[1:]))
    return days


def store(s: Session, key: str, area_code: str, days: dict[dt.date, Rows]) -> bool:
    """Keeps computed days in a short transaction of its own (the caller's session only reads)."""
    if not days:
        return False
    bind = s.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    values = [
        {"query": key, "area_code": area_code, "day": day, "result": json.dumps(rows), "computed_at": utcnow()}
        for day, rows in days.items()
    ]
    try:
        with Session(engine) as w, w.begin():
            w.execute(insert(KpiDayResult), values)
    except (IntegrityError, OperationalError) as e:  # stored first by another process, or busy: next time
        log.info("kpi days %s not kept (%s)", key, e.__class__.__name__)
        return False
    return True


def keep_recent(
    sessions: sessionmaker[Session], now: dt.datetime, days: int = KEEP_DAYS, per_run: int = KEEP_PER_RUN
) -> int:
    """Keeps the whole-centre results of the last `days` settled days, at most `per_run` new days per query and
    run (latest first); the number of days computed."""
    last = last_settled(now)
    first = last - dt.timedelta(days=days - 1)
    done = 0
    with sessions() as s:
        for q in QUERIES.values():
            key = q.key(TARGET_SECONDS)
            have = set(s.scalars(select(T.day).where(T.query == key, T.area_code == "", T.day >= first)))
            wanted = [last - dt.timedelta(days=i) for i in range(days)]
            for day in [d for d in wanted if d not in have][:per_run]:
                store(s, key, "", compute_days(s, q, None, day, day))
                done += 1
    return done


def keep_task(sessions: sessionmaker[Session]) -> Callable[[dt.datetime], object]:
    """The analytics process's periodic task (analytics.__main__.periodic_tasks)."""

    def task(now: dt.datetime) -> object:
        return keep_recent(sessions, now)

    return task
