"""The work-order loop under load (issue 16), each measure on a fresh scratch database (SQLite file and/or a
PostgreSQL database on 127.0.0.1, created and dropped):

    python -m benchmarks.workorders.run [--db sqlite|postgresql|both] [--only latency,overdue,storm,once]
                                        [--storm-db sqlite|postgresql|both] [--orders 1000] [--open 10000]
                                        [--storm 2000] [--once 2000]

latency  dispatch latency: SqlCIS.create_work_order (intake, dispatch, history, notices) call by call over
         orders across the 24 areas and 9 kinds, beside the same insert without dispatch (latency.py)
overdue  10,000 open orders and a real worker (`python -m backend.workorders run --interval 1`) with SMS
         through the fake gateway: due time -> overdue notice written / sent; then the cost of an idle
         sweep and of one sweep escalating all 10,000 (overdue.py)
storm    a simulated storm day: ~2,000 orders in 6 hours, staff answering through the field app's HTTP API,
         on a virtual clock (storm.py, storm_report.py; the behaviour assumed is in storm.BEHAVIOUR)
once     exactly-once escalation with two worker processes, one killed (-9) mid-sweep, the other as it
         sends (exactly_once.py; tests/scale/test_workorder_exactly_once.py runs it with fewer orders)

By default every section runs on both databases except the storm (SQLite; `--storm-db both` adds about three
minutes for PostgreSQL): about 7 minutes on 2 cores. Results go to benchmarks/workorders/results.json, each
section with the command that reproduces it; a run of some sections keeps the others' last figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

from benchmarks.common import command_line, table, write_results
from benchmarks.workorders import exactly_once, latency, overdue, storm
from benchmarks.workorders.scratch import open_sessions, scratch_database
from benchmarks.workorders.storm_report import report

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
SECTIONS = ("latency", "overdue", "storm", "once")
STORM_TICK = dt.timedelta(seconds=15)


def kinds(choice: str) -> list[str]:
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


def stamp(result: dict[str, Any], command: str) -> dict[str, Any]:
    return {"command": command, "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **result}


def measure(a: argparse.Namespace, only: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {s: {} for s in only}
    base = "python -m benchmarks.workorders.run"
    for db in kinds(a.db):
        if "latency" in only:
            with scratch_database(db) as url:
                out["latency"][db] = stamp(latency.measure(url, a.orders), f"{base} --only latency --db {db}")
            print_latency(db, out["latency"][db])
        if "overdue" in only:
            with scratch_database(db) as url:
                found = asyncio.run(overdue.detection(url, total=a.open))
                found["sweep"] = overdue.sweep_cost(url)
            out["overdue"][db] = stamp(found, f"{base} --only overdue --db {db} --open {a.open}")
            print_overdue(db, out["overdue"][db])
        if "once" in only:
            with scratch_database(db) as url:
                once = asyncio.run(exactly_once.run(url, orders=a.once))
            out["once"][db] = stamp(once, f"{base} --only once --db {db} --once {a.once}")
            print_once(db, out["once"][db])
    if "storm" in only:
        for db in kinds(a.storm_db):
            with scratch_database(db) as url:
                sessions = open_sessions(url)
                day, seconds = asyncio.run(storm.simulate(sessions, a.storm, tick_s=STORM_TICK.total_seconds()))
                end = storm.START + dt.timedelta(hours=len(storm.ARRIVALS_BY_HOUR) + 6)
                result = report(sessions, day, seconds, end, STORM_TICK)
            result["behaviour"] = storm.BEHAVIOUR
            out["storm"][db] = stamp(result, f"{base} --only storm --storm-db {db} --storm {a.storm}")
            print_storm(db, out["storm"][db])
    return out


LABELS = {
    "create_work_order_ms": "create_work_order: intake + dispatch + notices",
    "insert_without_dispatch_ms": "the same insert without dispatch",
    "due_to_notice_written_ms": "due time -> overdue notice written",
    "due_to_marked_sent_ms": "due time -> notice marked sent",
    "due_to_gateway_received_ms": "due time -> SMS at the gateway",
}


def print_latency(db: str, r: dict[str, Any]) -> None:
    rows = [(f"{LABELS[k]} ({db})", v["p50"], v["p95"], v["max"]) for k, v in r.items() if k.endswith("_ms")]
    print(table(rows, ("dispatch latency, ms", "p50", "p95", "max")))
    print(f"{r['dispatched']}/{r['orders']} dispatched to {r['teams_used']} teams, {r['notices_written']} notices\n")


def print_overdue(db: str, r: dict[str, Any]) -> None:
    rows = [(f"{LABELS[k]} ({db})", v["p50"], v["p95"], v["max"], v["n"]) for k, v in r.items() if k.endswith("_ms")]
    print(table(rows, (f"overdue detection, {r['open_orders']} open orders, ms", "p50", "p95", "max", "n")))
    sw = r["sweep"]
    print(
        f"idle sweep {sw['idle_sweep_ms']} ms; one sweep escalating {sw['orders_escalated_in_one_sweep']} orders "
        f"{sw['one_sweep_s']} s ({sw['per_order_ms']} ms each); SMS {r['sms_received']} received, "
        f"{r['sms_distinct']} distinct\n"
    )


def print_once(db: str, r: dict[str, Any]) -> None:
    rows = [
        (f"{kind} ({db})", v["expected"], v["written"], v["missed"], v["duplicates"], v["history_twice"],
         v["written_after_its_moment_ms"]["p95"])
        for kind, v in r["stages"].items()
    ]  # fmt: skip
    print(table(rows, ("exactly once, 2 workers + kill -9", "expected", "written", "missed", "dup", "hist2", "p95ms")))
    print(
        f"SMS: {r['sms_notices']} notices, {r['sms_received']} received, {r['sms_distinct']} distinct, "
        f"{r['sms_missed']} missed (repeated: {', '.join(r['sms_repeated_ids']) or 'none'}); worker A killed mid-sweep "
        f"({r['killed_while'][:60]}), worker B {r['b_killed_while_sending']}\n"
    )


def print_storm(db: str, r: dict[str, Any]) -> None:
    def share(v: dict[str, int], k: str) -> str:
        """in limit / decided (reached, or due and not reached by the end of the day)"""
        done, late = v.get(k + "_in_limit", 0), v.get(k + "_late", 0)
        return f"{done}/{done + late} ({100 * done / (done + late):.0f}%)" if done + late else "-"

    rows = []
    for f, v in r["per_function"].items():
        rows.append(
            (f, v["orders"], v.get("resolved", 0), share(v, "resolved"), share(v, "on_site"), v.get("warned", 0),
             v.get("to_leader", 0), v.get("to_supervisor", 0), v.get("open_at_end", 0))
        )  # fmt: skip
    head = ("storm day (" + db + ")", "orders", "resolved", "resolved in limit", "on site in limit", "warned",
            "to leader", "to supervisor", "open")  # fmt: skip
    print(table(rows, head))
    sv, ck = r["surveys"], r["supervision_check"]
    print(
        f"surveys {sv['sent']} sent, {sv['answered']} answered ({sv['response_rate']}), mean {sv['mean_score']}, "
        f"{sv['outcomes']}; field moves {sum(r['field_moves'].values())} (refused {r['field_refused']}), HTTP p95 "
        f"{r['field_move_http_ms']['p95']} ms; supervision check {ck}; {r['real_seconds']} s for "
        f"{r['simulated_hours']} simulated hours\n"
    )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.workorders.run")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--storm-db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    p.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ",".join(SECTIONS))
    p.add_argument("--orders", type=int, default=1000, help="orders timed for dispatch latency")
    p.add_argument("--open", type=int, default=10_000, help="open orders during overdue detection")
    p.add_argument("--storm", type=int, default=2000, help="orders on the storm day")
    p.add_argument("--once", type=int, default=2000, help="orders in the exactly-once run")
    a = p.parse_args()
    only = [s for s in a.only.split(",") if s]
    if unknown := set(only) - set(SECTIONS):
        raise SystemExit(f"unknown section(s): {', '.join(sorted(unknown))}")
    measured = measure(a, only)
    kept = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    sections = {k: kept.get(k, {}) for k in SECTIONS}
    for name, per_db in measured.items():
        sections[name] = {**sections.get(name, {}), **per_db}
    command = command_line()
    if set(only) != set(SECTIONS) and kept.get("command"):  # the figures kept came from the earlier command(s)
        command = f"{kept['command']}; {command}"
    write_results(RESULTS, command, sections)


if __name__ == "__main__":
    main()
