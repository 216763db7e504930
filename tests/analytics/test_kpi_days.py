"""Kept results of settled days (analytics/kpi_days.py): on generated and hand-made contacts, every KPI query
gives through kept days plus the raw edge exactly what it gives over the raw contacts, on SQLite and PostgreSQL
(the `sessions` fixture runs each test on both); a contact changed after its day was kept is counted anew."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from analytics import forecast, kpi_days, kpi_parts, kpis
from analytics.contacts import REFRESH_HORIZON
from analytics.kpis_range import Grain, KpiRange, to_utc
from analytics.synthetic import generate
from backend.model_base import utcnow
from backend.models_analytics import Contact
from backend.models_reports import KpiDayResult
from backend.synthetic import build_areas
from tests.analytics.kpi_contacts import add_contacts, local

FIRST = dt.date(2026, 11, 2)  # a Monday; the generated stream covers 12 days from here
DAYS = 12
Query = Callable[..., Any]
QUERIES: dict[str, Query] = {
    "summary": kpis.summary,
    "by_channel": kpis.by_channel,
    "transfer_reasons": kpis.transfer_reasons,
    "top_functions": lambda s, r, **kw: kpis.top_functions(s, r, 3, **kw),  # a short list: ties at its end
    "top_areas": kpis.top_areas,
    "satisfaction": kpis.satisfaction_scores,
}


def same(a: Any, b: Any) -> bool:
    """Equal, floats to the last few bits (a sum of per-hour sums may round differently from one long sum)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(type(a) is type(b) and a == b)


def kept_rows(s: Session) -> int:
    return int(s.execute(select(func.count()).select_from(KpiDayResult)).scalar_one())


@pytest.fixture
def generated(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        for area in build_areas():
            s.merge(area)
        s.commit()
    generate(sessions, FIRST, DAYS, 400, storm_days=(8,))
    with sessions() as s:
        yield s


def ranges() -> list[KpiRange]:
    last = FIRST + dt.timedelta(days=DAYS - 1)
    return [
        KpiRange(last, last, Grain.HOUR),
        KpiRange(FIRST + dt.timedelta(days=3), FIRST + dt.timedelta(days=5), Grain.HOUR),
        KpiRange(last - dt.timedelta(days=6), last, Grain.DAY),
        KpiRange(FIRST - dt.timedelta(days=2), last + dt.timedelta(days=1), Grain.DAY),  # empty days at both ends
        KpiRange(FIRST, last, Grain.WEEK),
        KpiRange(FIRST, last, Grain.DAY, "A01"),
    ]


def nows() -> list[dt.datetime]:
    """Now at the end of the stream (its last 3 days unsettled), in its middle, and long after (all settled)."""
    end = to_utc(dt.datetime.combine(FIRST + dt.timedelta(days=DAYS - 1), dt.time(15, 30)))
    return [end, end - dt.timedelta(days=5, hours=7), end + dt.timedelta(days=30)]


def test_every_query_through_kept_days_equals_the_raw_query_on_generated_contacts(generated: Session) -> None:
    for now in nows():
        for r in ranges():
            for name, query in QUERIES.items():
                raw = query(generated, r, kept=False)
                assert same(query(generated, r, now=now), raw), (name, r, now)
                assert same(query(generated, r, now=now), raw), (name, r, now, "read back")
    assert kept_rows(generated) > 0


def test_the_forecast_from_kept_hours_equals_the_raw_one(generated: Session) -> None:
    for now in (nows()[0], nows()[0] - dt.timedelta(days=2, minutes=17)):
        raw = forecast.forecast_24h(generated, now, weeks=2, kept=False)
        assert same(forecast.forecast_24h(generated, now, weeks=2), raw)
        assert same(forecast.forecast_24h(generated, now, weeks=2), raw)


def test_hand_made_contacts_with_ties_and_nulls(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        add_contacts(s)
        r = KpiRange(dt.date(2026, 11, 20), dt.date(2026, 11, 26))
        for now in (local(25, 12), local(26, 0), local(27, 0), local(28, 0), utcnow()):
            for grain in Grain:
                g = KpiRange(r.first, r.last, grain)
                for name, query in QUERIES.items():
                    assert same(query(s, g, now=now), query(s, g, kept=False)), (name, grain, now)
                assert same(kpis.top_functions(s, g, 2, now=now), kpis.top_functions(s, g, 2, kept=False))


def test_the_settle_rule() -> None:
    assert kpi_days.SETTLE_AFTER >= REFRESH_HORIZON  # the feed's refresh never touches a settled day's contacts
    monday = dt.date(2026, 11, 23)
    ends = local(24, 0)  # Monday ends at Tuesday's local midnight
    assert kpi_days.last_settled(ends + REFRESH_HORIZON) == monday
    assert kpi_days.last_settled(ends + REFRESH_HORIZON - dt.timedelta(seconds=1)) == monday - dt.timedelta(days=1)


def test_a_contact_changed_after_its_day_was_kept_is_counted_anew(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        add_contacts(s)
        r = KpiRange(dt.date(2026, 11, 23), dt.date(2026, 11, 24))
        now = local(30, 0)
        before = kpis.summary(s, r, now=now)["totals"]
        assert kept_rows(s) == 2  # the two settled days
        c = s.scalars(select(Contact).where(Contact.started_at == local(23, 10, 30))).one()  # the abandoned one
        c.satisfaction = 1  # a follow-up survey answered a week later
        s.commit()
        assert kept_rows(s) == 1  # the Monday was forgotten, the Tuesday kept
        after = kpis.summary(s, r, now=now)["totals"]
        assert (before["rated"], after["rated"]) == (4, 5)
        assert same(after, kpis.summary(s, r, kept=False)["totals"])
        s.add(Contact(contact_key="late:1", conversation_id="late", channel="voice", started_at=local(24, 8),
                      escalated=False, outage_related=False, told_outage=False, first_text=""))  # fmt: skip
        s.commit()  # the feed catching up after a long stop
        assert kpis.summary(s, r, now=now)["totals"]["contacts"] == before["contacts"] + 1
        unchanged = s.scalars(select(Contact).where(Contact.started_at == local(23, 9, 10))).one()
        unchanged.turns = unchanged.turns  # set to the same value: nothing forgotten
        s.commit()
        assert kept_rows(s) == 2


def test_the_periodic_task_keeps_the_recent_settled_days(generated: Session, sessions: sessionmaker[Session]) -> None:
    now = nows()[0]
    first = kpi_days.keep_recent(sessions, now, days=5, per_run=2)
    assert first == 2 * len(kpi_parts.QUERIES)
    kpi_days.keep_recent(sessions, now, days=5, per_run=10)
    assert kpi_days.keep_recent(sessions, now, days=5) == 0
    last = kpi_days.last_settled(now)
    with sessions() as s:
        days = set(s.scalars(select(KpiDayResult.day).where(KpiDayResult.area_code == "")))
    assert days == {last - dt.timedelta(days=i) for i in range(5)}
    r = KpiRange(last - dt.timedelta(days=4), last)
    assert same(kpis.summary(generated, r, now=now), kpis.summary(generated, r, kept=False))
