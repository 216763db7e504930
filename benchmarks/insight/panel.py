"""The agent panel's tag and risk lookup (issue 19's measure), on a seeded back end with a published insight run.

    python -m benchmarks.insight.panel [--customers 2400] [--lookups 100] [--engine duckdb] [--postgres]

Seeds a scratch database with the synthetic CIS (SQLite; with --postgres a scratch PostgreSQL too), times the
product's refresh on it (python -m insight refresh: generate the history, train the risk model, run the jobs,
publish; then again with the history and the model reused), opens one verified case per sampled account (random
accounts, fixed seed) and times, sequentially, `--lookups` requests of each kind:

- panel API: GET /console/api/cases/{id}/customer as the agent's browser asks it (the console app in-process over
  HTTP: the whole panel, profile with tags, reasons and risk path, contacts, orders, ratings);
- panel API without insight: the same with the tag and risk reads stubbed out (what the panel cost before);
- insight read: backend.customer_insight.CustomerInsight.profile, the two indexed reads the panel makes;
- bare DB query: the same two SELECTs by primary key on one connection (the floor).

Prints a table; writes benchmarks/insight/results_panel.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre import Channel, ContactStore, EscalationReason
from backend.customer_insight import CustomerInsight
from backend.db import open_database
from backend.models_insight import CustomerRisk
from backend.synthetic import seed
from benchmarks.common import command_line, percentile, scratch_postgres, table, write_results
from console import customer_api
from console.app import create_app
from console.clients import ConsoleAgent, new_session
from console.config import ConsoleConfig
from insight.refresh import Places, refresh

HERE = Path(__file__).resolve().parent
PASSWORD = "panel-bench-pass"
TAGS_SQL = text("SELECT tag, grade, reason, since_period FROM customer_tags WHERE account_no = :a")
RISK_SQL = text("SELECT grade, probability, path, period FROM customer_risk WHERE account_no = :a")


def stats(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "max_ms": round(max(ms), 2)}


def timed(call: Callable[[], Any], times: int) -> list[float]:
    out = []
    for _ in range(times):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def timed_async(calls: list[Callable[[], Awaitable[Any]]]) -> list[float]:
    out = []
    for call in calls:
        t0 = time.perf_counter()
        await call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def sample(sessions: sessionmaker[Session], n: int) -> list[tuple[str, str]]:
    """n random (account, phone) of customers the run scored, fixed seed."""
    with sessions() as s:
        rows = s.execute(
            select(m.Customer.account_no, m.Customer.phone)
            .join(CustomerRisk, CustomerRisk.account_no == m.Customer.account_no)
            .order_by(m.Customer.account_no)
        ).tuples()
        return random.Random(19).sample(list(rows), n)


async def fake_rasa() -> TestServer:
    async def tracker(request: web.Request) -> web.Response:
        return web.json_response({"events": [], "slots": {}})

    app = web.Application()
    app.router.add_get("/conversations/{sender}/tracker", tracker)
    server = TestServer(app)
    await server.start_server()
    return server


async def panel_lookups(url: str, sessions: sessionmaker[Session], accounts: list[tuple[str, str]]) -> dict[str, Any]:
    contact = ContactStore(sessions)
    agent = contact.agent_by_username("1001") or contact.add_agent("1001", "基准坐席", PASSWORD, "agent")
    cases = []
    for i, (account, _) in enumerate(accounts):
        case, _ = contact.escalate(
            f"chat:panel-bench-{i}", Channel.CHAT, EscalationReason.CUSTOMER_REQUEST, summary="转人工", context={},
            account_no=account,
        )  # fmt: skip
        contact.claim(case.id, agent.id)
        cases.append(case.id)
    rasa = await fake_rasa()
    try:
        config = ConsoleConfig(db_url=url, rasa_url=str(rasa.make_url("")).rstrip("/"), orders_interval=0)
        app = create_app(config)
        async with TestServer(app) as server, new_session() as http:
            console = ConsoleAgent(http, str(server.make_url("")).rstrip("/"))
            assert await console.login("1001", PASSWORD) == 302
            for case_id, (_, phone) in zip(cases, accounts):
                status, said = await console.post(f"/console/api/cases/{case_id}/verify", {"last4": phone[-4:]})
                assert status == 200, said

            def lookups() -> list[Callable[[], Awaitable[Any]]]:
                async def one(case_id: int) -> None:
                    status, got = await console.get(f"/console/api/cases/{case_id}/customer")
                    assert status == 200 and isinstance(got, dict) and "insight" in got["profile"], got

                return [lambda c=c: one(c) for c in cases]  # type: ignore[misc]

            await timed_async(lookups()[:10])  # warm-up
            with_insight = await timed_async(lookups())
            insight = app[customer_api.INSIGHT]
            setattr(insight, "profile", lambda account_no: {"tags": [], "risk": None})  # noqa: B010
            without = await timed_async(lookups())
            delattr(insight, "profile")
    finally:
        await rasa.close()
    return {"panel_api": stats(with_insight), "panel_api_without_insight": stats(without)}


def run_store(url: str, customers: int, lookups: int, engine: str, var: Path) -> dict[str, Any]:
    db, sessions = open_database(url)
    try:
        t0 = time.perf_counter()
        seed(sessions, customers=customers)
        seeded = time.perf_counter() - t0
        places = Places(var / "history", var / "models")
        first = refresh(sessions, places, engine)  # type: ignore[arg-type]
        again = refresh(sessions, places, engine)  # type: ignore[arg-type]
        accounts = sample(sessions, lookups)
        out: dict[str, Any] = {
            "customers": customers,
            "seed_seconds": round(seeded, 1),
            "refresh_first": {"seconds": first.seconds, "counts": first.counts, "generated": first.generated,
                              "trained": first.trained},
            "refresh_again": {"seconds": again.seconds, "generated": again.generated, "trained": again.trained},
        }  # fmt: skip
        out.update(asyncio.run(panel_lookups(url, sessions, accounts)))
        insight = CustomerInsight(sessions)
        names = [a for a, _ in accounts]
        timed(lambda: insight.profile(names[0]), 10)
        it = iter(names * 2)
        out["insight_read"] = stats(timed(lambda: insight.profile(next(it)), lookups))
        with db.connect() as conn:
            it = iter(names * 2)

            def bare() -> None:
                a = next(it)
                conn.execute(TAGS_SQL, {"a": a}).all()
                conn.execute(RISK_SQL, {"a": a}).all()

            out["bare_db_query"] = stats(timed(bare, lookups))
        return out
    finally:
        db.dispose()


def main() -> None:
    import shutil
    import tempfile

    p = argparse.ArgumentParser(prog="python -m benchmarks.insight.panel")
    p.add_argument("--customers", type=int, default=2400)
    p.add_argument("--lookups", type=int, default=100)
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    p.add_argument("--postgres", action="store_true", help="also a scratch PostgreSQL at 127.0.0.1:5432")
    a = p.parse_args()
    results: dict[str, Any] = {"lookups": a.lookups, "engine": a.engine}
    folder = Path(tempfile.mkdtemp(prefix="p95598-panel-"))
    try:
        results["sqlite"] = run_store(f"sqlite:///{folder / 'panel.db'}", a.customers, a.lookups, a.engine, folder)
        if a.postgres:
            with scratch_postgres() as url:
                results["postgresql"] = run_store(url, a.customers, a.lookups, a.engine, folder / "pg")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for store in ("sqlite", "postgresql"):
        if store not in results:
            continue
        r = results[store]
        f, g = r["refresh_first"]["seconds"], r["refresh_again"]["seconds"]
        print(f"\n{store}: {r['customers']:,} customers; refresh {sum(f.values()):.1f} s first "
              f"(history generated, model trained), {sum(g.values()):.1f} s again; {f}")  # fmt: skip
        rows = [
            (label, r[key]["n"], r[key]["p50_ms"], r[key]["p95_ms"], r[key]["max_ms"])
            for key, label in (
                ("panel_api", "panel API (tags, reasons, risk path)"),
                ("panel_api_without_insight", "panel API, insight reads stubbed"),
                ("insight_read", "insight read (2 indexed reads)"),
                ("bare_db_query", "bare DB query (2 SELECTs by key)"),
            )
        ]
        print(table(rows, ("lookup", "n", "p50 ms", "p95 ms", "max ms")))
    write_results(HERE / "results_panel.json", command_line(), results)


if __name__ == "__main__":
    main()
