"""The KPI queries on hand-made contacts with known answers, on SQLite and on PostgreSQL (the `sessions` fixture runs
each test on both: the same Core expressions must give the same figures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from analytics import kpis
from analytics.kpis_live import live_traffic
from analytics.kpis_range import Grain, KpiRange, RangeError, parse_range
from knowledge.catalog import catalog
from tests.analytics.kpi_contacts import AREAS, COMPLAINT_TEXT, FALLBACK_TEXT, add_contacts, local

TWO_DAYS = KpiRange(dt.date(2026, 11, 23), dt.date(2026, 11, 24))


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Any:
    with sessions() as s:
        add_contacts(s)
        yield s


def test_the_totals_of_two_days_are_the_hand_counted_ones(db: Session) -> None:
    t = kpis.summary(db, TWO_DAYS)["totals"]
    assert (t["contacts"], t["finished"], t["contained"], t["escalated"]) == (6, 5, 2, 3)
    assert t["containment"] == pytest.approx(0.4)
    assert t["transfer_rate"] == pytest.approx(0.5)
    assert (t["turns"], t["fallbacks"]) == (17, 5)
    assert t["fallback_rate"] == pytest.approx(5 / 17)
    assert t["handle_seconds"] == pytest.approx(400)
    assert t["abandon_rate"] == pytest.approx(1 / 3)
    assert (t["answered"], t["answered_within"]) == (2, 1)
    assert t["service_level"] == pytest.approx(0.5)
    assert t["wait_seconds"] == pytest.approx(25)
    assert t["satisfaction"] == pytest.approx(4.0) and t["rated"] == 4


def test_the_service_level_target_is_configurable(db: Session) -> None:
    assert kpis.summary(db, TWO_DAYS, target_seconds=60)["totals"]["service_level"] == pytest.approx(1.0)


def test_days_are_local_days_and_an_empty_day_has_no_figures(db: Session) -> None:
    r = KpiRange(dt.date(2026, 11, 23), dt.date(2026, 11, 26))
    series = kpis.summary(db, r)["series"]
    assert [p["label"] for p in series] == ["11月23日", "11月24日", "11月25日", "11月26日"]
    assert [p["contacts"] for p in series] == [5, 1, 1, 0]  # 00:30 local on the 24th is still the 23rd in UTC
    quiet = series[3]
    assert quiet["containment"] is None and quiet["service_level"] is None and quiet["satisfaction"] is None


def test_hours_and_weeks_are_bucketed_in_local_time(db: Session) -> None:
    hours = kpis.summary(db, KpiRange(dt.date(2026, 11, 23), dt.date(2026, 11, 24), Grain.HOUR))["series"]
    assert len(hours) == 48
    busy = {p["label"]: p["contacts"] for p in hours if p["contacts"]}
    assert busy == {"11月23日 09时": 2, "11月23日 10时": 2, "11月23日 23时": 1, "11月24日 00时": 1}
    weeks = kpis.summary(db, KpiRange(dt.date(2026, 11, 22), dt.date(2026, 11, 30), Grain.WEEK))["series"]
    assert [(p["label"], p["contacts"]) for p in weeks] == [
        ("11月16日起一周", 1),  # Sunday the 22nd belongs to the week that began on Monday the 16th
        ("11月23日起一周", 7),
        ("11月30日起一周", 0),
    ]


def test_an_area_filter_counts_only_that_area(db: Session) -> None:
    t = kpis.summary(db, KpiRange(TWO_DAYS.first, TWO_DAYS.last, area="A02"))["totals"]
    assert (t["contacts"], t["escalated"], t["handled"], t["abandoned"]) == (2, 2, 1, 1)
    assert t["abandon_rate"] == pytest.approx(0.5)


def test_contacts_by_channel_per_day(db: Session) -> None:
    points = kpis.by_channel(db, TWO_DAYS)
    got = {(p["label"], p["name"]): p["contacts"] for p in points if p["contacts"]}
    assert got == {
        ("11月23日", "电话"): 3,
        ("11月23日", "网页聊天"): 1,
        ("11月23日", "微信"): 1,
        ("11月24日", "网页聊天"): 1,
    }
    assert [(t["name"], t["contacts"]) for t in kpis.channel_totals(points)] == [
        ("电话", 3),
        ("网页聊天", 2),
        ("微信", 1),
    ]


def test_transfer_reasons_have_chinese_labels(db: Session) -> None:
    reasons = {r["name"]: r["contacts"] for r in kpis.transfer_reasons(db, TWO_DAYS)}
    assert reasons == {"客户要求转人工": 1, "客户情绪激动": 1, "机器人两次没能理解": 1}


def test_top_functions_are_named_from_the_catalog_never_by_intent(db: Session) -> None:
    top = kpis.top_functions(db, TWO_DAYS)
    names = {t["name"] for t in top}
    c = catalog()
    assert names == {c.name("fault_repair"), c.name("bill_query"), c.name("complaint"), c.name("outage_query"),
                     c.name("payment"), kpis.NO_FUNCTION}  # fmt: skip
    assert not names & set(c.functions)  # no raw ids
    assert sum(t["contacts"] for t in top) == 6


def test_top_areas_use_area_names(db: Session) -> None:
    top = kpis.top_areas(db, TWO_DAYS)
    assert [(t["name"], t["contacts"], t["outage"]) for t in top] == [
        (AREAS["A01"], 3, 1),
        (AREAS["A02"], 2, 0),
        (kpis.NO_AREA, 1, 1),
    ]


def test_satisfaction_scores_complaints_and_misunderstandings(db: Session) -> None:
    scores = {s["score"]: s["contacts"] for s in kpis.satisfaction_scores(db, TWO_DAYS)}
    assert scores == {1: 0, 2: 1, 3: 0, 4: 1, 5: 2}
    complaints = kpis.complaints(db, TWO_DAYS)
    assert complaints["contacts"] == 1 and [x["text"] for x in complaints["samples"]] == [COMPLAINT_TEXT]
    missed = kpis.misunderstandings(db, TWO_DAYS)
    assert missed["contacts"] == 3
    assert missed["samples"][0]["text"] == FALLBACK_TEXT and missed["samples"][0]["function"] == kpis.NO_FUNCTION


def test_hour_of_week_counts_for_the_forecast(db: Session) -> None:
    counts = kpis.hour_of_week_counts(db, TWO_DAYS.start, TWO_DAYS.end, TWO_DAYS.offset_hours())
    assert counts == {9: 2, 10: 2, 23: 1, 24: 1}  # Monday 09, 10 and 23 o'clock; Tuesday 00 o'clock


@pytest.mark.parametrize(
    ("first", "last", "grain", "area", "says"),
    [
        ("2026-11-30", "2026-11-23", "day", None, "开始日期晚于结束日期"),
        ("2021-01-01", "2026-01-01", "day", None, "最多选366天"),
        ("2026-11-01", "2026-12-31", "hour", None, "按小时统计最多选31天"),
        ("2026-11-23", "2026-11-29", "day", "Z99", "没有编号为 Z99 的供电区域"),
        ("2026/11/23", "2026-11-29", "day", None, "格式不对"),
        ("2026-11-23", "2026-11-29", "minute", None, "统计粒度"),
    ],
)
def test_bad_ranges_are_refused_with_a_chinese_sentence(
    first: str, last: str, grain: str, area: str | None, says: str
) -> None:
    with pytest.raises(RangeError, match=says):
        parse_range(first, last, grain, area, known_areas=AREAS)


def test_a_good_range_is_parsed() -> None:
    r = parse_range("2026-11-23", "2026-11-29", "week", " A01 ", known_areas=AREAS)
    assert (r.first, r.last, r.grain, r.area, r.days) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 29),
        Grain.WEEK,
        "A01",
        7,
    )
    assert r.start == dt.datetime(2026, 11, 22, 16) and r.end == dt.datetime(2026, 11, 29, 16)


def test_live_traffic_counts_the_last_hour_and_what_is_still_going_on(db: Session) -> None:
    now = local(24, 0, 40)  # ten minutes after the 00:30 chat, seventy after the 23:30 call
    live = live_traffic(db, now)
    windows = {w["minutes"]: w["contacts"] for w in live["windows"]}
    assert windows == {15: 1, 60: 1}  # the 00:30 chat; the 23:30 call is 70 minutes old
    assert live["in_progress"] == 0  # the 23:30 call is in progress but silent for over 30 minutes
    assert live["in_progress"] == live_traffic(db, local(23, 23, 45))["in_progress"] - 1  # then it was going on
