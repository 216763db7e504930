"""Dashboard queries and report generation on 1 million contacts.

    python -m benchmarks.kpis.run [--contacts 1000000] [--days 90] [--repeat 7] [--postgres] [--keep DB]

Loads the synthetic contact stream (analytics.synthetic: daily and weekly curves, a storm day, injected outages)
into a scratch SQLite database (and with --postgres a scratch PostgreSQL one), then times each dashboard query
(analytics.kpis, the same Core expressions the console runs) over a day, a week and a month at the end of the
stream, "now" being 15:30 on its last day: p50 and p95 of `--repeat` runs (goal: p95 <= 300 ms), each query both
ways: raw (kept=False, every contact of the period aggregated: the baseline) and as the product runs it (kept
settled days plus the raw unsettled edge, analytics/kpi_days.py; `first_ms` is the first call, which computes and
stores the missing days). Then one weekly report, HTML and PDF. Prints a table; writes
benchmarks/kpis/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from analytics import kpis
from analytics.forecast import forecast_24h
from analytics.kpis_live import live_traffic
from analytics.kpis_range import Grain, KpiRange, to_utc
from analytics.report import generate as generate_report
from analytics.synthetic import generate
from backend.db import make_engine, make_sessionmaker, upgrade
from backend.synthetic import build_areas
from benchmarks.common import command_line, percentile, scratch_postgres, table, write_results

HERE = Path(__file__).resolve().parent
GOAL_MS = 300.0
START = dt.date(2026, 9, 1)
QUERIES: dict[str, Callable[..., Any]] = {
    "summary": kpis.summary,
    "by_channel": kpis.by_channel,
    "transfer_reasons": kpis.transfer_reasons,
    "top_functions": kpis.top_functions,
    "top_areas": kpis.top_areas,
    "satisfaction": kpis.satisfaction_scores,
}


def load(sessions: sessionmaker[Session], contacts: int, days: int) -> float:
    with sessions() as s:
        for area in build_areas():
            s.merge(area)
        s.commit()
    began = time.perf_counter()
    generate(sessions, START, days, contacts // days, storm_days=(days - 10,))
    return time.perf_counter() - began


def periods(days: int) -> dict[str, KpiRange]:
    last = START + dt.timedelta(days=days - 1)
    return {
        "day (by hour)": KpiRange(last, last, Grain.HOUR),
        "week (by day)": KpiRange(last - dt.timedelta(days=6), last, Grain.DAY),
        "month (by day)": KpiRange(last - dt.timedelta(days=29), last, Grain.DAY),
        "month, one area": KpiRange(last - dt.timedelta(days=29), last, Grain.DAY, "A01"),
    }


def time_queries(sessions: sessionmaker[Session], days: int, repeat: int) -> list[dict[str, Any]]:
    out = []
    last = START + dt.timedelta(days=days - 1)
    now = to_utc(dt.datetime.combine(last, dt.time(15, 30)))
    extra: dict[str, Callable[..., Any]] = {
        "live_traffic": lambda s, kept: live_traffic(s, now),
        "forecast_24h": lambda s, kept: forecast_24h(s, now, kept=kept),
    }
    with sessions() as s:
        for period, r in periods(days).items():
            for name, query in QUERIES.items():
                raw = _timed(partial(query, s, r, kept=False), repeat)
                out.append(_row(name, period, raw, _timed(partial(query, s, r, now=now), repeat)))
        for name, call in extra.items():
            raw = _timed(partial(call, s, False), repeat)
            out.append(_row(name, "now", raw, _timed(partial(call, s, True), repeat)))
    return out


def _timed(call: Callable[[], Any], repeat: int) -> dict[str, float]:
    t0 = time.perf_counter()
    call()  # warms the page cache; on the kept path computes and stores the missing days
    first = (time.perf_counter() - t0) * 1000
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        ms.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "first_ms": round(first, 1)}


def _row(name: str, period: str, raw: dict[str, float], kept: dict[str, float]) -> dict[str, Any]:
    return {
        "query": name,
        "period": period,
        "raw_p50_ms": raw["p50_ms"],
        "raw_p95_ms": raw["p95_ms"],
        "p50_ms": kept["p50_ms"],
        "p95_ms": kept["p95_ms"],
        "first_ms": kept["first_ms"],
    }


def run_store(url: str, contacts: int, days: int, repeat: int, reports: Path) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    loaded = load(sessions, contacts, days)
    if engine.dialect.name == "sqlite":
        with engine.begin() as c:
            c.execute(text("ANALYZE"))
    with sessions() as s:
        count = s.execute(text("SELECT count(*) FROM contacts")).scalar_one()
    rows = time_queries(sessions, days, repeat)
    last = START + dt.timedelta(days=days - 1)
    report = generate_report(sessions, "weekly", last - dt.timedelta(days=6), directory=reports, pdf=True)
    engine.dispose()
    return {
        "contacts": int(count),
        "load_seconds": round(loaded, 1),
        "queries": rows,
        "worst_p95_ms": max(r["p95_ms"] for r in rows),
        "worst_raw_p95_ms": max(r["raw_p95_ms"] for r in rows),
        "report": {
            "html_seconds": report["html_seconds"],
            "pdf_seconds": report["pdf_seconds"] and round(report["pdf_seconds"], 2),
            "pdf_error": report["pdf_error"],
        },  # fmt: skip
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.kpis.run")
    p.add_argument("--contacts", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--postgres", action="store_true", help="also a scratch PostgreSQL at 127.0.0.1:5432")
    a = p.parse_args()
    results: dict[str, Any] = {"goal_p95_ms": GOAL_MS, "days": a.days}
    folder = Path(tempfile.mkdtemp(prefix="p95598-kpis-"))
    try:
        results["sqlite"] = run_store(f"sqlite:///{folder / 'kpis.db'}", a.contacts, a.days, a.repeat, folder)
        if a.postgres:
            with scratch_postgres() as url:
                results["postgresql"] = run_store(url, a.contacts, a.days, a.repeat, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for store in ("sqlite", "postgresql"):
        if store not in results:
            continue
        r = results[store]
        print(f"\n{store}: {r['contacts']:,} contacts (loaded in {r['load_seconds']} s)")
        rows = [(q["query"], q["period"], q["raw_p95_ms"], q["p50_ms"], q["p95_ms"], q["first_ms"],
                 "ok" if q["p95_ms"] <= GOAL_MS else "SLOW") for q in r["queries"]]  # fmt: skip
        head = ("query", "period", "raw p95 ms", "kept p50 ms", "kept p95 ms", "first call ms", f"p95 <= {GOAL_MS:g}")
        print(table(rows, head))
        rep = r["report"]
        print(f"weekly report: HTML {rep['html_seconds']} s, PDF {rep['pdf_seconds']} s {rep['pdf_error'] or ''}")
    write_results(HERE / "results.json", command_line(), results)


if __name__ == "__main__":
    main()
