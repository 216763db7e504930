"""The surge detector on the synthetic contact stream: an injected outage opens one incident in its area and
later windows update it; a normal day opens none; an area a known outage covers is not reported; a supervisor
confirms (a fault outage is recorded) or dismisses, once."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from analytics import incidents
from analytics.surge import Detector, SurgeRule, poisson_tail
from analytics.synthetic import GroundTruth, InjectedOutage, generate, local_midnight_utc
from backend import models as m
from backend.cis import SqlCIS
from backend.cis.interface import SUSPECTED
from backend.db import make_engine, make_sessionmaker, upgrade
from backend.models_incidents import Incident, IncidentStatus
from backend.models_notices import OutboundNotice
from backend.synthetic import build_areas

START = dt.date(2026, 11, 2)  # a Monday
OUTAGE_AREA = "A07"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    """15 days of traffic (about 3,000 contacts a day), one unannounced outage on day 14 at 10:00 local."""
    path = tmp_path_factory.mktemp("surge") / "base.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        s.add_all(build_areas())
    begin = local_midnight_utc(START) + dt.timedelta(days=14, hours=10)
    outage = InjectedOutage(OUTAGE_AREA, begin, begin + dt.timedelta(hours=2), 1200)
    truth = generate(sessions, START, 15, 3000, seed=7, outages=[outage])
    engine.dispose()
    return path, truth


@pytest.fixture
def db(history: tuple[Path, GroundTruth], tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    copy = tmp_path / "copy.db"
    shutil.copy(history[0], copy)
    engine = make_engine(f"sqlite:///{copy}")
    yield make_sessionmaker(engine)
    engine.dispose()


def sweep(detector: Detector, start: dt.datetime, minutes: int, step: int = 1) -> list[int]:
    opened = []
    for i in range(0, minutes, step):
        opened += detector.run(start + dt.timedelta(minutes=i))
    return opened


def test_poisson_tail_matches_the_textbook_values() -> None:
    assert poisson_tail(0, 2.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - 0.1353352832, rel=1e-9)
    assert poisson_tail(10, 2.0) == pytest.approx(4.649807e-5, rel=1e-5)


def test_an_outage_opens_one_incident_in_its_area_within_ten_minutes(
    db: sessionmaker[Session], history: tuple[Path, GroundTruth]
) -> None:
    outage = history[1].outages[0]
    detector = Detector(db)
    opened = sweep(detector, outage.start, 15)
    assert len(opened) == 1
    incident = incidents.get(db, opened[0])
    assert incident is not None and [a["code"] for a in incident.areas] == [OUTAGE_AREA]
    assert incident.opened_at - outage.start <= dt.timedelta(minutes=10)
    assert incident.samples and all(len(t) <= 200 for t in incident.samples)
    assert incident.areas[0]["peak"] >= SurgeRule().min_count and incident.areas[0]["expected"] > 0
    # later windows update that one incident: more contacts counted since it opened, seen until later
    assert sweep(detector, outage.start + dt.timedelta(minutes=15), 25) == []
    with db() as s:
        row = s.get(Incident, opened[0])
        assert row is not None and row.contacts > incident.contacts
        assert row.last_surge_at > incident.opened_at
        assert s.scalar(select(func.count()).select_from(Incident)) == 1
        alert = s.scalars(select(OutboundNotice).where(OutboundNotice.kind == "incident_alert")).all()
        assert len(alert) >= 1 and OUTAGE_AREA in str(alert[0].payload)


def test_a_normal_day_opens_no_incident(db: sessionmaker[Session], history: tuple[Path, GroundTruth]) -> None:
    truth = history[1]
    day = 13
    assert day in truth.normal_days()
    assert sweep(Detector(db), truth.start + dt.timedelta(days=day), 24 * 60, step=5) == []


def test_an_area_a_known_outage_covers_is_not_reported(
    db: sessionmaker[Session], history: tuple[Path, GroundTruth]
) -> None:
    outage = history[1].outages[0]
    with db.begin() as s:
        s.add(m.Outage(area_code=OUTAGE_AREA, kind="fault", start=outage.start, expected_end=outage.end, reason="x"))
    assert sweep(Detector(db), outage.start, 40) == []


def test_the_caller_is_told_of_a_suspected_outage_until_a_supervisor_confirms_it(
    db: sessionmaker[Session], history: tuple[Path, GroundTruth]
) -> None:
    outage = history[1].outages[0]
    [incident_id] = sweep(Detector(db), outage.start, 15)
    cis, at = SqlCIS(db), outage.start + dt.timedelta(minutes=20)
    [told] = cis.active_outages(OUTAGE_AREA, at)
    assert told.kind == SUSPECTED and told.area_name == "城西区三网格"
    assert cis.active_outages("A01", at) == []

    decided = incidents.decide(db, incident_id, IncidentStatus.CONFIRMED, "agent:9", "抢修班已到现场", now=at)
    assert decided.status == IncidentStatus.CONFIRMED and decided.decided_by == "agent:9"
    assert decided.note == "抢修班已到现场" and decided.decided_at == at and len(decided.outage_ids) == 1
    [fault] = cis.active_outages(OUTAGE_AREA, at + dt.timedelta(minutes=1))
    assert fault.kind == "fault" and fault.start <= outage.start + dt.timedelta(minutes=15)
    with pytest.raises(incidents.IncidentConflict):
        incidents.decide(db, incident_id, IncidentStatus.DISMISSED, "agent:10", now=at)
    with db() as s:
        row = s.get(Incident, incident_id)
        assert row is not None and row.status == IncidentStatus.CONFIRMED and row.decided_by == "agent:9"


def test_a_dismissed_incident_is_recorded_once_and_its_area_stays_quiet(
    db: sessionmaker[Session], history: tuple[Path, GroundTruth]
) -> None:
    outage = history[1].outages[0]
    detector = Detector(db)
    [incident_id] = sweep(detector, outage.start, 15)
    at = outage.start + dt.timedelta(minutes=15)
    incidents.decide(db, incident_id, IncidentStatus.DISMISSED, "agent:9", "施工挖断通信线，非停电", now=at)
    with pytest.raises(incidents.IncidentConflict):
        incidents.decide(db, incident_id, IncidentStatus.DISMISSED, "agent:9", now=at)
    assert SqlCIS(db).active_outages(OUTAGE_AREA, at) == []
    assert sweep(detector, at, 20) == []  # the surge goes on, the dismissal holds
