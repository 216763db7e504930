"""Surge -> outage pre-judgment on a storm replay (issue 18): detection delay, incident precision and recall,
false alarms per normal day, for the Poisson rule (analytics.surge) beside a fixed-threshold rule.

    python -m benchmarks.proactive.run [--history 14] [--days 6] [--per-day 20000] [--storm-day 2] [--seed 18]

A scratch SQLite database gets `history + days` days of synthetic contacts (analytics.synthetic: 24 areas,
daily and weekly curves, unannounced outages about every other day in history, 1.2 a day in the replay, eight
on the storm day). Then the replay days are played minute by minute through the real detector (Detector.run
on the database, one pass a minute, the baseline relearnt hourly); a simulated dispatcher decides each incident
30 minutes after it opens (confirmed if an injected outage explains it, else dismissed), as a duty officer
would. Each rule runs on its own copy of the database.

An outage is detected when an incident holding its area opens between its start and 30 minutes after its
end; the delay is from the outage's start. An incident is a true one when an injected outage of one of its
areas was under way (from 10 minutes before its start to 30 minutes after its end). False alarms are
counted per normal day (no storm, no outage).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from analytics import incidents
from analytics.surge import Detector, SurgeRule
from analytics.synthetic import GroundTruth, InjectedOutage, generate, local_midnight_utc, random_outages
from backend.db import make_engine, make_sessionmaker, upgrade
from backend.models_incidents import IncidentStatus
from backend.synthetic import build_areas
from benchmarks.common import command_line, percentile, table, write_results

HERE = Path(__file__).resolve().parent
RULES = {
    "poisson (p<1e-5, k>=5, hour-of-week baseline)": SurgeRule(),
    "fixed threshold (k>=8 in 5 min, no baseline)": SurgeRule(p_open=1.0, p_continue=1.0, min_count=8),
}
DECIDE_AFTER = dt.timedelta(minutes=30)
GRACE = dt.timedelta(minutes=30)


def explains(o: InjectedOutage, areas: list[str], at: dt.datetime) -> bool:
    return o.area_code in areas and o.start - dt.timedelta(minutes=10) <= at <= o.end + GRACE


def replay(db: Path, truth: GroundTruth, first_day: int, rule: SurgeRule) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{db}")
    sessions = make_sessionmaker(engine)
    detector = Detector(sessions, rule)
    begin, end = truth.start + dt.timedelta(days=first_day), truth.end
    opened: list[tuple[int, list[str], dt.datetime]] = []
    pending: list[tuple[int, list[str], dt.datetime]] = []
    now, passes, took = begin, 0, time.perf_counter()
    while now < end:
        for incident_id in detector.run(now):
            info = incidents.get(sessions, incident_id)
            assert info is not None
            row = (incident_id, [a["code"] for a in info.areas], now)
            opened.append(row)
            pending.append(row)
        for row in [p for p in pending if now - p[2] >= DECIDE_AFTER]:
            pending.remove(row)
            cause = next((o for o in truth.outages if explains(o, row[1], row[2])), None)
            if cause is not None:
                hours = max(0.1, (cause.end - now) / dt.timedelta(hours=1))
                incidents.decide(sessions, row[0], IncidentStatus.CONFIRMED, "bench", hours=hours, now=now)
            else:
                incidents.decide(sessions, row[0], IncidentStatus.DISMISSED, "bench", now=now)
        now += dt.timedelta(minutes=1)
        passes += 1
    took = time.perf_counter() - took
    engine.dispose()
    replayed = [o for o in truth.outages if o.start >= begin]
    delays = []
    for o in replayed:
        hits = [at for _, areas, at in opened if o.area_code in areas and o.start <= at <= o.end + GRACE]
        if hits:
            delays.append((min(hits) - o.start) / dt.timedelta(minutes=1))
    true = [r for r in opened if any(explains(o, r[1], r[2]) for o in truth.outages)]
    normal = [d for d in truth.normal_days() if d >= first_day]
    false_normal = [r for r in opened if r not in true and (r[2] - truth.start).days in normal]
    return {
        "outages": len(replayed),
        "detected": len(delays),
        "recall": round(len(delays) / len(replayed), 3) if replayed else None,
        "incidents": len(opened),
        "precision": round(len(true) / len(opened), 3) if opened else None,
        "delay_median_min": round(median(delays), 1) if delays else None,
        "delay_p90_min": round(percentile(delays, 90), 1) if delays else None,
        "normal_days": len(normal),
        "false_alarms_per_normal_day": round(len(false_normal) / len(normal), 2) if normal else None,
        "false_alarms_all": len(opened) - len(true),
        "passes": passes,
        "ms_per_pass": round(took * 1000 / max(1, passes), 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.proactive.run")
    p.add_argument("--history", type=int, default=14, help="days before the replay (the baseline's history)")
    p.add_argument("--days", type=int, default=6, help="days replayed minute by minute")
    p.add_argument("--per-day", type=int, default=20_000, help="contacts on an average day, all areas")
    p.add_argument("--storm-day", type=int, default=2, help="which replay day is the storm (-1: none)")
    p.add_argument("--seed", type=int, default=18)
    a = p.parse_args()
    total = a.history + a.days
    start = dt.date(2026, 10, 5)  # a Monday
    storm = [a.history + a.storm_day] if a.storm_day >= 0 else []
    origin = local_midnight_utc(start)
    outages = random_outages(a.seed, origin, a.history, per_day=0.5) + [
        o
        for o in random_outages(a.seed + 1, origin, total, per_day=1.2, storm_days=storm)
        if o.start >= origin + dt.timedelta(days=a.history)
    ]
    with tempfile.TemporaryDirectory(prefix="proactive-") as tmp:
        base = Path(tmp) / "base.db"
        engine = make_engine(f"sqlite:///{base}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as s:
            s.add_all(build_areas())
        began = time.perf_counter()
        truth = generate(sessions, start, total, a.per_day, a.seed, storm_days=storm, outages=outages)
        generated = time.perf_counter() - began
        engine.dispose()
        print(
            f"{truth.contacts} contacts over {total} days generated in {generated:.0f} s ({len(truth.outages)} "
            f"outages, {truth.outage_contacts} outage contacts); replaying {a.days} days"
        )
        results: dict[str, Any] = {}
        for name, rule in RULES.items():
            copy = Path(tmp) / "copy.db"
            shutil.copy(base, copy)
            results[name] = replay(copy, truth, a.history, rule)
            print(f"  {name}: done ({results[name]['ms_per_pass']} ms a pass)")
    rows = [
        (name, r["outages"], r["detected"], r["recall"], r["incidents"], r["precision"], r["delay_median_min"],
         r["delay_p90_min"], r["false_alarms_per_normal_day"], r["normal_days"])
        for name, r in results.items()
    ]  # fmt: skip
    header = ("rule", "outages", "found", "recall", "incidents", "precision", "delay med", "delay p90",
              "false/normal day", "normal days")  # fmt: skip
    print(table(rows, header))
    write_results(
        HERE / "results.json",
        command_line(),
        {
            "goal": "median detection delay <= 10 min; false alarms <= 1 per normal day",
            "setup": {
                "history_days": a.history,
                "replay_days": a.days,
                "contacts_per_day": a.per_day,
                "storm_days": storm,
                "contacts": truth.contacts,
                "outages": len(truth.outages),
                "generation_seconds": round(generated, 1),
            },  # fmt: skip
            "detection": results,
        },
    )


if __name__ == "__main__":
    main()
