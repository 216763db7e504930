"""insight.publish: one run's results replace the current tags and risk in one transaction, the tag history is
merged (a re-run of the same period writes the same rows), hot spots of old runs go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import open_database
from backend.models_insight import CustomerRisk, CustomerTag, CustomerTagChange, Hotspot, InsightRun
from insight.publish import KEEP_HOTSPOT_RUNS, RunResults, fail_run, latest_run, publish, start_run


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine, made = open_database(f"sqlite:///{tmp_path / 'publish.db'}")
    yield made
    engine.dispose()


def tag(account: str, name: str, reason: str, grade: str | None = None) -> dict:
    return {"account_no": account, "tag": name, "reason": reason, "grade": grade, "rule_id": name, "rule_version": 1}


def hotspot(code: str) -> dict:
    return {
        "level": "line", "measure": "faults", "code": code, "name": f"{code}线", "area_code": "A01",
        "first_period": "2025-11", "last_period": "2026-10", "size": 120, "observed": 9, "expected": 3.1,
        "rate_ratio": 2.9, "p_value": 0.002, "q_value": 0.01, "significant": True, "rank": 1,
        "trend": [{"quarter": "2026Q3", "count": 4}], "suggestion": "建议安排线路巡视",
    }  # fmt: skip


def results(period: str = "2026-10") -> RunResults:
    return RunResults(
        engine="duckdb",
        period=period,
        tags=[tag("3201000001", "敏感客户", "近12个月投诉3次"), tag("3201000002", "欠费风险", "近12个月逾期4次", "高")],
        history=[
            {"account_no": "3201000001", "tag": "敏感客户", "gained_period": "2026-07", "lost_period": None},
            {"account_no": "3201000001", "tag": "高频来电", "gained_period": "2025-02", "lost_period": "2025-09"},
            {"account_no": "3201000002", "tag": "欠费风险", "gained_period": "2026-01", "lost_period": None},
        ],
        risk=[
            {
                "account_no": "3201000002",
                "period": "2026-11",
                "probability": 0.81,
                "grade": "高",
                "path": "近12个月逾期≥3次 → 预付费 → 高",
                "model_version": "tree-1",
            },
        ],  # fmt: skip
        hotspots=[hotspot("L001")],
        model_version="tree-1",
    )


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_run_publishes_and_a_rerun_of_the_period_writes_the_same_rows(sessions) -> None:
    run_id = start_run(sessions, "duckdb", "2026-10")
    assert publish(sessions, results(), run_id) == run_id
    with sessions() as s:
        run = s.get(InsightRun, run_id)
        assert run is not None and run.status == "done" and run.counts["customer_tags"] == 2
        since = s.get(CustomerTag, ("3201000001", "敏感客户"))
        assert since is not None and since.since_period == "2026-07" and since.period == "2026-10"
        risk = s.get(CustomerRisk, "3201000002")
        assert risk is not None and risk.grade == "高" and "预付费" in risk.path
    before = count(sessions, CustomerTagChange)
    publish(sessions, results())
    assert count(sessions, CustomerTagChange) == before == 3
    assert count(sessions, CustomerTag) == 2 and count(sessions, CustomerRisk) == 1


def test_the_next_period_closes_a_lost_tag_and_replaces_the_current_ones(sessions) -> None:
    publish(sessions, results())
    later = results("2026-11")
    later.tags = [tag("3201000002", "欠费风险", "近12个月逾期5次", "高")]
    later.history[0] = {**later.history[0], "lost_period": "2026-11"}
    publish(sessions, later)
    with sessions() as s:
        assert s.get(CustomerTag, ("3201000001", "敏感客户")) is None
        q = select(CustomerTagChange).where(CustomerTagChange.account_no == "3201000001")
        [change] = s.scalars(q.where(CustomerTagChange.tag == "敏感客户"))
        assert change.gained_period == "2026-07" and change.lost_period == "2026-11"
    assert count(sessions, CustomerTagChange) == 3


def test_hot_spots_of_old_runs_are_removed_and_a_failed_run_is_recorded(sessions) -> None:
    for _ in range(KEEP_HOTSPOT_RUNS + 2):
        last = publish(sessions, results())
    assert count(sessions, Hotspot) == KEEP_HOTSPOT_RUNS
    failed = start_run(sessions, "spark", "2026-10")
    fail_run(sessions, failed, "java not found")
    run = latest_run(sessions)
    assert run is not None and run.id == last
    with sessions() as s:
        bad = s.get(InsightRun, failed)
        assert bad is not None and bad.status == "failed" and bad.error == "java not found"


def holdings(sessions: sessionmaker[Session], tag_name: str) -> list[tuple[str, str, str | None]]:
    with sessions() as s:
        q = select(CustomerTagChange).where(CustomerTagChange.tag == tag_name).order_by(CustomerTagChange.gained_period)
        return [(c.account_no, c.gained_period, c.lost_period) for c in s.scalars(q)]


def test_a_holding_open_before_the_recomputed_window_goes_on_as_the_same_row(sessions) -> None:
    first = RunResults(
        engine="duckdb", period="2026-10", history_from="2025-11", history_tags={"老年"},
        tags=[tag("3201000004", "老年", "户主78岁")],
        history=[{"account_no": "3201000004", "tag": "老年", "gained_period": "2025-11", "lost_period": None}],
    )  # fmt: skip
    publish(sessions, first)
    later = RunResults(
        engine="duckdb", period="2026-11", history_from="2025-12", history_tags={"老年"},
        tags=[tag("3201000004", "老年", "户主78岁")],
        history=[{"account_no": "3201000004", "tag": "老年", "gained_period": "2025-12", "lost_period": None}],
    )  # fmt: skip
    publish(sessions, later)
    assert holdings(sessions, "老年") == [("3201000004", "2025-11", None)]
    with sessions() as s:
        held = s.get(CustomerTag, ("3201000004", "老年"))
        assert held is not None and held.since_period == "2025-11"


def test_a_tag_without_recomputed_history_is_followed_run_by_run(sessions) -> None:
    """欠费风险 needs the run's risk scores, so its history is what successive runs saw."""

    def run(period: str, holds: bool) -> None:
        publish(
            sessions,
            RunResults(
                engine="duckdb", period=period, history_tags=set(), history_from=period,
                tags=[tag("3201000002", "欠费风险", "模型评为高", "高")] if holds else [],
            ),
        )  # fmt: skip

    run("2026-09", True)
    run("2026-09", True)  # a re-run of the period
    assert holdings(sessions, "欠费风险") == [("3201000002", "2026-09", None)]
    run("2026-10", True)
    run("2026-11", False)
    assert holdings(sessions, "欠费风险") == [("3201000002", "2026-09", "2026-11")]
    run("2026-11", True)  # the period re-run with other results: held after all
    assert holdings(sessions, "欠费风险") == [("3201000002", "2026-09", None)]
    run("2026-11", False)
    run("2026-12", True)
    assert holdings(sessions, "欠费风险") == [("3201000002", "2026-09", "2026-11"), ("3201000002", "2026-12", None)]
    with sessions() as s:
        held = s.get(CustomerTag, ("3201000002", "欠费风险"))
        assert held is not None and held.since_period == "2026-12" and held.grade == "高"
    run("2027-01", False)
    run("2027-02", True)
    run("2027-02", False)  # gained, then not, in re-runs of one period: no holding is left for it
    assert holdings(sessions, "欠费风险") == [
        ("3201000002", "2026-09", "2026-11"),
        ("3201000002", "2026-12", "2027-01"),
    ]
