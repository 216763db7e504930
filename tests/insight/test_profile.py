"""The customer profile (客户画像) of a generated customer holds the numbers counted here by hand from the Parquet
files (pandas, not the jobs' Ibis): 36 billing periods and their kWh, each bill on time / late / in arrears / not
yet due, the contacts by channel and per quarter (every quarter, those without contacts as 0), the payment channels
of the last 12 months; the published tags and risk appear with their reasons and path, the risk said of the bill
it is for and its due date; a bad or unknown 户号 is a clear error; the command line writes the HTML (and exits 2
for an unknown account)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from analytics.charts import to_svg
from backend.db import open_database
from backend.models_insight import CustomerRisk, CustomerTag, CustomerTagChange
from insight import charts, profile
from insight.engine import Dataset
from insight.jobs.segments import GENERAL, SEGMENTS
from insight.profile_cli import main as cli

GRACE = 15
CHANNELS = {"phone": "电话", "chat": "在线客服", "wechat": "微信", "app": "网上国网"}


def by_hand(history: Path) -> tuple[str, dict[str, int], pd.DataFrame, pd.DataFrame, dt.date]:
    """A customer with a late and an arrears bill and the most contacts, their bills' statuses counted by hand."""
    bills = pd.read_parquet(history / "bills.parquet")
    pays = pd.read_parquet(history / "payments.parquet")
    contacts = pd.read_parquet(history / "contacts.parquet")
    as_of = pays["paid_on"].max()
    as_of = as_of.date() if hasattr(as_of, "date") else as_of
    paid = pays.groupby(["account_no", "period"]).agg(paid=("amount", "sum"), last=("paid_on", "max")).reset_index()
    b = bills.merge(paid, on=["account_no", "period"], how="left")
    b["due"] = pd.to_datetime(b["due_date"]).dt.date
    b["settled"] = [
        pd.Timestamp(last).date() if pd.notna(p) and p >= amount - 0.01 else None
        for p, amount, last in zip(b["paid"], b["amount"], b["last"], strict=True)
    ]

    def status(row: pd.Series) -> str:
        if row["settled"] is None:
            return "欠费" if row["due"] + dt.timedelta(days=GRACE) <= as_of else "未到期"
        late = (row["settled"] - row["due"]).days
        return "欠费" if late > GRACE else ("逾期缴清" if late > 0 else "按时缴费")

    b["status"] = b.apply(status, axis=1)
    per = b.pivot_table(index="account_no", columns="status", values="period", aggfunc="count", fill_value=0)
    talks = contacts.groupby("account_no").size()
    both = per[(per.get("逾期缴清", 0) > 0) & (per.get("欠费", 0) > 0)].index
    account = max(both, key=lambda a: (int(talks.get(a, 0)), a))
    counts = {k: int(per.loc[account].get(k, 0)) for k in ("按时缴费", "逾期缴清", "欠费", "未到期")}
    return account, counts, bills[bills.account_no == account], contacts[contacts.account_no == account], as_of


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    engine, made = open_database(f"sqlite:///{tmp_path_factory.mktemp('profile') / 'p.db'}")
    yield made
    engine.dispose()


