"""Customer-insight jobs at 100k and 1M customers on DuckDB and on Spark (local mode), the arrears-risk model against
its baseline, and how well hot spots recover the generator's planted fault-prone lines.

    python -m benchmarks.insight.run [--sizes 100000,1000000] [--engines duckdb,spark] [--keep DIR]

For each size: the synthetic 36-month history (insight.generate: time, rows, bytes), then each job on each engine,
its result pulled to the driver (to_pandas: what publishing does), wall time of the one run (Spark's first job also
pays its JVM warm-up, shown separately). At the first size only: the risk model's held-out and later-window metrics
(insight.risk_eval, on DuckDB) beside the baseline 'in arrears last month'; at every size, hot spots' precision and
recall in the top 20 lines against truth.json beside a raw-count ranking (the obvious baseline). The agent panel's
lookup p95 is benchmarks/insight/panel.py. Prints tables; writes benchmarks/insight/results.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import command_line, table, write_results
from insight.engine import Dataset, open_dataset, spark_session
from insight.generate import generate
from insight.jobs.bills import bill_status
from insight.jobs.features import customer_features
from insight.jobs.hotspots import hotspots
from insight.jobs.risk_features import risk_examples
from insight.jobs.segments import customer_segments
from insight.periods import shift
from insight.risk_eval import train_and_evaluate
from insight.schema import TRUTH_FILE
from insight.tag_rules import customer_tags, load_rules, tag_columns

HERE = Path(__file__).resolve().parent
END = "2026-10"
TOP = 20


RISK_COLUMNS = {"risk_probability": "float64", "risk_grade": "string"}


def jobs(period: str) -> dict[str, Callable[[Dataset], Any]]:
    """Each job as the refresh runs it; the tags join a per-customer risk table as the refresh does (here a flat
    '低' for everyone: the join's cost is what is timed, the risk model's own time is in the risk section)."""
    rules = load_rules(columns=tag_columns(RISK_COLUMNS))
    window = (shift(period, -11), period)

    def tags(ds: Dataset) -> Any:
        accounts = ds["customers"].select("account_no").to_pandas()
        extra = accounts.assign(risk_probability=0.01, risk_grade="低")
        return customer_tags(ds, period, rules, extra).to_pandas()

    return {
        "bill_status (arrears per period)": lambda ds: (
            bill_status(ds)
            .group_by("period")
            .aggregate(n=lambda t: t.count(), arrears=lambda t: t.in_arrears.sum())
            .to_pandas()
        ),
        "customer_features": lambda ds: customer_features(ds, period).to_pandas(),
        "customer_tags (+ risk join)": tags,
        "risk_examples (24 months)": lambda ds: risk_examples(ds, period).to_pandas(),
        "hotspots (12 months)": lambda ds: hotspots(ds, *window),
        "customer_segments": lambda ds: customer_segments(ds, period).to_pandas(),
    }


def time_jobs(directory: Path, engine: str, period: str) -> list[dict[str, Any]]:
    out = []
    if engine == "spark":
        began = time.perf_counter()
        spark_session().range(1).count()
        out.append({"job": "(spark session start)", "seconds": round(time.perf_counter() - began, 2), "rows": 0})
    ds = open_dataset(directory, engine)  # type: ignore[arg-type]
    for name, job in jobs(period).items():
        began = time.perf_counter()
        result = job(ds)
        seconds = time.perf_counter() - began
        out.append({"job": name, "seconds": round(seconds, 2), "rows": _rows(result)})
        print(f"  {engine:6} {name:34} {seconds:8.2f} s", flush=True)
    return out


def _rows(result: Any) -> int:
    return len(result)


def hotspot_recovery(directory: Path, period: str) -> dict[str, Any]:
    """Planted fault-prone lines among the top 20 lines: the product's ranking (rate ratio against size, significant
    by BH) beside ranking by raw fault count."""
    truth = set(json.loads((directory / TRUTH_FILE).read_text())["fault_prone_lines"])
    result = hotspots(open_dataset(directory, "duckdb"), shift(period, -11), period)
    lines = result_lines(result)
    ranked = [r["code"] for r in sorted(lines, key=lambda r: r["rank"])][:TOP]
    significant = [r["code"] for r in lines if r["significant"]]
    raw = [r["code"] for r in sorted(lines, key=lambda r: (-r["observed"], r["code"]))][:TOP]
    planted = len(truth)

    def pr(codes: list[str]) -> dict[str, float]:
        hit = len(set(codes) & truth)
        return {"precision": round(hit / len(codes), 3) if codes else 0.0, "recall": round(hit / planted, 3)}

    return {
        "planted_lines": planted,
        "lines": len(lines),
        "top20_rate_ratio": pr(ranked),
        "significant_in_top20": pr([c for c in ranked if c in set(significant)]),
        "top20_raw_count": pr(raw),
    }


def result_lines(result: Any) -> list[dict[str, Any]]:
    """The line-level fault rows of a hotspots() result."""
    frame = result[(result.level == "line") & (result.measure == "faults")]
    return [dict(r) for r in frame.to_dict("records")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--keep", type=Path, help="keep the generated histories here")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="insight-bench-"))
    results: dict[str, Any] = {"sizes": {}}
    try:
        for i, size in enumerate(int(s) for s in args.sizes.split(",")):
            directory = root / f"c{size}"
            began = time.perf_counter()
            counts = generate(directory, customers=size, months=36, end_period=END) if not directory.exists() else {}
            gen_seconds = time.perf_counter() - began
            disk = sum(p.stat().st_size for p in directory.glob("*.parquet"))
            print(f"{size:,} customers: generated in {gen_seconds:.1f} s, {disk / 1e6:.0f} MB", flush=True)
            entry: dict[str, Any] = {
                "generate_seconds": round(gen_seconds, 1),
                "rows": counts,
                "parquet_mb": round(disk / 1e6),
            }
            entry["jobs"] = {e: time_jobs(directory, e, END) for e in args.engines.split(",")}
            entry["hotspots"] = hotspot_recovery(directory, END)
            if i == 0:
                entry["risk"] = train_and_evaluate(directory, "duckdb")
            results["sizes"][str(size)] = entry
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    report(results)
    write_results(HERE / "results.json", command_line(), results)


def report(results: dict[str, Any]) -> None:
    for size, entry in results["sizes"].items():
        engines = list(entry["jobs"])
        names = [j["job"] for j in entry["jobs"][engines[-1]]]
        rows = []
        for name in names:
            cells = [next((f"{j['seconds']:.2f}" for j in entry["jobs"][e] if j["job"] == name), "-") for e in engines]
            n = next((j["rows"] for e in engines for j in entry["jobs"][e] if j["job"] == name), 0)
            rows.append((name, *cells, n))
        print(
            f"\n{int(size):,} customers x 36 months "
            f"(generated in {entry['generate_seconds']} s, {entry['parquet_mb']} MB)"
        )
        print(table(rows, ("job", *[f"{e} s" for e in engines], "rows")))
        h = entry["hotspots"]
        print(f"\nhot spots: {h['planted_lines']} planted fault-prone lines of {h['lines']}")
        print(
            table(
                [(k, v["precision"], v["recall"]) for k, v in h.items() if isinstance(v, dict)],
                ("top 20 lines by", "precision", "recall"),
            )
        )
        if "risk" in entry:
            from insight.risk_eval import table as risk_table

            print("\narrears risk (decision tree vs 'in arrears last month')")
            print(risk_table(entry["risk"]))


if __name__ == "__main__":
    main()
