"""The product's insight pipeline: the CIS population from the back end's database, its 36-month history (generated
into a directory, again only when missing or when the population or the month changed), the jobs on DuckDB (the
default) or Spark, the arrears-risk model (the store's active one, trained on this history when there is none or it
is refused), and one transaction publishing tags with reasons, their history, risk grades with tree paths and hot
spots (insight/publish.py).

    python -m insight refresh [--engine duckdb|spark] [--db URL] [--if-none] [--retrain]

What is scored and tagged: the last billed period of the history (its bill falls due on the 15th of the next
month, when notices remind the customers graded 高). The risk model trains on the target periods whose labels were
known when that period's features were taken. Tag history covers the last TAG_HISTORY_PERIODS periods for the
rules over features alone; tags that need the risk scores are followed run by run (insight.publish).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from backend.db import REPO, database_url, open_database
from insight.engine import ENGINES, Dataset, Engine, open_dataset
from insight.generate import generate_for
from insight.generate_backend import population_from_backend
from insight.generate_latent import default_end_period
from insight.generate_population import Population
from insight.jobs.hotspots import hotspots
from insight.jobs.risk_features import features_as_of, risk_examples
from insight.periods import shift
from insight.publish import RunResults, fail_run, latest_run, publish, records, start_run
from insight.risk import ModelRefused, ModelStore, RiskModel, risk_rows, score, train
from insight.risk_eval import examples_for, labelled_periods
from insight.schema import TABLES, path_of
from insight.tag_rules import TagRule, customer_tags, load_rules, referenced_columns, tag_columns, tag_history

log = logging.getLogger("insight.refresh")

HISTORY_MONTHS = 36
TAG_HISTORY_PERIODS = 12
HOTSPOT_PERIODS = 12
TRAINING_PERIODS = 6  # the latest labelled target periods the model is trained on
RISK_COLUMNS = {"risk_probability": "float64", "risk_grade": "string"}  # what the tag rules may read of the model
POPULATION_FILE = "POPULATION"  # the fingerprint of the population the history was generated for


@dataclass(frozen=True)
class Places:
    history: Path
    models: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Places:
        """P95598_INSIGHT_HISTORY (as the console reads it), else <P95598_VAR or var>/insight/history; the model
        store beside it in insight/models."""
        env = os.environ if env is None else env
        var = Path(env.get("P95598_VAR") or REPO / "var")
        history = Path(env.get("P95598_INSIGHT_HISTORY") or var / "insight" / "history")
        return cls(history, Path(env.get("P95598_INSIGHT_MODELS") or history.parent / "models"))


@dataclass
class Report:
    run_id: int | None = None
    period: str = ""
    engine: str = ""
    customers: int = 0
    generated: bool = False
    trained: bool = False
    model_version: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.seconds[step] = round(time.perf_counter() - t0, 3)


def fingerprint(pop: Population, months: int, end_period: str) -> str:
    """What the generated history depends on: the customers with their CIS attributes, the topology, the span."""
    h = hashlib.sha256(f"{months}:{end_period}:{dt.date.today()}:{len(pop)}".encode())  # the history ends today
    top = pop.topology
    owing = pop.owing_now if pop.owing_now is not None else np.zeros(0, dtype=bool)
    for arr in (
        pop.account_no,
        pop.area,
        pop.tq,
        pop.prepaid,
        pop.solar,
        pop.low_income,
        pop.birth_year,
        pop.opened,
        owing,
    ):
        h.update(np.ascontiguousarray(arr).tobytes())
    for arr in (top.area_code, top.line_code, top.line_area, top.tq_code, top.tq_line):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def ensure_history(sessions: sessionmaker[Session], directory: Path, months: int, end_period: str) -> tuple[int, bool]:
    """The population's history in `directory`, generated (into a sibling, then swapped in) only when missing or
    made for another population or span. Returns (customers, generated)."""
    pop = population_from_backend(sessions, months=months, end_period=end_period)
    if len(pop) == 0:
        raise RuntimeError("the back end has no customers: seed it first (python -m backend seed)")
    stamp = fingerprint(pop, months, end_period)
    mark = directory / POPULATION_FILE
    complete = all(path_of(directory, name).exists() for name in TABLES)
    if complete and mark.exists() and mark.read_text().strip() == stamp:
        return len(pop), False
    fresh, old = directory.with_name(directory.name + ".new"), directory.with_name(directory.name + ".old")
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    generate_for(fresh, pop, months=months, end_period=end_period, until=dt.date.today())
    (fresh / POPULATION_FILE).write_text(stamp + "\n")
    if directory.exists():
        directory.rename(old)
    fresh.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
    return len(pop), True


def risk_model(ds: Dataset, store: ModelStore, period: str, retrain: bool) -> tuple[RiskModel, bool]:
    """The store's active model, else one trained on this history and activated. Returns (model, trained)."""
    if not retrain:
        try:
            model = store.active()
        except ModelRefused as e:
            log.warning("the active risk model is refused, training a new one: %s", e)
            model = None
        if model is not None:
            return model, False
    cut = features_as_of(period)
    periods = [p for p, known in labelled_periods(ds) if p < period and known <= cut][-TRAINING_PERIODS:]
    if not periods:
        raise RuntimeError(f"no labelled target period before {period}: the history is too short to train on")
    return store.activate(train(examples_for(ds, periods), periods)), True


