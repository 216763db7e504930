"""A synthetic contact stream: `contacts` rows for tests, the dashboard and the surge benchmark.

Traffic over the 24 service areas of the seeded CIS (backend.synthetic.build_areas: A01..A24) with a daily curve
in local time (morning and afternoon peaks, an evening bump, quiet nights) and a weekly one (busier Mondays,
quieter weekends); channel, function (from the catalog, weighted), outcome, durations and satisfaction mixes;
storm days (more contacts, more outage questions in the storm's areas) and injected outages whose callers
start a few minutes after the power goes and fade out over the next hour. Everything comes from one seed, so
the same call gives the same rows; `GroundTruth` says what was injected.

Rows are built in Python and written with Core `executemany` in batches (1 million rows in well under a
minute on SQLite).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from analytics.functions import OUTAGE_FUNCTIONS as OUTAGE_RELATED
from backend.models_analytics import Contact, ContactOutcome
from backend.models_reports import forget_days
from backend.spoken import LOCAL_TZ
from backend.synthetic import build_areas
from knowledge.catalog import catalog

AREAS: tuple[str, ...] = tuple(a.code for a in build_areas())  # the seeded CIS's 24 service areas
# contacts per local hour, relative: night trough, 9-11 morning peak, 14-16 afternoon, 19-20 evening bump
HOURLY = (0.25, 0.15, 0.1, 0.1, 0.15, 0.35, 0.9, 2.0, 3.4, 4.1, 4.0, 3.5, 2.7, 2.9, 3.7, 3.9, 3.6, 3.1, 3.2, 3.6,
          3.3, 2.5, 1.4, 0.6)  # fmt: skip
WEEKLY = (1.12, 1.04, 1.0, 1.0, 0.98, 0.86, 0.8)  # Monday .. Sunday
CHANNELS = {"voice": 0.57, "chat": 0.18, "wechat": 0.25}
OUTAGE_CHANNELS = {"voice": 0.73, "chat": 0.08, "wechat": 0.19}  # no power: people phone
FUNCTION_WEIGHTS = {  # share of normal traffic by function; catalog functions not named here share what is left
    "bill_query": 0.17, "fault_repair": 0.1, "payment": 0.09, "balance_query": 0.08, "outage_query": 0.06,
    "arrears_reconnect": 0.05, "progress_query": 0.05, "meter_issue": 0.04, "human_agent": 0.06,
    "complaint": 0.03, "tariff_query": 0.03, "out_of_scope": 0.03,
}  # fmt: skip
OUTAGE_TEXTS = (
    "我家停电了", "我们小区整片都没电了", "家里突然没电了，邻居家也没有", "停电了什么时候来电", "整条街都停电了",
    "刚才啪的一声就停电了", "我们村停电了", "怎么又停电了", "楼里全黑了是不是停电了", "几点能来电啊",
)  # fmt: skip
TRANSFER_REASONS = ("customer_request", "not_understood", "form_failed", "anger", "safety")
BATCH = 20_000
UNIX_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class InjectedOutage:
    """An outage nobody announced: its customers start calling a few minutes after `start` (UTC naive)."""

    area_code: str
    start: dt.datetime
    end: dt.datetime
    customers_affected: int

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class GroundTruth:
    start: dt.datetime  # UTC naive, the first local midnight
    days: int
    seed: int
    contacts: int
    storm_days: tuple[int, ...]  # day indexes from `start`
    storm_areas: tuple[str, ...]
    outages: tuple[InjectedOutage, ...]
    outage_contacts: int  # rows caused by the injected outages
    key_prefix: str  # contact_key prefix of these rows (delete_generated removes them)
    areas: tuple[str, ...] = AREAS

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(days=self.days)

    def normal_days(self) -> list[int]:
        """Days with no storm and no injected outage (false alarms on them are plain false alarms)."""
        busy = {(o.start - self.start).days for o in self.outages} | {(o.end - self.start).days for o in self.outages}
        return [d for d in range(self.days) if d not in self.storm_days and d not in busy]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(start=self.start.isoformat(), outages=[o.to_json() for o in self.outages])
        return d

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")


@dataclass
class _Mix:
    names: list[str]
    cum: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, weights: dict[str, float]) -> _Mix:
        mix, total = cls(list(weights)), 0.0
        for w in weights.values():
            total += w
            mix.cum.append(total)
        return mix

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.names, cum_weights=self.cum, k=k)


def local_midnight_utc(day: dt.date) -> dt.datetime:
    """The UTC naive instant of local midnight starting `day`."""
    return dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(dt.timezone.utc).replace(tzinfo=None)


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def function_weights() -> dict[str, float]:
    """FUNCTION_WEIGHTS over every catalog function (the ones not named share the remainder evenly)."""
    ids = [f for f in catalog().functions if f in FUNCTION_WEIGHTS or f not in ("greet", "goodbye")]
    rest = [f for f in ids if f not in FUNCTION_WEIGHTS]
    left = max(0.0, 1.0 - sum(FUNCTION_WEIGHTS.values()))
    return {f: FUNCTION_WEIGHTS.get(f, left / max(1, len(rest))) for f in ids}


def utterances() -> dict[str, list[str]]:
    """What customers say first, per function: the catalog's synonyms (its one home)."""
    return {fid: list(f.synonyms) or [f.name] for fid, f in catalog().functions.items()}