def test_the_profile_of_a_generated_customer_holds_the_hand_counted_numbers(
    duck: Dataset, history_dir: Path, sessions: sessionmaker[Session]
) -> None:
    account, counts, bills, contacts, as_of = by_hand(history_dir)
    with sessions.begin() as s:
        s.add(CustomerTag(account_no=account, tag="欠费风险", grade="高", reason="近12个月欠费2次", period="2026-10",
                          since_period="2026-05", rule_id="arrears", rule_version=1, run_id=1))  # fmt: skip
        s.add(CustomerTagChange(account_no=account, tag="欠费风险", gained_period="2026-05", lost_period=None))
        s.add(CustomerRisk(account_no=account, period="2026-11", probability=0.71, grade="高",
                           path="近6个月逾期≥2次 → 高", model_version="t", run_id=1))  # fmt: skip
    with sessions() as s:
        data = profile.profile_data(duck, s, account)
    assert data["account"] == "******" + account[-4:] and data["holder"] is None  # not a customer of this CIS
    assert data["as_of"] == as_of
    assert [u["period"] for u in data["usage"]] == sorted(bills["period"]) and len(data["usage"]) == len(bills)
    assert data["usage_summary"]["total"] == pytest.approx(round(bills["kwh"].sum(), 1), abs=0.05)
    assert data["payment_counts"] == counts
    assert data["contacts"]["total"] == len(contacts)
    by_channel = {CHANNELS[k]: int(v) for k, v in contacts["channel"].value_counts().items()}
    assert {c["name"]: c["count"] for c in data["contacts"]["by_channel"]} == by_channel
    assert sum(q["count"] for q in data["contacts"]["per_quarter"]) == len(contacts)
    # every quarter from the first bill's to the last day's, those without contacts as 0 above an empty bar
    first = pd.Timestamp(bills["period"].min() + "-01")
    quarters = pd.period_range(first, pd.Timestamp(as_of), freq="Q").strftime("%YQ%q").tolist()
    assert data["contacts"]["quarters"] == quarters
    per_quarter = pd.to_datetime(contacts["started_at"]).dt.to_period("Q").dt.strftime("%YQ%q").value_counts()
    bars, totals = data["charts"]["contacts"]["layer"]
    assert bars["encoding"]["x"]["scale"]["domain"] == quarters
    assert totals["data"]["values"] == [{"季度": q, "合计": int(per_quarter.get(q, 0))} for q in quarters]
    pays = pd.read_parquet(history_dir / "payments.parquet")
    pays = pays[(pays.account_no == account) & (pd.to_datetime(pays.paid_on).dt.date > as_of - dt.timedelta(days=365))]
    assert {c["name"]: c["count"] for c in data["payment_channels"]} == {
        profile.PAY_CHANNELS[k]: int(v) for k, v in pays["channel"].value_counts().items()
    }
    assert data["tags"][0]["tag"] == "欠费风险" and data["risk"]["grade"] == "高"
    names = {s.name for s in (*SEGMENTS, GENERAL)}
    assert data["segment"]["name"] in names and data["segment"]["period"] == bills["period"].max()

    html = profile.render_html(data)
    assert f"<b>{len(contacts)}</b>联系总次数" in html and f'data-status="欠费"><b>{counts["欠费"]}</b>' in html
    assert "近12个月欠费2次" in html and "近6个月逾期≥2次 → 高" in html and html.count("<svg") >= 4
    assert "2026-11账单欠费风险（12月15日到期）" in html and "下期" not in html  # the bill of 2026-11, due 12-15
    assert "近12个月缴费渠道" in html and "常用缴费渠道" not in html
    assert f"客户分群：<b>{data['segment']['name']}</b>" in html
    assert account not in html  # masked


def test_quarters_without_contacts_are_zero_bars() -> None:
    assert profile.quarters(dt.date(2025, 11, 1), dt.date(2026, 11, 12)) == [
        "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4",
    ]  # fmt: skip
    spec = charts.contacts_over_time(
        [{"quarter": "2025Q4", "channel": "电话", "count": 2}, {"quarter": "2026Q2", "channel": "微信", "count": 1}],
        ["2025Q4", "2026Q1", "2026Q2", "2026Q3"],
    )
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    totals = {v["季度"]: v["合计"] for v in spec["layer"][1]["data"]["values"]}
    assert totals == {"2025Q4": 2, "2026Q1": 0, "2026Q2": 1, "2026Q3": 0}
    svg = to_svg(spec)
    assert ">2026Q1</text>" in svg and svg.count(">0</text>") == 3  # the axis's 0 and one over each empty quarter


def test_the_risk_is_said_of_its_bill_and_due_date() -> None:
    assert profile.due_date("2026-11", []) == dt.date(2026, 12, 15)
    assert profile.due_date("2026-12", []) == dt.date(2027, 1, 15)
    bills = [{"period": "2026-11", "due_date": dt.date(2026, 12, 16)}]
    assert profile.due_date("2026-11", bills) == dt.date(2026, 12, 16)  # as the history has it


def test_a_bad_or_unknown_account_is_a_clear_error(duck: Dataset, sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        with pytest.raises(profile.BadAccount, match="10位数字"):
            profile.profile_data(duck, s, "12345")
        with pytest.raises(profile.ProfileError, match="没有户号为 \\*\\*\\*\\*\\*\\*0000 的客户"):
            profile.profile_data(duck, s, "3100000000")


def test_the_command_line_writes_the_profile(
    history_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = by_hand(history_dir)[0]
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    open_database(db)[0].dispose()
    out = tmp_path / "out" / "profile.html"
    assert cli([account, "--out", str(out), "--history", str(history_dir), "--db", db]) == 0
    assert "客户画像" in out.read_text(encoding="utf-8")
    assert cli(["3100000000", "--out", str(out), "--history", str(history_dir), "--db", db]) == 2
    assert "没有户号为" in capsys.readouterr().err
    assert cli([account, "--out", str(out), "--history", str(tmp_path / "none"), "--db", db]) == 2
    from insight.__main__ import main as insight_main

    pdf = tmp_path / "profile.pdf"
    done = insight_main(["profile", account, "--out", str(pdf), "--history", str(history_dir), "--db", db])
    assert (done == 0 and pdf.read_bytes()[:5] == b"%PDF-") or (done == 1 and "chromium" in capsys.readouterr().err)
