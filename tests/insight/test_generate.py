"""The synthetic history generator: deterministic, schema-exact, topologically consistent, and showing the causes
it planted (fault-prone lines, payment habits, income shocks, elderly on the phone) in the data it writes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from backend.db import make_engine, make_sessionmaker
from insight import schema
from insight.engine import open_dataset
from insight.generate import TRUTH_CUSTOMERS_FILE, generate, generate_for, main
from insight.generate_backend import population_from_backend
from insight.jobs.bills import bill_status
from insight.periods import shift

END = "2025-06"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("insight") / "gen"
    return out, generate(out, customers=30_000, seed=7, end_period=END)


def sql(out: Path, query: str) -> list[tuple]:
    con = duckdb.connect()
    for name in [*schema.TABLES, TRUTH_CUSTOMERS_FILE.removesuffix(".parquet")]:
        con.execute(f"create view {name} as select * from read_parquet('{out / name}.parquet')")
    return con.execute(query).fetchall()


def test_the_same_seed_writes_the_same_data_and_another_seed_other_data(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    counts_a = generate(a, customers=3000, seed=1, end_period=END)
    counts_b = generate(b, customers=3000, seed=1, end_period=END)
    generate(c, customers=3000, seed=2, end_period=END)
    assert counts_a == counts_b
    for name in schema.TABLES:
        assert pq.read_table(schema.path_of(a, name)).equals(pq.read_table(schema.path_of(b, name))), name
    assert (a / schema.TRUTH_FILE).read_text() == (b / schema.TRUTH_FILE).read_text()
    assert not pq.read_table(schema.path_of(a, "bills")).equals(pq.read_table(schema.path_of(c, "bills")))


def test_every_table_has_its_schema_and_the_counts_returned(dataset: tuple[Path, dict[str, int]]) -> None:
    out, counts = dataset
    for name, expected in schema.TABLES.items():
        written = pq.read_schema(schema.path_of(out, name))
        assert written.equals(expected, check_metadata=False), f"{name}: {written} != {expected}"
        assert pq.ParquetFile(schema.path_of(out, name)).metadata.num_rows == counts[name] > 0, name
    truth = json.loads((out / schema.TRUTH_FILE).read_text(encoding="utf-8"))
    assert truth["periods"] == ["2022-07", END] and truth["customers"] == 30_000
    assert sql(out, "select count(distinct period), min(period), max(period) from bills") == [(36, "2022-07", END)]
    assert sql(out, "select count(*), count(distinct account_no) from customers") == [(30_000, 30_000)]
    assert sql(out, "select count(*) - count(distinct contact_id) from contacts") == [(0,)]


def test_customers_count_follows_the_parameter(tmp_path: Path) -> None:
    small = generate(tmp_path / "s", customers=1000, months=6, end_period=END)
    large = generate(tmp_path / "l", customers=4000, months=6, end_period=END)
    assert (small["customers"], large["customers"]) == (1000, 4000)
    assert large["districts"] > 2 * small["districts"]
    assert sql(tmp_path / "s", "select count(distinct period) from bills") == [(6,)]


def test_topology_is_consistent_and_lines_vary_in_size(dataset: tuple[Path, dict[str, int]]) -> None:
    out, _ = dataset
    mismatched = sql(
        out,
        """select count(*) from customers c left join districts d using (tq_code)
           left join lines l on l.line_code = d.line_code
           where d.tq_code is null or c.line_code <> d.line_code or c.area_code <> d.area_code
              or l.area_code <> d.area_code""",
    )
    assert mismatched == [(0,)]
    sizes = sql(
        out,
        """select min(n), max(n) from (select line_code, count(*) n from districts group by 1)""",
    )[0]
    assert sizes[0] <= 8 and sizes[1] >= 15, sizes
    tq_sizes = sql(
        out,
        "select quantile_cont(n, 0.1), quantile_cont(n, 0.9) from (select count(*) n from customers group by tq_code)",
    )[0]
    assert tq_sizes[0] >= 55 and tq_sizes[1] <= 255, tq_sizes
    assert {r[0] for r in sql(out, "select area_code from areas")} >= {"A01", "A02"}


def test_planted_lines_fail_more_per_district_than_the_others(dataset: tuple[Path, dict[str, int]]) -> None:
    out, _ = dataset
    truth = json.loads((out / schema.TRUTH_FILE).read_text(encoding="utf-8"))
    planted = set(truth["fault_prone_lines"])
    assert len(planted) >= 3
    per_tq = dict(
        sql(
            out,
            """select d.line_code, coalesce(f, 0) / count(*) from districts d left join
               (select line_code, count(*) f from outages where kind = 'fault' group by 1) o using (line_code)
               group by d.line_code, f""",
        )
    )
    mean = lambda xs: sum(xs) / len(xs)
    hot = mean([v for k, v in per_tq.items() if k in planted])
    cold = mean([v for k, v in per_tq.items() if k not in planted])
    assert hot > 2.5 * cold, (hot, cold)
    kinds = sql(out, "select kind, tq_code is null, count(*) from outages group by all")
    assert {(k, whole) for k, whole, _ in kinds} >= {("fault", True), ("fault", False), ("planned", True)}


def test_chronically_late_payers_pay_later(dataset: tuple[Path, dict[str, int]]) -> None:
    out, _ = dataset
    late = dict(
        sql(
            out,
            """select t.habit, median(p.paid_on - b.due_date) from bills b
               join (select account_no, period, max(paid_on) paid_on from payments group by all) p
                 using (account_no, period)
               join customers c using (account_no) join truth_customers t using (account_no)
               where not c.prepaid and t.income_shock_months = 0 group by 1""",
        )
    )
    assert late["punctual"] < 0 and late["chronically_late"] >= 7, late
    assert late["chronically_late"] > late["sometimes_late"] > late["punctual"], late


def test_income_shocks_leave_bills_unpaid(dataset: tuple[Path, dict[str, int]]) -> None:
    out, _ = dataset
    unpaid = dict(
        sql(
            out,
            """select t.income_shock_months > 0, avg((coalesce(p.paid, 0) < b.amount - 0.01)::int) from bills b
               left join (select account_no, period, sum(amount) paid from payments group by all) p
                 using (account_no, period)
               join truth_customers t using (account_no) where b.period < '2025-05' group by 1""",
        )
    )
    assert unpaid[True] > 0.02 and unpaid[False] < 0.002, unpaid
    low_income_shocked = dict(
        sql(
            out,
            """select c.low_income, avg((t.income_shock_months > 0)::int) from customers c
                                          join truth_customers t using (account_no) group by 1""",
        )
    )
    assert low_income_shocked[True] > 2 * low_income_shocked[False]


def test_elderly_mostly_phone_and_contacts_follow_their_causes(dataset: tuple[Path, dict[str, int]]) -> None:
    out, _ = dataset
    phone = dict(
        sql(
            out,
            """select c.birth_year <= 1960, avg((k.channel = 'phone')::int) from contacts k
               join customers c using (account_no) group by 1""",
        )
    )
    assert phone[True] > 0.7 and phone[False] < 0.55, phone
    truth = json.loads((out / schema.TRUTH_FILE).read_text(encoding="utf-8"))
    quality = sql(
        out,
        """select distinct c.tq_code from contacts k join customers c using (account_no)
           where function = 'power_quality'""",
    )
    assert {r[0] for r in quality} == set(truth["poor_quality_tqs"])
    solar = sql(
        out, "select bool_and(c.solar) from contacts k join customers c using (account_no) where function = 'solar_pv'"
    )
    assert solar == [(True,)]
    sensitive = dict(
        sql(
            out,
            """select t.outage_sensitive, count(k.account_no) / count(distinct t.account_no) from truth_customers t
               left join contacts k on k.account_no = t.account_no and function in ('fault_repair', 'outage_query')
               group by 1""",
        )
    )
    assert sensitive[True] > 3 * sensitive[False]


def test_meter_reads_add_up_to_the_billed_kwh_and_prepaid_pay_ahead(dataset: tuple[Path, dict[str, int]]) -> None:
    out, _ = dataset
    gaps = sql(
        out,
        """select max(abs(r.reading_kwh - lag_reading - b.kwh)) from (
             select account_no, read_on, reading_kwh,
                    lag(reading_kwh) over (partition by account_no order by read_on) lag_reading
             from meter_reads where account_no like '321%') r
           join bills b on b.account_no = r.account_no and strftime(r.read_on, '%Y-%m') = b.period
           where lag_reading is not null""",
    )
    assert gaps[0][0] < 0.051
    ahead = dict(
        sql(
            out,
            """select c.prepaid, median(p.paid_on - b.due_date) from payments p join bills b using (account_no, period)
                            join customers c using (account_no) group by 1""",
        )
    )
    assert ahead[True] < -20 < ahead[False]


def test_generate_for_keeps_the_cis_customers_and_topology(seeded_db_url: str, tmp_path: Path) -> None:
    sessions = make_sessionmaker(make_engine(seeded_db_url))
    population = population_from_backend(sessions, months=12, end_period=END)
    counts = generate_for(tmp_path / "cis", population, months=12, end_period=END, seed=3)
    out = tmp_path / "cis"
    con = duckdb.connect()
    with sqlite3.connect(seeded_db_url.removeprefix("sqlite:///")) as cis:
        cis_customers = cis.execute(
            """select c.account_no, c.area_code, t.line_code, c.tq_code, c.tags from customers c
               left join transformer_districts t on t.code = c.tq_code order by 1"""
        ).fetchall()
        (cis_districts,) = cis.execute("select count(*) from transformer_districts").fetchone()
    for name in schema.TABLES:
        con.execute(f"create view {name} as select * from read_parquet('{schema.path_of(out, name)}')")
    ours = con.execute(
        "select account_no, area_code, line_code, tq_code, prepaid, solar, low_income from customers order by 1"
    ).fetchall()
    assert [r[:4] for r in ours] == [r[:4] for r in cis_customers] and counts["customers"] == len(ours) > 1000
    assert counts["districts"] == cis_districts
    for (*_, tags_json), (*_, prepaid, solar, low_income) in zip(cis_customers, ours):
        tags = json.loads(tags_json)
        assert ("预付费" in tags) <= prepaid and ("光伏用户" in tags) == solar and ("低保户" in tags) == low_income
    assert sum(r[4] for r in ours) > 0 and sum(r[5] for r in ours) > 0
    assert con.execute("select count(distinct period) from bills").fetchone() == (12,)
    again = population_from_backend(sessions, months=12, end_period=END)
    assert (again.birth_year == population.birth_year).all() and (again.opened == population.opened).all()
    # a customer the CIS shows owing today (negative prepaid balance) ends the history in arrears
    with sqlite3.connect(seeded_db_url.removeprefix("sqlite:///")) as cis:
        owing = {r[0] for r in cis.execute("select account_no from balances where balance < 0")}
    assert "3201000002" in owing and owing == set(population.account_no[population.owing_now])
    ds = open_dataset(out, "duckdb")
    status = bill_status(ds).to_pandas()
    last3 = status[status.period > shift(END, -3)]
    by_owing = last3.groupby(last3.account_no.isin(owing)).in_arrears.mean()
    assert by_owing[True] == 1.0 and by_owing[False] < 0.2


def test_the_command_line_writes_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(tmp_path / "cli"), "--customers", "500", "--months", "3", "--end-period", END])
    assert json.loads(capsys.readouterr().out)["customers"] == 500
    assert sql(tmp_path / "cli", "select min(period), max(period) from bills") == [("2025-04", END)]
