"""Synthetic history for the insight dataset: every table of insight.schema plus truth.json, for a synthetic
population (`generate`) or a given one such as the product's own CIS customers (`generate_for`).

Behaviour comes from latent causes only (payment habits, income shocks, channel preference, outage sensitivity,
complaining, electric heating, fault-prone lines, poor-quality 台区; see insight/generate_latent.py), never from
tags: tags are computed later from the data. The same seed, population and end period give the same files.
Customers are processed in fixed chunks, each with its own random stream, and written as they are made
(1M customers x 36 months: about 2 minutes and 1.3 GB on two cores).

    python -m insight.generate OUT --customers 100000 [--months 36 --seed 95598 --end-period YYYY-MM]
    python -m insight.generate OUT --cis sqlite:///var/backend.db      # the back end's own customers"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from insight import schema
from insight.generate_contacts import contacts
from insight.generate_grid import Grid, simulate_grid
from insight.generate_history import history
from insight.generate_latent import HABITS, BoolArray, Calendar, Params, calendar_for, draw_latent, simulate_shocks
from insight.generate_population import Population, Topology, synthetic_population

CHUNK_CUSTOMERS = 50_000  # part of the determinism: the random streams are per chunk
CHUNKED_TABLES = ("customers", "bills", "payments", "meter_reads", "contacts")
# each customer's latent classes, beside truth.json and like it read only by evaluations (not a dataset table)
TRUTH_CUSTOMERS_FILE = "truth_customers.parquet"
TRUTH_CUSTOMERS = pa.schema(
    [
        ("account_no", pa.string()),
        ("habit", pa.string()),
        ("e_channel", pa.bool_()),
        ("outage_sensitive", pa.bool_()),
        ("complainer", pa.bool_()),
        ("electric_heating", pa.bool_()),
        ("income_shock_months", pa.int32()),
    ]
)


def generate(
    out: Path, *, customers: int = 100_000, months: int = 36, seed: int = 95598, end_period: str | None = None
) -> dict[str, int]:
    """Writes a synthetic population's history to `out`; row counts by table."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    cal = calendar_for(months, end_period)
    population = synthetic_population(customers, seed, cal.starts[0], cal.days)
    return _write(out, population, cal, seed, Params(), source="synthetic")


def generate_for(
    out: Path,
    population: Population,
    *,
    months: int = 36,
    seed: int = 95598,
    end_period: str | None = None,
    until: dt.date | None = None,
) -> dict[str, int]:
    """Writes the history of a given population and topology (e.g. insight.generate_backend.population_from_backend);
    with `until` nothing happens after that day (the product's history ends today)."""
    return _write(out, population, calendar_for(months, end_period, until), seed, Params(), source="given")


def _topology_tables(topology: Topology) -> dict[str, pa.Table]:
    return {
        "areas": pa.table(
            {"area_code": topology.area_code, "area_name": topology.area_name, "area_class": topology.area_class}
        ),
        "lines": pa.table(
            {
                "line_code": topology.line_code,
                "line_name": topology.line_name,
                "area_code": topology.area_code[topology.line_area],
            }
        ),
        "districts": pa.table(
            {
                "tq_code": topology.tq_code,
                "tq_name": topology.tq_name,
                "line_code": topology.line_code[topology.tq_line],
                "area_code": topology.area_code[topology.tq_area],
            }
        ),
    }


def _customers_table(pop: Population) -> pa.Table:
    top, known = pop.topology, pop.tq >= 0
    tq = np.maximum(pop.tq, 0)
    return pa.table(
        {
            "account_no": pop.account_no,
            "area_code": top.area_code[pop.area],
            "line_code": pa.array(top.line_code[top.tq_line[tq]], mask=~known),
            "tq_code": pa.array(top.tq_code[tq], mask=~known),
            "prepaid": pop.prepaid,
            "solar": pop.solar,
            "low_income": pop.low_income,
            "birth_year": pop.birth_year.astype(np.int32),
            "opened": pa.array(pop.opened.astype("datetime64[D]")),
        }
    )


