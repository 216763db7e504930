"""The insight dataset: one Parquet file per table in a directory, the single home of their columns and types.

The generator writes these, the CIS export writes them for the product's own customers, and every job reads them.
Timestamps are microseconds (Spark refuses Parquet's nanosecond timestamps); periods are billing months 'YYYY-MM'.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

TABLES: dict[str, pa.Schema] = {
    "areas": pa.schema([("area_code", pa.string()), ("area_name", pa.string()), ("area_class", pa.string())]),
    "lines": pa.schema([("line_code", pa.string()), ("line_name", pa.string()), ("area_code", pa.string())]),
    "districts": pa.schema(  # 台区: customer -> 台区 -> line -> area
        [("tq_code", pa.string()), ("tq_name", pa.string()), ("line_code", pa.string()), ("area_code", pa.string())]
    ),
    "customers": pa.schema(  # what the CIS knows of a customer; never the generator's latent causes
        [
            ("account_no", pa.string()),
            ("area_code", pa.string()),
            ("line_code", pa.string()),
            ("tq_code", pa.string()),
            ("prepaid", pa.bool_()),
            ("solar", pa.bool_()),
            ("low_income", pa.bool_()),  # registered 低保 / 五保
            ("birth_year", pa.int32()),  # of the account holder
            ("opened", pa.date32()),
        ]
    ),
    "bills": pa.schema(
        [
            ("account_no", pa.string()),
            ("period", pa.string()),  # YYYY-MM
            ("kwh", pa.float64()),
            ("amount", pa.float64()),
            ("due_date", pa.date32()),
        ]
    ),
    "payments": pa.schema(  # one row per payment; a bill never paid has none
        [
            ("account_no", pa.string()),
            ("period", pa.string()),  # the bill it settles
            ("paid_on", pa.date32()),
            ("amount", pa.float64()),
            ("channel", pa.string()),  # app | wechat | alipay | bank | counter
        ]
    ),
    "meter_reads": pa.schema(
        [("account_no", pa.string()), ("read_on", pa.date32()), ("reading_kwh", pa.float64())]  # cumulative
    ),
    "contacts": pa.schema(
        [
            ("contact_id", pa.string()),
            ("account_no", pa.string()),
            ("started_at", pa.timestamp("us")),
            ("channel", pa.string()),  # phone | chat | wechat | app
            ("function", pa.string()),  # a catalog service function id (catalog/service_functions.yml)
        ]
    ),
    "outages": pa.schema(
        [
            ("outage_id", pa.string()),
            ("line_code", pa.string()),
            ("tq_code", pa.string()),  # null: the whole line
            ("kind", pa.string()),  # fault | planned
            ("started_at", pa.timestamp("us")),
            ("duration_min", pa.int32()),
        ]
    ),
}

TRUTH_FILE = "truth.json"  # the generator's planted causes (fault-prone lines…), read only by evaluations


def write(directory: Path, name: str, table: pa.Table) -> Path:
    """Writes one table with its declared schema (cast, so a column of the wrong type fails here)."""
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.parquet"
    pq.write_table(table.select(TABLES[name].names).cast(TABLES[name]), path)
    return path


def path_of(directory: Path, name: str) -> Path:
    if name not in TABLES:
        raise KeyError(f"no insight table {name!r}")
    return directory / f"{name}.parquet"
