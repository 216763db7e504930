"""The supervisor's figures (backend.contact_centre.metrics), each formula on a hand-built day of cases, agents,
ratings and bot turns, on real SQLite and PostgreSQL; and no invented figure when there is nothing to count."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre import ContactStore
from backend.contact_centre import metrics as mx

NOW = dt.datetime(2026, 12, 4, 6, 0, 0)  # naive UTC: 14:00 in Shanghai; the local day began at 12-03 16:00 UTC
S = dt.timedelta(seconds=1)
MIN = dt.timedelta(minutes=1)


def _agent(s: Session, username: str, name: str, **kw: object) -> m.Agent:
    a = m.Agent(username=username, display_name=name, password_hash="x", **kw)
    s.add(a)
    s.flush()
    return a


def _case(s: Session, key: str, created: dt.datetime, **kw: object) -> m.Escalation:
    values: dict[str, object] = {"channel": "chat", "reason": "customer_request", "status": "waiting", "context": {}}
    e = m.Escalation(conversation_id=f"chat:{key}", summary=key, created_at=created, **(values | kw))
    s.add(e)
    s.flush()
    return e


@pytest.fixture
def day(sessions: sessionmaker[Session]) -> dict[str, int]:
    """One working day (and a few rows of the day before, which no figure may count)."""
    with sessions.begin() as s:
        a1 = _agent(s, "1001", "张丽", status="available", status_since=NOW - 125 * S, last_seen=NOW - 5 * S)
        a2 = _agent(
            s, "1002", "王强", status="busy", status_reason="会议", status_since=NOW - 60 * S, last_seen=NOW - 10 * S
        )
        a3 = _agent(s, "1003", "李娜", status="available", status_since=NOW - 3 * 3600 * S, last_seen=NOW - 10 * MIN)
        sup = _agent(s, "9001", "刘主管", role="supervisor", status="available", last_seen=NOW - S)
        ids = {"a1": a1.id, "a2": a2.id, "a3": a3.id, "sup": sup.id}
        t = NOW - 3 * 60 * MIN
        ids["c1"] = _case(
            s, "c1", t, status="closed", agent_id=a1.id, claimed_at=t + 10 * S, closed_at=t + 10 * S + 300 * S
        ).id  # answered in 10 s, handled 5 min
        t = NOW - 2 * 60 * MIN
        _case(s, "c2", t, status="returned", agent_id=a1.id, claimed_at=t + 30 * S, closed_at=t + 30 * S + 180 * S)
        t = NOW - 60 * MIN
        ids["c3"] = _case(s, "c3", t, status="claimed", agent_id=a2.id, claimed_at=t + 20 * S, skill="bill_query").id
        t = NOW - 50 * MIN
        _case(s, "c4", t, status="closed", abandoned_at=t + 2 * MIN, closed_at=t + 2 * MIN)  # left while waiting
        t = NOW - 40 * MIN
        _case(s, "c5", t, status="returned", closed_at=t + 5 * MIN)  # back to the bot, never answered
        _case(s, "c6", NOW - 90 * S, skill="billing")
        _case(s, "c7", NOW - 30 * S, context={"functions": [{"function": "fault_repair", "confidence": 0.9}]})
        _case(s, "c8", NOW - 200 * S, skill="payment")  # a function id: counted under its group
        _case(s, "c10", NOW - 100 * S, abandoned_at=NOW - 50 * S)  # gone: not in the queue any more
        t = NOW - 30 * MIN  # answered by 王强 in 10 s, taken over by the supervisor, closed 590 s after the claim
        _case(s, "c11", t, status="closed", agent_id=sup.id, claimed_at=t + 10 * S, closed_at=t + 600 * S)
        y = NOW - dt.timedelta(days=1)  # yesterday: slow, long, rated badly; counted nowhere today
        _case(s, "c9", y, status="closed", agent_id=a2.id, claimed_at=y + 300 * S, closed_at=y + 3600 * S)
        for n, (agent, score, answered) in enumerate(
            [(a1, 5, NOW - MIN), (a1, 4, NOW - 2 * MIN), (a1, 1, y), (a2, None, None), (a2, 3, NOW - 3 * MIN)]
        ):
            s.add(
                m.Rating(
                    contact_key=f"case:x{n}",
                    conversation_id=f"chat:r{n}",
                    agent_id=agent.id,
                    channel="chat",
                    score=score,
                    asked_at=(answered or NOW) - MIN,
                    answered_at=answered,
                )
            )
        for n, (conv, at, fallback, kind) in enumerate(
            [
                ("chat:b1", NOW - 5 * MIN, False, "turn"),
                ("chat:b1", NOW - 4 * MIN, True, "turn"),
                ("chat:b1", NOW - 3 * MIN, False, "turn"),
                ("chat:b2", NOW - 2 * MIN, False, "turn"),
                ("chat:c1", NOW - 3 * 60 * MIN - MIN, True, "turn"),
                ("chat:c1", NOW - 3 * 60 * MIN - 30 * S, False, "turn"),
                ("chat:c1", NOW - 3 * 60 * MIN, False, "handoff"),  # not a customer turn
                ("chat:old", y, True, "turn"),  # yesterday
            ]
        ):
            s.add(
                m.TurnAnalytics(
                    event_key=f"e{n}", conversation_id=conv, at=at, kind=kind, fallback=fallback, channel="chat"
                )
            )
    return ids


def test_today_is_the_local_calendar_day() -> None:
    d = mx.today(NOW)
    assert (d.start, d.end) == (dt.datetime(2026, 12, 3, 16), dt.datetime(2026, 12, 4, 16))
    assert mx.today(dt.datetime(2026, 12, 4, 15, 59, 59)).start == d.start  # 23:59:59 in Shanghai
    assert mx.today(dt.datetime(2026, 12, 4, 16)).start == dt.datetime(2026, 12, 4, 16)  # midnight: a new day
    assert NOW in d and d.end not in d


def test_queue_by_skill_group_counts_waiting_cases_and_the_longest_wait(sessions, day) -> None:
    with sessions() as s:
        queue = {q["skill"]: q for q in mx.queue_by_skill(s, NOW)}
    assert list(queue) == ["repair", "billing", "business", "complaints"]  # catalog/skills.yml order, all shown
    assert queue["billing"]["name"] == "电费业务"
    assert (queue["billing"]["waiting"], queue["billing"]["longest_wait_seconds"]) == (2, 200)  # c6 + c8 (payment)
    assert (queue["repair"]["waiting"], queue["repair"]["longest_wait_seconds"]) == (1, 30)  # c7 from its context
    assert (queue["business"]["waiting"], queue["business"]["longest_wait_seconds"]) == (0, None)
    assert queue["complaints"]["waiting"] == 0  # c10 was abandoned: not waiting any more


def test_agents_by_status_reads_presence_leaves_out_supervisors_and_shows_stale_consoles_offline(sessions, day):
    with sessions() as s:
        agents = {a["agent"]: a for a in mx.agents_by_status(s, NOW)}
    assert list(agents) == ["1001", "1002", "1003"]  # 刘主管 (9001) is a supervisor, not an agent
    a1, a2 = agents["1001"], agents["1002"]
    assert (a1["status"], a1["label"], a1["seconds"]) == ("available", "示闲", 125)
    assert (a2["label"], a2["seconds"], a2["cases"]) == ("示忙（会议）", 60, [day["c3"]])
    assert agents["1001"]["cases"] == []
    # 示闲 in the table, but no console for 10 minutes: off since the heartbeat window ran out 9 minutes ago
    assert (agents["1003"]["status"], agents["1003"]["label"], agents["1003"]["seconds"]) == ("offline", "离线", 540)
    counts = {c["label"]: c["count"] for c in mx.status_counts(agents.values())}
    assert counts == {"示闲": 1, "示忙": 1, "小休": 0, "离线": 1}


def test_service_level_abandonment_handling_and_wait_today(sessions, day) -> None:
    with sessions() as s:
        got = mx.service_today(s, mx.today(NOW))
    # answered today: c1 10 s, c2 30 s, c3 20 s, c11 10 s -> 3 of 4 within 20 s; c9 (yesterday) not counted
    assert (got["answered"], got["answered_within_target"]) == (4, 3)
    assert got["service_level"] == pytest.approx(0.75)
    assert got["wait_seconds"] == pytest.approx((10 + 30 + 20 + 10) / 4)
    # opened today: c4 left while waiting, c5 ended unanswered, c10 left while waiting; 4 answered
    assert got["abandoned"] == 3 and got["abandon_rate"] == pytest.approx(3 / 7)
    # finished today by a person: c1 300 s, c2 180 s, c11 590 s (c3 still open, c9 yesterday)
    assert got["handled"] == 3 and got["handle_seconds"] == pytest.approx((300 + 180 + 590) / 3)


def test_per_agent_work_and_satisfaction_today(sessions, day) -> None:
    with sessions() as s:
        rows = {r["agent"]: r for r in mx.per_agent_today(s, mx.today(NOW))}
    assert list(rows) == ["1001", "1002", "1003", "9001"]  # the supervisor is listed: a case was taken over
    a1, a2, a3, sup = rows["1001"], rows["1002"], rows["1003"], rows["9001"]
    assert (a1["handled"], a1["handle_total_seconds"], a1["handle_seconds"]) == (2, 480, 240)
    assert (a1["rating"], a1["ratings"]) == (4.5, 2)  # yesterday's 1 is not today's
    assert (a2["handled"], a2["handle_total_seconds"], a2["handle_seconds"]) == (0, None, None)  # c9 was yesterday
    assert (a2["rating"], a2["ratings"]) == (3.0, 1)  # the unanswered question is no score
    assert (a3["handled"], a3["rating"], a3["ratings"]) == (0, None, 0)
    assert sup["supervisor"] and (sup["handled"], sup["handle_seconds"]) == (1, 590)


def test_reasons_for_handing_over_today_most_first_in_chinese(sessions, day) -> None:
    with sessions.begin() as s:
        _case(s, "anger", NOW - MIN, reason="anger")
        _case(s, "anger-yesterday", NOW - dt.timedelta(days=1), reason="anger")
    with sessions() as s:
        got = mx.reasons_today(s, mx.today(NOW))
    assert got == [
        {"reason": "customer_request", "label": "客户要求转人工", "count": 10},
        {"reason": "anger", "label": "客户情绪激动", "count": 1},
    ]


def test_bot_containment_and_fallback_rate_from_the_analytics_feed(sessions, day) -> None:
    with sessions() as s:
        got = mx.bot_today(s, mx.today(NOW))
    # conversations: b1, b2 and c1 talked today; c1..c8, c10, c11 were handed over today -> 12; only b1 and b2
    # stayed with the bot (c4 and c10 left before a person answered: abandoned, not contained)
    assert (got["conversations"], got["contained"]) == (12, 2)
    assert got["containment"] == pytest.approx(2 / 12)
    assert (got["turns"], got["fallbacks"], got["source"]) == (6, 2, "turn_analytics")
    assert got["fallback_rate"] == pytest.approx(2 / 6)


def _tracker(path: Path, events: list[tuple[str, str, float, str | None, dict[str, object]]]) -> str:
    """A tracker store file with Rasa's `events` table (as nlu/tracker_store.py writes it)."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as c:
        c.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) "
                "NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
            )
        )
        for sender, kind, ts, intent, data in events:
            c.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) "
                    "VALUES (:s, :k, :t, :i, :d)"
                ),
                {"s": sender, "k": kind, "t": ts, "i": intent, "d": json.dumps(data, ensure_ascii=False)},
            )
    engine.dispose()
    return str(path)


