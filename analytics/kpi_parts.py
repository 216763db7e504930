"""The Core queries behind the KPI dashboard, written once: each groups the contacts of a time window by a bucket
(or none) and its own keys, and sums additive values (counts and sums, never ratios or means).

Because every value is a sum, the rows of two windows add up to the rows of the two together: the raw path runs a
query over the whole period grouped by the period's buckets; the kept-days path (analytics/kpi_days.py) runs the
*same* query over one settled local day grouped by local hour (or by day), keeps the rows, and adds the rows of the
kept days to those of the same query over the unsettled edge. analytics/kpis.py turns the added rows into answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from analytics.kpis_range import epoch_hours
from backend.contact_centre.metrics import ANSWER_TARGET
from backend.models_analytics import Contact, ContactOutcome

C = Contact.__table__.c
TARGET_SECONDS = ANSWER_TARGET.total_seconds()
Key = tuple[Any, ...]
Part = dict[Key, list[Any]]  # (bucket?, *keys) -> summed values, in the query's value order


def count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def sum_if(condition: ColumnElement[bool], value: Any) -> Any:
    return func.sum(case((condition, value), else_=None))


def summary_columns(target_seconds: float = TARGET_SECONDS) -> list[Any]:
    is_agent = C.outcome == ContactOutcome.AGENT
    answered = and_(C.escalated, C.wait_seconds.is_not(None))
    return [
        func.count().label("contacts"),
        count_if(C.outcome != ContactOutcome.IN_PROGRESS).label("finished"),
        count_if(C.outcome == ContactOutcome.CONTAINED).label("contained"),
        count_if(C.escalated).label("escalated"),
        count_if(is_agent).label("handled"),
        count_if(C.outcome == ContactOutcome.ABANDONED).label("abandoned"),
        func.sum(C.turns).label("turns"),
        func.sum(C.fallbacks).label("fallbacks"),
        count_if(answered).label("answered"),
        count_if(and_(answered, C.wait_seconds <= target_seconds)).label("answered_within"),
        count_if(C.satisfaction.is_not(None)).label("rated"),
        sum_if(answered, C.wait_seconds).label("wait_sum"),
        sum_if(and_(is_agent, C.handle_seconds.is_not(None)), C.handle_seconds).label("handle_sum"),
        count_if(and_(is_agent, C.handle_seconds.is_not(None))).label("handle_n"),
        func.sum(C.satisfaction).label("satisfaction_sum"),
    ]


def _count(_target: float) -> list[Any]:
    return [func.count().label("n")]


def _no_filter() -> list[ColumnElement[bool]]:
    return []


@dataclass(frozen=True)
class PartQuery:
    name: str
    keys: tuple[str, ...]  # contacts columns grouped by, besides the bucket
    bucketed: bool  # per bucket (hour, day, week) or over the whole period
    values: Callable[[float], list[Any]] = _count  # labelled additive aggregates, given the service-level target
    where: Callable[[], list[ColumnElement[bool]]] = field(default=_no_filter)

    def key(self, target_seconds: float) -> str:
        """The name its kept days are stored under (the summary's depend on the service-level target)."""
        return f"{self.name}@{target_seconds:g}" if self.name == "summary" else self.name

    def labels(self, target_seconds: float = TARGET_SECONDS) -> list[str]:
        return [str(c.name) for c in self.values(target_seconds)]


QUERIES = {
    q.name: q
    for q in (
        PartQuery("summary", (), True, summary_columns),
        PartQuery("by_channel", ("channel",), True),
        PartQuery("transfer_reasons", ("transfer_reason",), False, where=lambda: [C.escalated]),
        PartQuery(
            "top_functions",
            ("function",),
            False,
            lambda _t: [func.count().label("n"), count_if(C.outcome == ContactOutcome.CONTAINED).label("contained")],
        ),
        PartQuery(
            "top_areas",
            ("area_code",),
            False,
            lambda _t: [func.count().label("n"), count_if(C.outage_related).label("outage")],
        ),
        PartQuery("satisfaction", ("satisfaction",), False, where=lambda: [C.satisfaction.is_not(None)]),
    )
}


def local_hour(offset_hours: int) -> ColumnElement[int]:
    """A row's local hour counted from the epoch (the kept days' bucket)."""
    return epoch_hours(C.started_at) + offset_hours


def part_rows(
    s: Session,
    q: PartQuery,
    start: dt.datetime,
    end: dt.datetime,
    area: str | None,
    bucket: ColumnElement[int] | None,
    target_seconds: float = TARGET_SECONDS,
) -> list[tuple[Any, ...]]:
    """The query over the contacts started in [start, end) (naive UTC): rows of (bucket?, *keys, *values)."""
    group: list[Any] = ([bucket.label("bucket")] if bucket is not None else []) + [C[k] for k in q.keys]
    where = [C.started_at >= start, C.started_at < end] + ([C.area_code == area] if area else []) + q.where()
    stmt = select(*group, *q.values(target_seconds)).where(*where)
    if group:
        stmt = stmt.group_by(*group)
    return [tuple(row) for row in s.execute(stmt)]


def add(part: Part, key: Key, values: Sequence[Any]) -> None:
    """Adds one row's values to a part (a sum over no rows is NULL: None plus x is x)."""
    have = part.get(key)
    if have is None:
        part[key] = list(values)
    else:
        part[key] = [b if a is None else a if b is None else a + b for a, b in zip(have, values, strict=True)]


def add_rows(part: Part, rows: Sequence[Sequence[Any]], nkeys: int) -> None:
    for row in rows:
        add(part, tuple(row[:nkeys]), row[nkeys:])


def db_order(s: Session, values: Sequence[str | None]) -> dict[str | None, int]:
    """Each value's place in the database's own ascending ORDER BY (its collation and where it puts NULL), so a
    ranking merged in Python breaks ties exactly as `ORDER BY n DESC, column` does on that database."""
    if len(values) < 2:
        return dict.fromkeys(values, 0)
    literals = [select(cast(literal(v) if v is not None else null(), String).label("k")) for v in values]
    u = union_all(*literals).subquery()
    return {v: i for i, v in enumerate(s.scalars(select(u.c.k).order_by(u.c.k)))}
