"""Erlang C against known values, and the 24-hour forecast on hand-made history (hour-of-week means, agents)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from analytics import charts, forecast
from backend.models_analytics import ContactOutcome
from tests.analytics.kpi_contacts import add_contacts, local


def test_erlang_c_matches_exact_and_published_values() -> None:
    assert forecast.erlang_c(2, 1.0) == pytest.approx(1 / 3)  # exact: one Erlang on two agents
    assert forecast.erlang_c(3, 2.0) == pytest.approx(4 / 9)  # exact: two Erlangs on three agents
    assert forecast.erlang_c(11, 10.0) == pytest.approx(0.6821, abs=1e-4)  # Erlang C tables
    assert forecast.erlang_c(10, 10.0) == 1.0  # no more agents than Erlangs: everyone waits
    assert forecast.erlang_b(5, 3.0) == pytest.approx(0.1101, abs=1e-4)  # Erlang B tables


def test_agents_needed_for_80_in_20_is_the_textbook_answer() -> None:
    # 100 contacts in 30 min, 180 s handling: 10 Erlangs; 13 agents reach 79.6 %, 14 reach 88.8 %
    assert forecast.service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=1e-3)
    assert forecast.service_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=1e-3)
    assert forecast.agents_needed(200, 180) == 14
    assert forecast.agents_needed(200, 180, target_level=0.7) == 13
    assert forecast.agents_needed(0, 180) == 0


def history(day: int, hour: int, n: int, escalate_every: int = 2) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(n):
        escalated = i % escalate_every == 0
        rows.append(
            dict(at=local(day, hour, i % 60), channel="voice", turns=1, fallbacks=0, escalated=escalated,
                 outcome=ContactOutcome.AGENT if escalated else ContactOutcome.CONTAINED,
                 wait_seconds=5 if escalated else None, handle_seconds=360 if escalated else 60)
        )  # fmt: skip
    return rows


def test_the_forecast_averages_the_same_hour_of_the_weeks_it_has(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        # two Mondays of history at 09 local: 40 then 20 contacts; half escalated, 360 s each with an agent
        add_contacts(s, history(16, 9, 40) + history(23, 9, 20))
        now = local(30, 8, 30)  # Monday 08:30 local
        f = forecast.forecast_24h(s, now=now)
    hours = f["hours"]
    assert len(hours) == 24 and hours[0]["label"] == "30日09时"
    assert hours[0]["baseline"] == pytest.approx(30.0)  # (40 + 20) / 2 weeks of history
    assert hours[1]["baseline"] == 0.0 and hours[1]["agents"] == 0
    assert f["aht_seconds"] == pytest.approx(360) and f["aht_measured"]
    assert f["escalation_share"] == pytest.approx(0.5)
    # 15 agent contacts in the hour at 360 s: 1.5 Erlangs; 3 agents answer 78 % within 20 s, 4 agents 94 %
    assert forecast.service_level(3, 1.5, 360, 20) == pytest.approx(0.783, abs=1e-3)
    assert hours[0]["agents"] == 4
    assert "Erlang C" in f["method"]


def test_an_open_incident_adds_its_recent_outage_calls_decaying(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        storm = [dict(at=local(30, 8, m), channel="voice", area_code="A01", outage_related=True, turns=1,
                      fallbacks=0, outcome=ContactOutcome.CONTAINED) for m in range(30)]  # fmt: skip
        add_contacts(s, history(23, 8, 1) + storm)  # a week of history: one contact a week ago
        f = forecast.forecast_24h(s, now=local(30, 8, 30), incident_areas=["A01"])
    excess = [h["excess"] for h in f["hours"]]
    assert f["incident_excess_now"] == pytest.approx(30.0)
    assert excess[0] == pytest.approx(30 * 0.5**0.5, abs=0.1) and excess[3] == pytest.approx(30 * 0.5**2, abs=0.1)
    assert excess == sorted(excess, reverse=True)


def test_without_a_week_of_history_the_forecast_says_so_instead_of_zeros(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert forecast.forecast_24h(s, now=local(30, 8, 30))["note"] == forecast.NOT_ENOUGH  # a fresh installation
        add_contacts(s, history(25, 9, 10))  # five days of history: the coming hours of the week are not all seen
        f = forecast.forecast_24h(s, now=local(30, 8, 30))
    assert not f["available"] and f["hours"] == [] and "不足一周" in f["note"]
    spec = charts.forecast(f)
    assert charts.is_empty(spec) and spec["usermeta"]["note"] == forecast.NOT_ENOUGH and "layer" not in spec