def test_the_bot_figures_come_from_the_tracker_store_when_the_analytics_feed_has_nothing(sessions, tmp_path) -> None:
    def ts(at: dt.datetime) -> float:
        return at.replace(tzinfo=dt.timezone.utc).timestamp()

    path = _tracker(
        tmp_path / "tracker.db",
        [
            ("chat:t1", "user", ts(NOW - 5 * MIN), "bill_query", {"text": "查电费"}),
            ("chat:t1", "user", ts(NOW - 4 * MIN), "nlu_fallback", {"text": "嗯嗯啊"}),
            ("chat:t1", "bot", ts(NOW - 4 * MIN), None, {"text": "抱歉，我没听明白"}),
            ("chat:t2", "user", ts(NOW - 3 * MIN), "human_agent", {"text": "转人工"}),
            ("chat:t2", "user", ts(NOW - 3 * MIN), "human_agent", {"text": "EXTERNAL: human_agent"}),
            ("chat:t3", "user", ts(NOW - dt.timedelta(days=1)), "nlu_fallback", {"text": "昨天的"}),
        ],
    )
    with sessions.begin() as s:
        agent = _agent(s, "1001", "张丽")
        _case(s, "t2", NOW - 3 * MIN, status="claimed", agent_id=agent.id, claimed_at=NOW - 2 * MIN)
    tracker = create_engine(f"sqlite:///{path}")
    with sessions() as s:
        got = mx.bot_today(s, mx.today(NOW), tracker)
        without = mx.bot_today(s, mx.today(NOW))
    tracker.dispose()
    assert (got["turns"], got["fallbacks"], got["source"]) == (3, 1, "tracker")  # the EXTERNAL turn is the bot's own
    assert got["fallback_rate"] == pytest.approx(1 / 3)
    assert (got["conversations"], got["contained"], got["containment"]) == (2, 1, 0.5)  # t2 was handed to 张丽
    assert (without["source"], without["turns"], without["fallback_rate"]) == (None, 0, None)


