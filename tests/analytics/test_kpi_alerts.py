"""KPI thresholds: a breach raises one alert (one row, one supervisor notice) however often it is checked, a warning
turning critical is told once more, and the alert clears when the KPI is back to normal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from analytics import alerts
from backend.models_analytics import ContactOutcome
from backend.models_notices import OutboundNotice
from backend.models_reports import KpiAlert
from tests.analytics.kpi_contacts import add_contacts

NOW = dt.datetime(2026, 11, 23, 2, 0)  # 10:00 local
ABANDON_ONLY = alerts.Thresholds(
    window=dt.timedelta(minutes=60),
    check_seconds=60,
    target_seconds=20,
    kpis=(alerts.Threshold("abandon_rate", above=True, warning=0.1, critical=0.4, min_count=4),),
)


def escalations(abandoned: int, answered: int, at: dt.datetime) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        dict(at=at, channel="voice", escalated=True, outcome=ContactOutcome.ABANDONED, turns=1, fallbacks=0)
        for _ in range(abandoned)
    ]
    rows += [
        dict(at=at, channel="voice", escalated=True, outcome=ContactOutcome.AGENT, wait_seconds=5, handle_seconds=60,
             turns=1, fallbacks=0)
        for _ in range(answered)
    ]  # fmt: skip
    return rows


def test_a_breach_raises_once_escalates_once_and_clears(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        add_contacts(s, escalations(1, 4, NOW - dt.timedelta(minutes=30)))  # 1 of 5: 20 %, a warning
        first = alerts.check(s, ABANDON_ONLY, now=NOW)
        again = alerts.check(s, ABANDON_ONLY, now=NOW + dt.timedelta(minutes=1))
        s.commit()
        assert [(c["change"], c["level"]) for c in first] == [("raised", "warning")]
        assert "放弃率20.0%，高于预警线10.0%" in first[0]["message"]
        assert again == []
        assert len(s.scalars(select(KpiAlert)).all()) == 1
        assert len(s.scalars(select(OutboundNotice).where(OutboundNotice.kind == "kpi_alert")).all()) == 1

        add_contacts(s, escalations(3, 0, NOW + dt.timedelta(minutes=2)), start=100)  # 4 of 8: 50 %, critical
        worse = alerts.check(s, ABANDON_ONLY, now=NOW + dt.timedelta(minutes=3))
        s.commit()
        assert [(c["change"], c["level"]) for c in worse] == [("escalated", "critical")]
        assert alerts.check(s, ABANDON_ONLY, now=NOW + dt.timedelta(minutes=4)) == []
        assert len(s.scalars(select(OutboundNotice).where(OutboundNotice.kind == "kpi_alert")).all()) == 2
        assert [a["level"] for a in alerts.open_alerts(s)] == ["critical"]

        # the window has moved past the first five: 3 abandoned of 43
        add_contacts(s, escalations(0, 40, NOW + dt.timedelta(minutes=50)), start=200)
        cleared = alerts.check(s, ABANDON_ONLY, now=NOW + dt.timedelta(minutes=55))
        s.commit()
        assert [c["change"] for c in cleared] == ["cleared"]
        assert alerts.open_alerts(s) == []
        row = s.scalars(select(KpiAlert)).one()
        assert row.cleared_at is not None and row.cleared_value == pytest.approx(3 / 43)


def test_too_few_contacts_neither_raise_nor_clear(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        add_contacts(s, escalations(2, 1, NOW - dt.timedelta(minutes=10)))  # 2 of 3: below min_count 4
        assert alerts.check(s, ABANDON_ONLY, now=NOW) == []
        assert s.scalars(select(KpiAlert)).all() == []


def test_the_shipped_thresholds_load_and_bad_ones_are_refused(tmp_path: Path) -> None:
    shipped = alerts.load_thresholds()
    assert {t.kpi for t in shipped.kpis} == set(alerts.BASE_COUNT)
    bad = tmp_path / "t.yml"
    bad.write_text("kpis:\n  abandon_rate: {direction: above, warning: 0.2, critical: 0.1}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="beyond its warning line"):
        alerts.load_thresholds(bad)
    bad.write_text("kpis:\n  happiness: {direction: above, warning: 1, critical: 2}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown KPI"):
        alerts.load_thresholds(bad)