def area_weights(rng: random.Random) -> dict[str, float]:
    """Bigger and smaller areas: a fixed spread of relative traffic from the seed."""
    return {code: rng.uniform(0.6, 1.6) for code in AREAS}


def random_outages(
    seed: int,
    start: dt.datetime,
    days: int,
    *,
    per_day: float = 0.4,
    storm_days: Sequence[int] = (),
    per_storm: int = 8,
) -> list[InjectedOutage]:
    """Outages at random times in random areas: `per_day` on average on normal days, `per_storm` on storm days."""
    rng, out = random.Random(seed * 7919 + 1), []
    for day in range(days):
        n = per_storm if day in storm_days else poisson(rng, per_day)
        for _ in range(n):
            begin = start + dt.timedelta(days=day, minutes=rng.randint(0, 24 * 60 - 90))
            length = dt.timedelta(minutes=rng.randint(60, 300))
            affected = int(math.exp(rng.uniform(math.log(300), math.log(4000))))
            out.append(InjectedOutage(rng.choice(AREAS), begin, begin + length, affected))
    return sorted(out, key=lambda o: o.start)


def generate(
    sessions: sessionmaker[Session],
    start: dt.date,
    days: int,
    contacts_per_day: int,
    seed: int = 18,
    *,
    storm_days: Sequence[int] = (),
    outages: Sequence[InjectedOutage] = (),
    call_rate: float = 0.06,
    announce_after: dt.timedelta | None = dt.timedelta(minutes=20),
) -> GroundTruth:
    """Writes `days` of contacts from local midnight of `start` (about `contacts_per_day` on an average day).

    `call_rate`: the share of an outage's affected customers who contact us. `announce_after`: from that long
    after an outage starts its callers are told about it (told_outage, fewer need an agent); None: never.
    Rows of an earlier run with the same seed are replaced."""
    rng = random.Random(seed)
    origin = local_midnight_utc(start)
    prefix = f"syn{seed}-"
    delete_generated(sessions, prefix)
    storm_areas = tuple(sorted(rng.sample(AREAS, len(AREAS) // 2))) if storm_days else ()
    writer = _RowWriter(rng, prefix, area_weights(rng))
    total = outage_total = 0
    with sessions.begin() as s:
        forget_days(s)  # Core bulk inserts pass by the ORM hook that forgets kept KPI days: forget them all here
        for batch in _batches(writer.normal(origin, days, contacts_per_day, set(storm_days), set(storm_areas))):
            s.execute(insert(Contact), batch)
            total += len(batch)
        for o in outages:
            rows = writer.outage(o, call_rate, announce_after)
            for batch in _batches(iter(rows)):
                s.execute(insert(Contact), batch)
            total += len(rows)
            outage_total += len(rows)
    return GroundTruth(origin, days, seed, total, tuple(storm_days), storm_areas, tuple(outages), outage_total, prefix)


def delete_generated(sessions: sessionmaker[Session], prefix: str = "syn") -> int:
    """Removes generated rows (all of them, or one seed's with prefix "syn<seed>-")."""
    with sessions.begin() as s:
        forget_days(s)
        return int(s.execute(delete(Contact).where(Contact.contact_key.startswith(prefix))).rowcount or 0)  # type: ignore[attr-defined]


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class _RowWriter:
    """Builds contact rows; one random stream, so the rows follow from the seed alone."""

    def __init__(self, rng: random.Random, prefix: str, areas: dict[str, float]):
        self.rng, self.prefix, self.n = rng, prefix, 0
        self.areas = _Mix.of(areas)
        self.channels, self.outage_channels = _Mix.of(CHANNELS), _Mix.of(OUTAGE_CHANNELS)
        self.functions = _Mix.of(function_weights())
        self.texts = utterances()
        self.offset = dt.timedelta(hours=8)  # Asia/Shanghai keeps no summer time
        scale = sum(HOURLY)
        self.hourly = [h / scale for h in HOURLY]
        self.weekly = [w * 7 / sum(WEEKLY) for w in WEEKLY]

    def normal(
        self, origin: dt.datetime, days: int, per_day: int, storm_days: set[int], storm_areas: set[str]
    ) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for hour in range(days * 24):
            at = origin + dt.timedelta(hours=hour)
            local = at + self.offset
            storm = hour // 24 in storm_days
            lam = per_day * self.hourly[local.hour] * self.weekly[local.weekday()] * (1.3 if storm else 1.0)
            n = poisson(rng, lam)
            areas, channels, functions = (
                self.areas.draw(rng, n),
                self.channels.draw(rng, n),
                self.functions.draw(rng, n),
            )
            for i in range(n):
                function, area = functions[i], areas[i]
                if storm and area in storm_areas and function not in OUTAGE_RELATED and rng.random() < 0.12:
                    function = "fault_repair" if rng.random() < 0.6 else "outage_query"  # flickers, worried callers
                known = rng.random() < 0.8
                yield self.row(at + dt.timedelta(seconds=rng.random() * 3600), area if known else None,
                               channels[i], function, self.pick(function), storm=storm)  # fmt: skip

    def outage(self, o: InjectedOutage, call_rate: float, announce_after: dt.timedelta | None) -> list[dict[str, Any]]:
        """Contacts caused by one outage: a lag of a couple of minutes, a peak within about 15, a long tail."""
        rng, rows = self.rng, []
        n = poisson(rng, o.customers_affected * call_rate)
        channels = self.outage_channels.draw(rng, n)
        for i in range(n):
            delay = dt.timedelta(minutes=1.5 + rng.gammavariate(1.6, 9.0))
            at = o.start + delay
            if at > o.end + dt.timedelta(minutes=30):
                continue
            told = announce_after is not None and delay >= announce_after
            function = "fault_repair" if rng.random() < 0.62 else "outage_query"
            text = rng.choice(OUTAGE_TEXTS) if rng.random() < 0.6 else self.pick(function)
            area = o.area_code if rng.random() < 0.85 else None
            rows.append(self.row(at, area, channels[i], function, text, told=told, storm=True))
        return rows

    def pick(self, function: str) -> str:
        texts = self.texts.get(function) or [function]
        return texts[int(self.rng.random() * len(texts))]

    def row(
        self, at: dt.datetime, area: str | None, channel: str, function: str, text: str, *, told: bool = False,
        storm: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        rng = self.rng
        self.n += 1
        outage = function in OUTAGE_RELATED
        agent_share = 0.12 if told else (0.42 if outage else 0.22) + (0.1 if channel == "voice" else 0.0)
        roll = rng.random()
        outcome = (
            ContactOutcome.AGENT
            if roll < agent_share or function == "human_agent"
            else ContactOutcome.ABANDONED
            if roll < agent_share + (0.09 if storm else 0.05)
            else ContactOutcome.CONTAINED
        )
        agent = outcome == ContactOutcome.AGENT
        wait = rng.expovariate(1 / (150.0 if storm else 35.0)) if agent else None
        handle = rng.lognormvariate(5.6, 0.45) if agent else rng.lognormvariate(4.6, 0.6)
        ended = at + dt.timedelta(seconds=handle + (wait or 0.0))
        rated = outcome != ContactOutcome.ABANDONED and rng.random() < 0.3
        score = min(5, max(1, round(rng.gauss(4.4 if outcome == ContactOutcome.CONTAINED else 4.0, 0.9))))
        turns = 2 + int(rng.expovariate(1 / 3.0))
        fallbacks = int(rng.random() < 0.12) + int(rng.random() < 0.04)
        ms = int((at - UNIX_EPOCH).total_seconds() * 1000)
        return {
            "contact_key": f"{self.prefix}{self.n}:{ms}",
            "conversation_id": f"{self.prefix}{self.n}",
            "channel": channel,
            "area_code": area,
            "account_no": f"32{AREAS.index(area) + 1:02d}{self.n % 1_000_000:06d}"
            if area and rng.random() < 0.6
            else None,
            "started_at": at,
            "ended_at": ended,
            "function": function,
            "outage_related": outage,
            "turns": turns,
            "fallbacks": min(fallbacks, turns),
            "escalated": agent,
            "transfer_reason": TRANSFER_REASONS[int(rng.random() * len(TRANSFER_REASONS))] if agent else None,
            "outcome": outcome.value,
            "wait_seconds": wait,
            "handle_seconds": handle,
            "satisfaction": score if rated else None,
            "first_text": text[:200],
            "told_outage": told,
        }


def cli(argv: list[str]) -> None:
    """python -m analytics synth --days 30 --contacts 1000000 [--start 2026-11-01] [--seed 18] [--storm-day 12]
    [--outages-per-day 0.4] [--truth var/synthetic_truth.json] [--url DB]: writes the stream, prints a summary."""
    import argparse
    import time

    from backend.db import make_engine, make_sessionmaker

    p = argparse.ArgumentParser(prog="python -m analytics synth")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--contacts", type=int, default=100_000, help="total over all days")
    p.add_argument("--start", type=dt.date.fromisoformat, default=None, help="first local day (default: days ago)")
    p.add_argument("--seed", type=int, default=18)
    p.add_argument("--storm-day", type=int, action="append", default=[], help="day index from the start")
    p.add_argument("--outages-per-day", type=float, default=0.4)
    p.add_argument("--truth", type=Path, default=Path("var/synthetic_truth.json"))
    p.add_argument("--url", default=None, help="database URL (default: P95598_DB_URL)")
    a = p.parse_args(argv)
    if a.days < 1 or a.contacts < 0:
        p.error("--days must be at least 1 and --contacts not negative")
    start = a.start or (dt.datetime.now(LOCAL_TZ).date() - dt.timedelta(days=a.days))
    origin = local_midnight_utc(start)
    engine = make_engine(a.url)
    try:
        began = time.perf_counter()
        outages = random_outages(a.seed, origin, a.days, per_day=a.outages_per_day, storm_days=a.storm_day)
        truth = generate(
            make_sessionmaker(engine), start, a.days, a.contacts // a.days, a.seed,
            storm_days=a.storm_day, outages=outages,
        )  # fmt: skip
        took = time.perf_counter() - began
    finally:
        engine.dispose()
    truth.save(a.truth)
    print(f"{truth.contacts} contacts over {a.days} days from {start} ({len(truth.outages)} outages, "
          f"{truth.outage_contacts} outage contacts) in {took:.1f} s; ground truth in {a.truth}")  # fmt: skip