def tag_rows(ds: Dataset, period: str, rules: list[TagRule], scored: pd.DataFrame) -> list[dict[str, Any]]:
    extra = scored[["account_no", "risk_probability", "risk_grade"]]
    return records(customer_tags(ds, period, rules, extra).to_pandas())


def refresh(
    sessions: sessionmaker[Session],
    places: Places,
    engine: Engine = "duckdb",
    *,
    months: int = HISTORY_MONTHS,
    end_period: str | None = None,
    retrain: bool = False,
) -> Report:
    report = Report(engine=engine)
    end_period = end_period or default_end_period()
    with report.timed("history"):
        report.customers, report.generated = ensure_history(sessions, places.history, months, end_period)
    ds = open_dataset(places.history, engine)
    period = str(ds["bills"].period.max().execute())
    report.period = period
    run_id = start_run(sessions, engine, period)
    try:
        with report.timed("risk"):
            model, report.trained = risk_model(ds, ModelStore(places.models), period, retrain)
            scored = score(model, risk_examples(ds, period))
        with report.timed("tags"):
            rules = load_rules(columns=tag_columns(RISK_COLUMNS))
            tags = tag_rows(ds, period, rules, scored)
            by_period = [r for r in rules if not referenced_columns(r) & RISK_COLUMNS.keys()]
            window = [shift(period, -i) for i in range(TAG_HISTORY_PERIODS - 1, -1, -1)]
            history = records(tag_history(ds, window, by_period)) if by_period else []
        with report.timed("hotspots"):
            spots = records(hotspots(ds, shift(period, -(HOTSPOT_PERIODS - 1)), period))
        results = RunResults(
            engine=engine,
            period=period,
            tags=tags,
            history=history,
            history_tags={r.name for r in by_period},
            history_from=window[0],
            risk=risk_rows(model, scored, period),
            hotspots=spots,
            model_version=model.version,
        )
        with report.timed("publish"):
            publish(sessions, results, run_id)
    except Exception as e:
        fail_run(sessions, run_id, f"{type(e).__name__}: {e}")
        raise
    report.run_id, report.model_version = run_id, model.version
    report.counts = {"tags": len(tags), "tag_changes": len(history), "risk": len(scored), "hotspots": len(spots)}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m insight refresh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=ENGINES, default="duckdb")
    parser.add_argument("--db", default=None, help="database URL (default: P95598_DB_URL, else var/backend.db)")
    parser.add_argument("--if-none", action="store_true", help="only when no run has published yet (the set-up)")
    parser.add_argument("--retrain", action="store_true", help="train the risk model even if the store has one")
    parser.add_argument("--end-period", help="the last billed month YYYY-MM (default: the month before today)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    engine, sessions = open_database(args.db or database_url())
    try:
        if args.if_none and latest_run(sessions) is not None:
            log.info("an insight run has published already: nothing to do (--if-none)")
            return 0
        t0 = time.perf_counter()
        report = refresh(sessions, Places.from_env(), args.engine, end_period=args.end_period, retrain=args.retrain)
        report.seconds["total"] = round(time.perf_counter() - t0, 3)
        print(json.dumps(report.__dict__, ensure_ascii=False))
    finally:
        engine.dispose()
    return 0
