"""Where a job runs: the same Ibis expressions on DuckDB (embedded default, one process) or on Apache Spark (scale
profile; `local[N]` here and in tests, a cluster's master URL in production). A job only ever sees `Dataset`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ibis
from ibis.expr.types import Table

from insight.schema import TABLES, path_of

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")


@dataclass
class Dataset:
    """The insight tables of one directory, as Ibis tables on one backend."""

    engine: Engine
    backend: Any
    tables: dict[str, Table]

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]


_spark: Any = None


def spark_session(master: str | None = None) -> Any:
    """One Spark session per process (Spark allows one): local mode unless P95598_SPARK_MASTER names a cluster."""
    global _spark
    if _spark is None:
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(master or os.environ.get("P95598_SPARK_MASTER", "local[2]"))
            .appName("p95598-insight")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", os.environ.get("P95598_SPARK_PARTITIONS", "8"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", os.environ.get("P95598_SPARK_DRIVER_MEMORY", "4g"))
        )
        _spark = builder.getOrCreate()
        _spark.sparkContext.setLogLevel("ERROR")
    return _spark


def connect(engine: Engine) -> Any:
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        return ibis.pyspark.connect(spark_session())
    raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")


def open_dataset(directory: Path, engine: Engine = "duckdb") -> Dataset:
    """The dataset's tables on `engine`; a missing table is an error naming it."""
    backend = connect(engine)
    tables = {}
    for name in TABLES:
        path = path_of(directory, name)
        if not path.exists():
            raise FileNotFoundError(f"insight table {name} missing: {path}")
        tables[name] = backend.read_parquet(str(path), table_name=f"{name}_{os.getpid()}_{id(directory) % 10_000}")
    return Dataset(engine, backend, tables)