class _LatentTally:
    """Counts of each latent class over all chunks, for truth.json."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, name: str, mask: BoolArray) -> None:
        self.counts[name] = self.counts.get(name, 0) + int(np.count_nonzero(mask))

    def shares(self, total: int) -> dict[str, float]:
        return {name: round(count / max(total, 1), 4) for name, count in self.counts.items()}


def _write(out: Path, pop: Population, cal: Calendar, seed: int, params: Params, source: str) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for name, table in _topology_tables(pop.topology).items():
        schema.write(out, name, table)
        rows[name] = table.num_rows
    grid = simulate_grid(pop.topology, params, cal, np.random.default_rng(np.random.SeedSequence([seed, 3])))
    outages = grid.outages_table(pop.topology)
    schema.write(out, "outages", outages)
    rows["outages"] = outages.num_rows
    tally = _LatentTally()
    writers = {name: pq.ParquetWriter(schema.path_of(out, name), schema.TABLES[name]) for name in CHUNKED_TABLES}
    truth_writer = pq.ParquetWriter(out / TRUTH_CUSTOMERS_FILE, TRUTH_CUSTOMERS)
    try:
        for name in CHUNKED_TABLES:
            rows[name] = 0
        for index, first in enumerate(range(0, len(pop), CHUNK_CUSTOMERS)):
            chunk = pop.take(slice(first, first + CHUNK_CUSTOMERS))
            rng = np.random.default_rng(np.random.SeedSequence([seed, 2, index]))
            tables, truth_rows = _chunk(chunk, grid, params, cal, rng, tally)
            truth_writer.write_table(truth_rows.cast(TRUTH_CUSTOMERS))
            contact_ids = np.char.add(
                "C", np.char.zfill((np.arange(tables["contacts"].num_rows) + rows["contacts"] + 1).astype(str), 10)
            )
            tables["contacts"] = tables["contacts"].add_column(0, "contact_id", pa.array(contact_ids))
            for name, table in tables.items():
                writers[name].write_table(table.select(schema.TABLES[name].names).cast(schema.TABLES[name]))
                rows[name] += table.num_rows
    finally:
        for writer in [*writers.values(), truth_writer]:
            writer.close()
    truth = _truth(pop, grid, cal, seed, params, source, tally)
    (out / schema.TRUTH_FILE).write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return rows


def _chunk(
    pop: Population, grid: Grid, params: Params, cal: Calendar, rng: np.random.Generator, tally: _LatentTally
) -> tuple[dict[str, pa.Table], pa.Table]:
    latent = draw_latent(pop, params, rng)
    shocks = simulate_shocks(pop, params, cal.months, rng)
    tables, billing = history(pop, latent, shocks, params, cal, rng)
    tables["contacts"] = contacts(pop, latent, shocks, billing, grid, params, cal, rng)
    tables["customers"] = _customers_table(pop)
    for i, habit in enumerate(HABITS):
        tally.add(f"habit_{habit}", latent.habit == i)
    for name in ("e_channel", "outage_sensitive", "complainer", "electric_heating", "elderly"):
        tally.add(name, getattr(latent, name))
    tally.add("income_shock_customers", shocks.customers_with_shock)
    tally.add("low_income", pop.low_income)
    tally.add("prepaid", pop.prepaid)
    tally.add("solar", pop.solar)
    truth = pa.table(
        {
            "account_no": pop.account_no,
            "habit": np.array(HABITS)[latent.habit],
            "e_channel": latent.e_channel,
            "outage_sensitive": latent.outage_sensitive,
            "complainer": latent.complainer,
            "electric_heating": latent.electric_heating,
            "income_shock_months": shocks.in_shock.sum(axis=1).astype(np.int32),
        }
    )
    return tables, truth


def _truth(
    pop: Population, grid: Grid, cal: Calendar, seed: int, params: Params, source: str, tally: _LatentTally
) -> dict[str, Any]:
    top = pop.topology
    return {
        "source": source,
        "seed": seed,
        "customers": len(pop),
        "periods": [cal.periods[0], cal.periods[-1]],
        "as_of": str(cal.as_of),
        "fault_prone_lines": sorted(top.line_code[grid.fault_prone_line].tolist()),
        "poor_quality_tqs": sorted(top.tq_code[grid.poor_quality_tq].tolist()),
        "latent_shares": tally.shares(len(pop)),
        "parameters": asdict(params),
        "chunk_customers": CHUNK_CUSTOMERS,
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m insight.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=95598)
    parser.add_argument("--end-period", help="the last billed month YYYY-MM (default: the month before today)")
    parser.add_argument("--cis", metavar="DB_URL", help="the history of this back end's customers and topology")
    args = parser.parse_args(argv)
    if args.cis:
        from backend.db import make_engine, make_sessionmaker
        from insight.generate_backend import population_from_backend

        sessions = make_sessionmaker(make_engine(args.cis))
        population = population_from_backend(sessions, months=args.months, end_period=args.end_period)
        rows = generate_for(args.out, population, months=args.months, seed=args.seed, end_period=args.end_period)
    else:
        rows = generate(
            args.out, customers=args.customers, months=args.months, seed=args.seed, end_period=args.end_period
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