def test_the_tracker_tally_reads_only_new_events_and_starts_afresh_each_day(tmp_path) -> None:
    def ts(at: dt.datetime) -> float:
        return at.replace(tzinfo=dt.timezone.utc).timestamp()

    path = _tracker(
        tmp_path / "tracker.db",
        [
            ("chat:a", "user", ts(NOW - MIN), "bill_query", {"text": "查电费"}),
            ("chat:a", "user", ts(NOW - dt.timedelta(days=1)), "nlu_fallback", {"text": "昨天的"}),
        ],
    )
    tracker = create_engine(f"sqlite:///{path}")
    tally = mx.TrackerTally()
    first = tally.read(tracker, mx.today(NOW))
    assert (first.turns, first.fallbacks, first.conversations) == (1, 0, frozenset({"chat:a"}))
    seen = tally.last_id

    def add(sender: str, at: dt.datetime, intent: str) -> None:
        with tracker.begin() as c:
            c.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) "
                    "VALUES (:s, 'user', :t, :i, '{}')"
                ),
                {"s": sender, "t": ts(at), "i": intent},
            )

    add("chat:b", NOW, "nlu_fallback")
    again = tally.read(tracker, mx.today(NOW))
    assert (again.turns, again.fallbacks, len(again.conversations)) == (2, 1, 2) and tally.last_id == seen + 1
    assert tally.read(tracker, mx.today(NOW)) == again  # nothing new: the same figures
    later = NOW + dt.timedelta(hours=11)  # 01:00 the next local day
    assert tally.read(tracker, mx.today(later)).turns == 0  # yesterday's turns are not today's
    add("chat:c", later, "greet")
    tomorrow = tally.read(tracker, mx.today(later))
    assert (tomorrow.turns, tomorrow.fallbacks, tomorrow.conversations) == (1, 0, frozenset({"chat:c"}))
    assert mx.TrackerTally().read(tracker, mx.today(later)) == tomorrow  # the same as reading from the start
    tracker.dispose()


