"""insight.refresh on a small seeded back end: the CIS population's history generated once, the risk model trained
once and kept in the store, tags with reasons, risk with its path and hot spots published; a second run reuses
the history and the model and changes no history rows; a changed population regenerates; the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.db import open_database
from backend.models_insight import CustomerRisk, CustomerTag, CustomerTagChange, Hotspot, InsightRun
from backend.synthetic import seed
from insight import __main__ as cli
from insight.refresh import POPULATION_FILE, Places, refresh

END = "2026-10"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('refresh') / 'backend.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=400)
    yield url, sessions
    engine.dispose()


def count(sessions: sessionmaker[Session], model: type, *where: object) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def test_refresh_publishes_then_reuses_the_history_and_the_model(backend, tmp_path: Path) -> None:
    _, sessions = backend
    places = Places(tmp_path / "history", tmp_path / "models")
    first = refresh(sessions, places, end_period=END)
    assert first.generated and first.trained and first.period == END and first.customers == 400
    assert (places.history / POPULATION_FILE).exists() and (places.models / "ACTIVE").exists()
    with sessions() as s:
        run = s.get(InsightRun, first.run_id)
        assert run is not None and run.status == "done" and run.model_version == first.model_version
        tags = list(s.scalars(select(CustomerTag)))
        assert tags and all(t.reason and t.period == END and t.run_id == run.id for t in tags)
        assert {t.tag for t in tags} >= {"老年", "欠费风险"}
        graded = [t for t in tags if t.tag == "欠费风险"]
        assert graded and {t.grade for t in graded} <= {"高", "中"}
        risks = list(s.scalars(select(CustomerRisk)))
        assert len(risks) == 400 and {r.grade for r in risks} <= {"高", "中", "低"}
        assert all(r.path.endswith(")") and "风险" in r.path and r.period == END for r in risks)
    assert count(sessions, Hotspot, Hotspot.run_id == first.run_id) > 0
    changes = count(sessions, CustomerTagChange)
    assert changes > 0

    again = refresh(sessions, places, end_period=END)
    assert not again.generated and not again.trained and again.model_version == first.model_version
    assert count(sessions, CustomerTagChange) == changes
    with sessions() as s:
        run = s.get(InsightRun, again.run_id)
        assert run is not None and run.counts["customer_tag_changes"] == 0


def test_a_changed_population_regenerates_the_history(backend, tmp_path: Path) -> None:
    _, sessions = backend
    places = Places(tmp_path / "history", tmp_path / "models")
    refresh(sessions, places, end_period=END)
    stamp = (places.history / POPULATION_FILE).read_text()
    with sessions.begin() as s:  # the CIS learns a customer has solar panels
        c = s.get(m.Customer, "3201000001")
        assert c is not None
        c.tags = [*c.tags, "光伏用户"]
    try:
        report = refresh(sessions, places, end_period=END)
        assert report.generated and not report.trained
        assert (places.history / POPULATION_FILE).read_text() != stamp
        assert not places.history.with_name("history.new").exists()
    finally:
        with sessions.begin() as s:
            c = s.get(m.Customer, "3201000001")
            assert c is not None
            c.tags = [t for t in c.tags if t != "光伏用户"]


def test_the_command_line_refreshes_once_with_if_none(backend, tmp_path: Path, monkeypatch, capsys) -> None:
    url, sessions = backend
    monkeypatch.setenv("P95598_VAR", str(tmp_path))
    monkeypatch.delenv("P95598_INSIGHT_HISTORY", raising=False)
    runs = count(sessions, InsightRun)
    assert cli.main(["refresh", "--db", url, "--end-period", END]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["period"] == END and report["seconds"]["total"] > 0
    assert (tmp_path / "insight" / "history" / POPULATION_FILE).exists()
    assert cli.main(["refresh", "--db", url, "--if-none"]) == 0  # a run has published: nothing to do
    assert count(sessions, InsightRun) == runs + 1
