"""The period a KPI query covers: local dates (Asia/Shanghai, both included), a grain (hour, day or week) and an
optional service area; checked once here, so the console, the CLI and the reports refuse the same bad input with
the same Chinese sentence.

Buckets are integers counted in local time from the epoch: local hours, local days, or weeks starting on Monday.
The SQL side (`bucket_of`) computes the same integer from the stored naive-UTC `started_at` on SQLite and on
PostgreSQL; `label` and `starts` turn a bucket back into what a person reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from backend.spoken import LOCAL_TZ

EPOCH = dt.datetime(1970, 1, 1)
EPOCH_MONDAY_SHIFT = 3  # 1970-01-01 was a Thursday: (local day + 3) // 7 counts weeks from Monday


class Grain(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"


GRAIN_LABELS = {Grain.HOUR: "按小时", Grain.DAY: "按天", Grain.WEEK: "按周"}
MAX_DAYS = {Grain.HOUR: 31, Grain.DAY: 366, Grain.WEEK: 366}  # beyond that a chart is unreadable


class RangeError(ValueError):
    """Bad period or area: the message is the Chinese sentence shown to the person who asked (a 400)."""


@dataclass(frozen=True)
class KpiRange:
    first: dt.date  # local, included
    last: dt.date  # local, included
    grain: Grain = Grain.DAY
    area: str | None = None

    @property
    def start(self) -> dt.datetime:
        """Naive UTC of the first local midnight (what the database stores)."""
        return to_utc(dt.datetime.combine(self.first, dt.time()))

    @property
    def end(self) -> dt.datetime:
        """Naive UTC of the local midnight after the last day (excluded)."""
        return to_utc(dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time()))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def offset_hours(self) -> int:
        """Local time minus UTC, in hours, for this range. Asia/Shanghai has had no daylight saving since 1991, so
        one offset holds for the whole range; a zone with DST would need the offset per row."""
        local = dt.datetime.combine(self.first, dt.time(12), tzinfo=LOCAL_TZ)
        offset = local.utcoffset() or dt.timedelta()
        return int(offset.total_seconds() // 3600)

    def buckets(self) -> list[int]:
        """Every bucket of the range in order (empty ones included, so a chart shows the quiet hours too)."""
        first_hour = _local_hours(dt.datetime.combine(self.first, dt.time()))
        last_hour = _local_hours(dt.datetime.combine(self.last, dt.time(23)))
        if self.grain == Grain.HOUR:
            return list(range(first_hour, last_hour + 1))
        first_day, last_day = first_hour // 24, last_hour // 24
        if self.grain == Grain.DAY:
            return list(range(first_day, last_day + 1))
        return list(range((first_day + EPOCH_MONDAY_SHIFT) // 7, (last_day + EPOCH_MONDAY_SHIFT) // 7 + 1))

    def starts(self, bucket: int) -> dt.datetime:
        """The local (naive) time a bucket starts."""
        if self.grain == Grain.HOUR:
            return EPOCH + dt.timedelta(hours=bucket)
        if self.grain == Grain.DAY:
            return EPOCH + dt.timedelta(days=bucket)
        return EPOCH + dt.timedelta(days=bucket * 7 - EPOCH_MONDAY_SHIFT)

    def label(self, bucket: int) -> str:
        at = self.starts(bucket)
        if self.grain == Grain.HOUR:
            return f"{at.month}月{at.day}日 {at.hour:02d}时"
        if self.grain == Grain.DAY:
            return f"{at.month}月{at.day}日"
        return f"{at.month}月{at.day}日起一周"

    def describe(self) -> str:
        """ "2026年11月23日至11月29日（按天）"."""
        last = f"{self.last.month}月{self.last.day}日"
        if self.last.year != self.first.year:
            last = f"{self.last.year}年{last}"
        return f"{self.first.year}年{self.first.month}月{self.first.day}日至{last}（{GRAIN_LABELS[self.grain]}）"

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "grain": self.grain.value,
            "area": self.area,
            "text": self.describe(),
        }


def to_utc(local_naive: dt.datetime) -> dt.datetime:
    return local_naive.replace(tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc).replace(tzinfo=None)


def to_local(utc_naive: dt.datetime) -> dt.datetime:
    """Naive local time of a naive UTC time."""
    return utc_naive.replace(tzinfo=dt.timezone.utc).astimezone(LOCAL_TZ).replace(tzinfo=None)


def _local_hours(local_naive: dt.datetime) -> int:
    return int((local_naive - EPOCH).total_seconds() // 3600)


def _date(value: str | dt.date | None, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise RangeError(f"{what}的格式不对，请用 年-月-日，例如 2026-11-23。") from None


def parse_range(
    first: str | dt.date | None,
    last: str | dt.date | None,
    grain: str | None = None,
    area: str | None = None,
    known_areas: Iterable[str] | None = None,
) -> KpiRange:
    """The checked range, or RangeError with the sentence to show: a start after the end, an unknown area, a range
    longer than the grain allows, a grain that does not exist."""
    try:
        g = Grain(grain or Grain.DAY)
    except ValueError:
        raise RangeError("统计粒度只能是按小时、按天或按周。") from None
    a, b = _date(first, "开始日期"), _date(last, "结束日期")
    if a > b:
        raise RangeError("开始日期晚于结束日期，请重新选择。")
    if (b - a).days + 1 > MAX_DAYS[g]:
        limit = MAX_DAYS[g]
        raise RangeError(f"{GRAIN_LABELS[g]}统计最多选{limit}天，请缩小日期范围。")
    code = (area or "").strip() or None
    if code is not None and known_areas is not None and code not in set(known_areas):
        raise RangeError(f"没有编号为 {code[:16]} 的供电区域。")
    return KpiRange(a, b, g, code)


class epoch_hours(FunctionElement[int]):
    """Whole hours from 1970-01-01 00:00 to a naive timestamp column, the same integer on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True
    name = "epoch_hours"


@compiles(epoch_hours, "sqlite")
def _epoch_hours_sqlite(element: epoch_hours, compiler: Any, **kw: Any) -> str:
    # julianday() is several times faster than strftime('%s') over a month of rows; its double carries ~0.1 ms
    # of error at today's dates, so half a millisecond is added before truncating to whole seconds
    column = compiler.process(element.clauses, **kw)
    return f"(CAST((julianday({column}) - 2440587.5) * 86400.0 + 0.0005 AS INTEGER) / 3600)"


@compiles(epoch_hours, "postgresql")
def _epoch_hours_postgresql(element: epoch_hours, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor(extract(epoch from {compiler.process(element.clauses, **kw)}) / 3600) AS INTEGER)"


def bucket_of(column: Any, r: KpiRange) -> ColumnElement[int]:
    """The SQL expression of a row's bucket (see the module docstring), to group by."""
    local_hours = epoch_hours(column) + r.offset_hours()
    if r.grain == Grain.HOUR:
        return local_hours
    local_days = local_hours // 24
    if r.grain == Grain.DAY:
        return local_days
    return (local_days + EPOCH_MONDAY_SHIFT) // 7