def test_nothing_to_count_gives_no_figure_not_a_default(sessions) -> None:
    store = ContactStore(sessions)
    with sessions() as s:
        view = mx.live_view(s, NOW)
    service, bot = view["service"], view["bot"]
    assert [service[k] for k in ("service_level", "abandon_rate", "handle_seconds", "wait_seconds")] == [None] * 4
    assert (bot["containment"], bot["fallback_rate"], bot["source"]) == (None, None, None)
    assert all(q["waiting"] == 0 and q["longest_wait_seconds"] is None for q in view["queue"])
    assert view["agents"] == [] and view["per_agent"] == []
    stats = store.stats_today()
    assert stats["handle_minutes"] is None and stats["longest_wait_seconds"] is None  # was 5.0 and 0: invented


def test_stats_today_reports_the_real_handling_time(sessions) -> None:
    store = ContactStore(sessions)
    agent = store.add_agent("1001", "张丽", "x" * 8)
    boss = store.add_agent("9001", "刘主管", "x" * 8, role="supervisor")
    store.heartbeat(agent.id)
    store.heartbeat(boss.id)
    case = store.escalate("chat:one", "chat", "customer_request", summary="转人工", context={})[0]
    store.claim(case.id, agent.id)
    closed = store.finish(case.id, "closed", "resolved")
    assert closed.closed_at is not None
    with sessions.begin() as s:  # claimed two and a half minutes before it was closed (today, whatever the hour)
        s.execute(
            update(m.Escalation)
            .where(m.Escalation.id == case.id)
            .values(claimed_at=closed.closed_at - dt.timedelta(minutes=2, seconds=30))
        )
    stats = store.stats_today()
    assert stats["handle_minutes"] == 2.5  # one case of 2.5 minutes: the real figure, not 5.0
    assert stats["agents_online"] == ["张丽"]  # the supervisor is not counted as an online agent
