"""The embedded feed on a SQLite tracker store laid out as Rasa 3.6 lays it out, holding events recorded from real
conversations (tests/analytics/data/tracker_events.json): contacts and their outcomes, once per event however
often it is read, a real `python -m analytics feed` process killed mid-way and restarted, bad rows skipped,
and events that wait while the back-end database is unavailable."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from analytics import feed
from analytics.contacts import outcome_of, refresh
from analytics.events import changes_of
from analytics.feed import feed_once, tracker_engine
from backend import models as m
from backend.db import open_database
from backend.models_analytics import Contact, ContactOutcome, FeedPosition

ROOT = Path(__file__).resolve().parents[2]
RECORDED: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).parent / "data" / "tracker_events.json").read_text(encoding="utf-8")
)
RASA_EVENTS = """CREATE TABLE events (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""
KEYS = ("contact_key", "channel", "area_code", "account_no", "function", "outage_related", "turns", "fallbacks")
MORE = ("escalated", "transfer_reason", "outcome", "wait_seconds", "first_text", "told_outage", "started_at")


def sender(name: str) -> str:
    return RECORDED[name][0]["sender_id"]


def store_event(c: Connection, sender_id: str, event: dict[str, Any], type_name: str | None = None) -> None:
    """One event as Rasa 3.6's SQL tracker store writes it: the intent and the action's or slot's name in their
    own columns beside the JSON."""
    intent = (event.get("parse_data") or {}).get("intent") or {}
    c.execute(
        text(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
            " VALUES (:s, :t, :ts, :i, :a, :d)"
        ),
        {
            "s": sender_id,
            "t": type_name or event["event"],
            "ts": event.get("timestamp", 0),
            "i": intent.get("name"),
            "a": event.get("name"),
            "d": json.dumps(event, ensure_ascii=False),
        },
    )


def make_tracker(path: Path, copies: int = 1, extra: Sequence[tuple[str, str, str | None]] = ()) -> Engine:
    """Rasa's events table with the recorded conversations (`copies` times, each copy its own senders and an hour
    later), then `extra` rows (sender, type, data)."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as c:
        c.execute(text(RASA_EVENTS))
        for n in range(copies):
            for rows in RECORDED.values():
                for r in rows:
                    data = json.loads(r["data"])
                    data["timestamp"] += 3600 * n
                    store_event(c, r["sender_id"] + (f"-{n}" if n else ""), data, r["type_name"])
        for who, kind, data in extra:
            c.execute(
                text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :t, 0, :d)"),
                {"s": who, "t": kind, "d": data},
            )
    engine.dispose()
    return tracker_engine(path)


def backend(path: Path) -> sessionmaker[Session]:
    """A migrated SQLite back end with the recorded customer's account and the two cases of the recorded chats."""
    return populate(open_database(f"sqlite:///{path}")[1])


def populate(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """The recorded customer's account and the two cases of the recorded chats."""
    at = dt.datetime.fromtimestamp(json.loads(RECORDED["agent"][0]["data"])["timestamp"], dt.timezone.utc)
    at = at.replace(tzinfo=None)
    with sessions.begin() as s:
        s.add(m.Area(code="A01", name="城东区一网格", district="城东区", streets=["和平路"]))
        s.add(
            m.Customer(
                account_no="3201000001",
                name="王建国",
                id_number_masked="",
                phone="13912340001",
                address="城东区和平路12号",
                area_code="A01",
            )
        )
        s.add(
            m.Escalation(
                conversation_id=sender("agent"),
                channel="chat",
                reason="customer_request",
                status="closed",
                created_at=at + dt.timedelta(seconds=2),
                claimed_at=at + dt.timedelta(seconds=12),
                closed_at=at + dt.timedelta(seconds=70),
            )
        )
        s.add(
            m.Escalation(
                conversation_id=sender("abandoned"),
                channel="chat",
                reason="customer_request",
                status="closed",
                created_at=at + dt.timedelta(seconds=3),
                abandoned_at=at + dt.timedelta(seconds=30),
                closed_at=at + dt.timedelta(seconds=30),
            )
        )
    return sessions


def rows(sessions: sessionmaker[Session], fields: tuple[str, ...] = KEYS + MORE) -> list[tuple[Any, ...]]:
    with sessions() as s:
        return [tuple(getattr(c, k) for k in fields) for c in s.scalars(select(Contact).order_by(Contact.contact_key))]


def feed_all(tracker: Engine, sessions: sessionmaker[Session], batch: int = 500) -> None:
    while feed_once(tracker, sessions, limit=batch):
        pass


def by_conversation(sessions: sessionmaker[Session]) -> dict[str, Contact]:
    with sessions() as s:
        found = {c.conversation_id: c for c in s.scalars(select(Contact))}
        s.expunge_all()
        return found


def test_recorded_chats_become_three_contacts(tmp_path):
    tracker, sessions = make_tracker(tmp_path / "tracker.db"), backend(tmp_path / "b.db")
    feed_all(tracker, sessions)
    got = by_conversation(sessions)
    assert set(got) == {sender("contained"), sender("agent"), sender("abandoned")}

    contained = got[sender("contained")]
    assert contained.outcome == ContactOutcome.CONTAINED  # the customer ended the chat
    assert (contained.function, contained.outage_related, contained.told_outage) == ("outage_query", True, True)
    assert contained.area_code == "A01" and contained.account_no is None  # the address said
    assert contained.turns == 2 and contained.fallbacks == 0 and not contained.escalated
    assert contained.first_text == "帮我查一下停电信息" and contained.channel == "chat"
    assert contained.handle_seconds is not None and contained.handle_seconds > 0
    assert contained.contact_key.startswith(f"{sender('contained')}:")

    served = got[sender("agent")]
    assert served.outcome == ContactOutcome.AGENT and served.escalated
    assert served.transfer_reason == "customer_request" and served.wait_seconds == 10.0
    assert served.handle_seconds == 58.0  # the agent's time on the case
    assert (served.account_no, served.area_code, served.function) == ("3201000001", "A01", "bill_query")
    assert "3201000001" not in served.first_text

    left = got[sender("abandoned")]
    assert left.outcome == ContactOutcome.ABANDONED and left.wait_seconds is None and left.function == "human_agent"


def test_reading_again_or_twice_writes_each_event_once(tmp_path):
    tracker = make_tracker(tmp_path / "tracker.db")
    once, twice = backend(tmp_path / "once.db"), backend(tmp_path / "twice.db")
    feed_all(tracker, once)
    feed_all(tracker, twice, batch=5)
    with twice.begin() as s:  # the position lost: everything read again
        pos = s.get(FeedPosition, "tracker")
        assert pos is not None
        pos.last_id = 0
    feed_all(tracker, twice, batch=3)
    assert rows(twice) == rows(once)
    with once() as s, twice() as t:
        count = select(func.count()).select_from(m.TurnAnalytics)
        written = s.scalar(count)
        assert written and t.scalar(count) == written


def test_a_live_write_is_not_held_up_while_the_feed_reads_and_parses(tmp_path, monkeypatch):
    """The events are read and parsed outside any transaction: a turn filing an order meanwhile gets SQLite's write
    lock at once (a 0.2 s busy timeout). The feed held it from the start of a 500-event batch before."""
    tracker, sessions = make_tracker(tmp_path / "tracker.db"), backend(tmp_path / "b.db")
    writes: list[str] = []

    def parse_while_a_turn_writes(event: dict) -> Any:
        conn = sqlite3.connect(tmp_path / "b.db", timeout=0.2)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the database-wide write lock, as any write takes it
            conn.commit()
            writes.append("ok")
        except sqlite3.OperationalError as e:
            writes.append(str(e))
        finally:
            conn.close()
        return changes_of(event)

    monkeypatch.setattr(feed, "changes_of", parse_while_a_turn_writes)
    feed_all(tracker, sessions)
    assert writes and set(writes) == {"ok"}
    assert set(by_conversation(sessions)) == {sender("contained"), sender("agent"), sender("abandoned")}


def test_a_feed_process_killed_mid_way_goes_on_where_it_stopped(tmp_path):
    tracker = make_tracker(tmp_path / "tracker.db", copies=40)
    straight, killed = backend(tmp_path / "straight.db"), backend(tmp_path / "killed.db")
    feed_all(tracker, straight)
    with tracker.connect() as c:
        last = int(c.execute(text("SELECT max(id) FROM events")).scalar_one())
    env = {**os.environ, "P95598_DB_URL": f"sqlite:///{tmp_path / 'killed.db'}"}
    cmd = [sys.executable, "-m", "analytics", "feed", "--tracker", str(tmp_path / "tracker.db")]

    def position() -> int:
        with killed() as s:
            pos = s.get(FeedPosition, "tracker")
            return pos.last_id if pos else 0

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    proc = start()
    deadline = time.time() + 120
    while position() == 0 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # mid-way (or, on a fast machine, maybe after the end: the same must hold)
    proc.wait(timeout=20)
    proc = start()
    try:
        while position() < last and time.time() < deadline:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)
    assert position() == last
    assert rows(killed, KEYS) == rows(straight, KEYS) and len(rows(straight)) == 120


def test_bad_rows_are_skipped_and_nothing_around_them_is_lost(tmp_path, caplog):
    paste = json.dumps({"event": "user", "timestamp": 1796398600.0, "text": "停" * 20_000, "metadata": {}})
    extra = [
        ("chat:bad", "user", "not json {"),
        ("chat:bad", "user", None),
        ("chat:bad", "user", json.dumps(["a list"])),
        ("chat:bad", "user", json.dumps({"event": "user", "timestamp": "noon", "text": "停电"})),
        ("chat:bad", "user", json.dumps({"event": "user", "timestamp": 1796398600.0, "text": 5})),
        ("x" * 100, "user", json.dumps({"event": "user", "timestamp": 1796398600.0, "text": "停电"})),
        ("chat:paste", "user", paste),
    ]
    tracker, sessions = make_tracker(tmp_path / "tracker.db", extra=extra), backend(tmp_path / "b.db")
    feed_all(tracker, sessions)
    got = by_conversation(sessions)
    assert set(got) == {sender("contained"), sender("agent"), sender("abandoned"), "chat:paste"}
    assert len(got["chat:paste"].first_text) == 200
    skipped = [r.getMessage() for r in caplog.records if "skipping tracker event" in r.getMessage()]
    assert (
        len(skipped) == 6 and any("not a number" in r for r in skipped) and any("longer than 64" in r for r in skipped)
    )
    with sessions() as s:
        pos = s.get(FeedPosition, "tracker")
        assert pos is not None and pos.last_id == sum(len(v) for v in RECORDED.values()) + len(extra)


def test_events_wait_in_the_tracker_while_the_back_end_is_down(tmp_path):
    tracker = make_tracker(tmp_path / "tracker.db")
    down = sessionmaker(create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'b.db'}"))
    with pytest.raises(OperationalError):
        feed_once(tracker, down)
    sessions = backend(tmp_path / "b.db")  # back again: everything is still there to read
    feed_all(tracker, sessions)
    assert len(by_conversation(sessions)) == 3


def test_an_idle_contact_is_closed_and_rules_are_written_once(tmp_path):
    tracker, sessions = make_tracker(tmp_path / "tracker.db"), backend(tmp_path / "b.db")
    with tracker.begin() as c:  # the customer never pressed 结束会话
        c.execute(text("DELETE FROM events WHERE data LIKE '%本次会话已结束%'"))
    feed_all(tracker, sessions)
    contained = by_conversation(sessions)[sender("contained")]
    assert contained.outcome == ContactOutcome.IN_PROGRESS and contained.ended_at is not None
    refresh(sessions, contained.ended_at + dt.timedelta(minutes=29))
    assert by_conversation(sessions)[sender("contained")].outcome == ContactOutcome.IN_PROGRESS
    refresh(sessions, contained.ended_at + dt.timedelta(minutes=31))  # P95598_CONTACT_IDLE_MINUTES: 30
    assert by_conversation(sessions)[sender("contained")].outcome == ContactOutcome.CONTAINED
    assert outcome_of([], escalated=True, closed=False) == ContactOutcome.IN_PROGRESS
    assert outcome_of([], escalated=True, closed=True) == ContactOutcome.ABANDONED
    waiting = m.Escalation(created_at=m.utcnow())
    assert outcome_of([waiting], escalated=True, closed=True) == ContactOutcome.IN_PROGRESS


def test_a_quiet_call_is_over_after_three_minutes_a_quiet_chat_is_not(tmp_path):
    tracker, sessions = make_tracker(tmp_path / "tracker.db"), backend(tmp_path / "b.db")
    with tracker.begin() as c:  # no 结束会话: a hang-up sends no event either
        c.execute(text("DELETE FROM events WHERE data LIKE '%本次会话已结束%'"))
    feed_all(tracker, sessions)
    chat = by_conversation(sessions)[sender("contained")]
    with sessions.begin() as s:  # the same contact as a call
        call = s.get(Contact, chat.id)
        assert call is not None
        call.channel = "voice"
        quiet_since = call.ended_at
    assert quiet_since is not None
    refresh(sessions, quiet_since + dt.timedelta(minutes=2))
    assert by_conversation(sessions)[sender("contained")].outcome == ContactOutcome.IN_PROGRESS
    refresh(sessions, quiet_since + dt.timedelta(minutes=4))  # P95598_CALL_IDLE_MINUTES: 3
    assert by_conversation(sessions)[sender("contained")].outcome == ContactOutcome.CONTAINED


def test_a_request_for_a_person_answered_by_a_callback_order_is_a_transfer_not_an_abandonment(tmp_path):
    tracker, sessions = make_tracker(tmp_path / "tracker.db"), backend(tmp_path / "b.db")
    feed_all(tracker, sessions)
    contact = by_conversation(sessions)[sender("contained")]
    assert not contact.escalated and contact.outcome == ContactOutcome.CONTAINED
    with sessions.begin() as s:  # nobody was free: actions.handoff.callback_order filed 人工回复 instead
        s.add(
            m.WorkOrder(
                number="G26112300999",
                function_id="human_agent",
                status="received",
                channel="chat",
                conversation_id=contact.conversation_id,
                details={"reason": "customer_request"},
                created_at=contact.started_at + dt.timedelta(seconds=30),
            )
        )
        c = s.get(Contact, contact.id)
        assert c is not None
        c.outcome = ContactOutcome.IN_PROGRESS  # settled again, as the refresh does for open contacts
    refresh(sessions, (contact.ended_at or contact.started_at) + dt.timedelta(minutes=31))
    again = by_conversation(sessions)[sender("contained")]
    assert again.escalated and again.transfer_reason == "customer_request"
    assert again.outcome == ContactOutcome.CONTAINED  # the bot answered it with a callback: not abandoned


def test_the_refresh_settles_again_only_contacts_that_went_idle_or_whose_cases_changed(tmp_path):
    tracker, sessions = make_tracker(tmp_path / "tracker.db"), backend(tmp_path / "b.db")
    with tracker.begin() as c:  # the chat goes on: no 结束会话
        c.execute(text("DELETE FROM events WHERE data LIKE '%本次会话已结束%'"))
    feed_all(tracker, sessions)
    chat = by_conversation(sessions)[sender("contained")]
    assert chat.outcome == ContactOutcome.IN_PROGRESS and chat.ended_at is not None
    refresh(
        sessions, chat.ended_at + dt.timedelta(minutes=1)
    )  # the first refresh looks at everything within its horizon
    assert (
        refresh(sessions, chat.ended_at + dt.timedelta(minutes=2)) == 0
    )  # nothing happened since: no open contact is asked about again
    with sessions.begin() as s:  # an agent takes a case of the chat: its contact is settled again
        s.add(
            m.Escalation(
                conversation_id=chat.conversation_id,
                channel="chat",
                reason="customer_request",
                status="claimed",
                created_at=chat.started_at + dt.timedelta(seconds=5),
                claimed_at=chat.started_at + dt.timedelta(seconds=9),
            )
        )
    assert refresh(sessions, chat.ended_at + dt.timedelta(minutes=3)) == 1
    again = by_conversation(sessions)[sender("contained")]
    assert again.outcome == ContactOutcome.AGENT and again.wait_seconds == 4
    assert (
        refresh(sessions, chat.ended_at + dt.timedelta(minutes=31)) == 1
    )  # idle for 30 minutes (P95598_CONTACT_IDLE_MINUTES): asked about again


def test_the_analytics_process_yields_the_cpu_to_live_turns_once():
    """`python -m analytics feed|consume` lowers its own priority to BACKGROUND_NICE, and a second call (or a
    process started already niced) does not lower it further."""
    from analytics.__main__ import BACKGROUND_NICE

    code = "import os; from analytics.__main__ import yield_to_live_turns as y; print(y(), y(), os.nice(0))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(BACKGROUND_NICE)] * 3
