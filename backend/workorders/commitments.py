"""The service-commitment table (catalog/commitments.yml) and the working-day calendar it counts in.

Times in the database are naive UTC; limits are counted on the Asia/Shanghai clock and calendar.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from backend.workorders.states import PROGRESS, OrderStatus

TZ = ZoneInfo("Asia/Shanghai")
FILE = Path(__file__).resolve().parents[2] / "catalog" / "commitments.yml"
AREA_CLASSES = ("urban", "rural", "remote")
LIMIT = re.compile(r"^(\d+)(m|h|wd)$")


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: str  # m | h | wd

    @classmethod
    def parse(cls, text: str) -> Limit:
        found = LIMIT.match(str(text).strip())
        if not found:
            raise ValueError(f"a time limit is like 45m, 2h or 1wd, not {text!r}")
        return cls(int(found.group(1)), found.group(2))

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Step:
    status: OrderStatus  # the order must have reached this status ...
    due: dt.datetime  # ... by then (naive UTC)
    allowed: dt.timedelta  # the time the step allowed, from the clock start


def to_local(utc: dt.datetime) -> dt.datetime:
    return utc.replace(tzinfo=dt.timezone.utc).astimezone(TZ)


def to_utc(local: dt.datetime) -> dt.datetime:
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


class Calendar:
    def __init__(self, holidays: set[dt.date], working_weekends: set[dt.date], opens: dt.time, closes: dt.time):
        self.holidays, self.working_weekends, self.opens, self.closes = holidays, working_weekends, opens, closes

    def working(self, day: dt.date) -> bool:
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def next_opening(self, local: dt.datetime) -> dt.datetime:
        """`local` itself inside working hours, else the next time the office opens."""
        day = local.date()
        if self.working(day) and self.opens <= local.time() < self.closes:
            return local
        if not (self.working(day) and local.time() < self.opens):
            day += dt.timedelta(days=1)
            while not self.working(day):
                day += dt.timedelta(days=1)
        return dt.datetime.combine(day, self.opens, tzinfo=TZ)

    def add_working_days(self, local: dt.datetime, n: int) -> dt.datetime:
        """The same office time n working days on (counted from the next opening when outside office hours)."""
        start = self.next_opening(local)
        day = start.date()
        for _ in range(n):
            day += dt.timedelta(days=1)
            while not self.working(day):
                day += dt.timedelta(days=1)
        return dt.datetime.combine(day, start.timetz())

    def add(self, utc: dt.datetime, limit: Limit) -> dt.datetime:
        if limit.unit == "m":
            return utc + dt.timedelta(minutes=limit.amount)
        if limit.unit == "h":
            return utc + dt.timedelta(hours=limit.amount)
        return to_utc(self.add_working_days(to_local(utc), limit.amount))


class Commitments:
    def __init__(self, raw: dict[str, Any]):
        self.raw = raw
        self.warn_at = float(raw.get("warn_at", 0.8))
        self.supervisor_after = float(raw.get("supervisor_after", 0.5))
        self.survey_delay = Limit.parse(raw.get("survey_delay", "30m"))
        self.close_after = Limit.parse(raw.get("close_after", "10m"))
        opens, closes = raw.get("working_hours") or ["09:00", "17:00"]
        self.calendar = Calendar(
            {dt.date.fromisoformat(str(d)) for d in raw.get("holidays") or []},
            {dt.date.fromisoformat(str(d)) for d in raw.get("working_weekends") or []},
            dt.time.fromisoformat(opens),
            dt.time.fromisoformat(closes),
        )
        for function_id in raw.get("functions") or {}:  # fail at start-up, not at the first order
            for priority in ("normal", "urgent"):
                for area_class in AREA_CLASSES:
                    self.limits(function_id, priority, area_class)

    @classmethod
    def from_file(cls, path: Path = FILE, env: Mapping[str, str] | None = None) -> Commitments:
        """The table; P95598_SURVEY_DELAY and P95598_CLOSE_AFTER (e.g. 0m, 2m) override its survey_delay and
        close_after (tests, demonstrations)."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        env = os.environ if env is None else env
        for key, name in (("survey_delay", "P95598_SURVEY_DELAY"), ("close_after", "P95598_CLOSE_AFTER")):
            if env.get(name, "").strip():
                raw = {**raw, key: env[name].strip()}
        return cls(raw)

    def limits(self, function_id: str, priority: str, area_class: str) -> list[tuple[OrderStatus, Limit]]:
        """The steps of one kind of order, earliest status first."""
        entry = dict((self.raw.get("functions") or {}).get(function_id) or self.raw.get("default") or {})
        urgent = entry.pop("urgent", None) or {}
        if priority == "urgent":
            entry.update(urgent)
        steps = []
        for status, value in entry.items():
            if isinstance(value, dict):
                value = value.get(area_class) or value.get("urban")
            steps.append((OrderStatus(status), Limit.parse(value)))
        return sorted(steps, key=lambda s: PROGRESS[s[0]])

    def steps(self, function_id: str, priority: str, area_class: str, clock_start: dt.datetime) -> list[Step]:
        out = []
        for status, limit in self.limits(function_id, priority, area_class):
            due = self.calendar.add(clock_start, limit)
            out.append(Step(status, due, due - clock_start))
        return out

    def next_step(
        self, function_id: str, priority: str, area_class: str, clock_start: dt.datetime, status: str
    ) -> Step | None:
        """The earliest-due step the order has not reached yet (None: every step met, nothing to chase)."""
        reached = PROGRESS.get(OrderStatus(status), 0)
        if OrderStatus(status) in (OrderStatus.AWAITING_PAYMENT, OrderStatus.CLOSED, OrderStatus.WITHDRAWN):
            return None
        todo = [s for s in self.steps(function_id, priority, area_class, clock_start) if PROGRESS[s.status] > reached]
        return min(todo, key=lambda s: s.due) if todo else None

    def close_at(self, resolved: dt.datetime) -> dt.datetime:
        return self.calendar.add(resolved, self.close_after)

    def survey_at(self, closed: dt.datetime) -> dt.datetime:
        return self.calendar.add(closed, self.survey_delay)


@lru_cache(maxsize=1)
def commitments() -> Commitments:
    return Commitments.from_file()
