"""quality.worker on a real SQLite back end and tracker store (conversations recorded from the product): every
finished contact inspected exactly once, also by two workers at once; what cannot be built is stored
not_inspectable with the reason and the next contact goes on; flags with their evidence and recording; the random
sample; and the summary the weekly and monthly reports show."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from analytics import report
from backend.db import make_engine, make_sessionmaker
from backend.models_analytics import Contact
from backend.models_quality import Flag, Inspection, InspectionClaim, InspectionStatus, Review, SampleReview
from backend.models_recordings import Recording, RecordingLeg, RecordingStatus
from quality.contact import InspectedContact
from quality.inspect import Evidence, Finding, Inspector, Result
from quality.rules import RULES_ENV
from quality.summary import inspection_summary
from quality.worker import SAMPLE_ENV, InspectionWorker, sample_rate
from tests.quality.test_adapter import (
    AGENT_CHAT,
    BOT_CHAT,
    LEFT_CHAT,
    T0,
    add_events,
    agent_call_contact,
    recorded_world,
    utc,
    voice_call,
    voice_case,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = utc(T0) + dt.timedelta(days=3)
World = tuple[Engine, sessionmaker[Session]]


class ScriptedInspector(Inspector):
    """The engine's interface with scripted findings: a transfer left unresolved is flagged on its `transferred`
    event, an agent's first words on the agent's turn; everything else is clean. Counts what it inspected."""

    def __init__(self) -> None:
        super().__init__(use_emotion=False)
        self.seen: list[str] = []
        self.lock = threading.Lock()

    def inspect(self, contact: InspectedContact) -> Result:
        with self.lock:
            self.seen.append(contact.id)
        findings = []
        for i, t in enumerate(contact.turns):
            if t.event == "transferred" and not contact.facts.resolved:
                findings.append(Finding("transfer_unresolved", 2, "转人工后未解决", [Evidence(i, t.who, t.text, t.at)]))
            if t.who == "agent":
                findings.append(Finding("greeting", 1, "开头没有问候", [Evidence(i, t.who, t.text, t.at, [(0, 2)])]))
                break
        return Result(findings, 100.0 - 10 * len(findings), ["calm"] * len(contact.customer_turns), 1)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return recorded_world(tmp_path)


def inspections(sessions: sessionmaker[Session]) -> dict[str, Inspection]:
    with sessions() as s:
        found = {i.conversation_id: i for i in s.scalars(select(Inspection))}
        s.expunge_all()
        return found


def test_each_finished_contact_is_inspected_once_with_its_flags(world: World) -> None:
    tracker, sessions = world
    inspector = ScriptedInspector()
    worker = InspectionWorker(sessions, tracker, inspector, sample=0.0)
    assert worker.run(NOW) == 3 and worker.run(NOW) == 0 and worker(NOW + dt.timedelta(hours=1)) == 0
    assert sorted(inspector.seen) == ["1", "2", "3"]
    got = inspections(sessions)
    served, left = got[AGENT_CHAT], got[LEFT_CHAT]
    assert all(i.status == InspectionStatus.INSPECTED and i.inspected_at == NOW for i in got.values())
    assert (served.handled_by, served.agent_id, served.agent_name, served.channel) == ("agent", "1001", "张丽", "chat")
    assert (served.flags, served.top_severity, served.score) == (1, 1, 90.0)
    assert (left.flags, left.top_severity, left.handled_by, left.agent_id) == (1, 2, "bot", None)
    assert served.emotions == ["calm"] * 4 and served.turns == 10  # words said, system events left out
    with sessions() as s:
        contact = s.get(Contact, served.contact_id)
        assert contact is not None and contact.ended_at is not None
        assert served.delay_seconds == pytest.approx((NOW - contact.ended_at).total_seconds())
        (flag,) = s.scalars(select(Flag).where(Flag.inspection_id == served.id))
    assert (flag.rule_id, flag.severity, flag.review, flag.recording_id) == ("greeting", 1, Review.PENDING, None)
    (evidence,) = flag.evidence
    assert evidence["who"] == "agent" and evidence["text"].startswith("您好，我是人工客服张丽")
    assert evidence["spans"] == [[0, 2]] and evidence["turn"] == 12


def test_a_contact_that_went_on_after_its_inspection_is_inspected_again_keeping_verdicts(world: World) -> None:
    """A second call within the same Rasa session, or a chat written to again after it was ended: one contact,
    inspected again once over; what reviewers already judged stays, unreviewed flags are replaced."""
    tracker, sessions = world
    worker = InspectionWorker(sessions, tracker, ScriptedInspector(), sample=0.0)
    assert worker.run(NOW) == 3
    served = inspections(sessions)[AGENT_CHAT]
    with sessions.begin() as s:
        (flag,) = s.scalars(select(Flag).where(Flag.inspection_id == served.id))
        flag.review, flag.reviewer = Review.CONFIRMED, "9101"
        left = s.scalars(select(Contact).where(Contact.conversation_id == LEFT_CHAT)).one()
        assert left.ended_at is not None
        left.ended_at = left.ended_at + dt.timedelta(seconds=30)  # the end divider and rating card: not a reopening
    assert worker.run(NOW) == 0
    with sessions.begin() as s:
        for conversation in (AGENT_CHAT, LEFT_CHAT):
            c = s.scalars(select(Contact).where(Contact.conversation_id == conversation)).one()
            assert c.ended_at is not None
            c.ended_at = c.ended_at + dt.timedelta(minutes=10)  # the customer came back and it went on
    assert worker.run(NOW + dt.timedelta(minutes=20)) == 2
    again = inspections(sessions)
    assert len(again) == 3 and again[AGENT_CHAT].inspected_at == NOW + dt.timedelta(minutes=20)
    assert again[AGENT_CHAT].id == served.id  # the same row: the console's links to it stay valid
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Inspection)) == 3
        flags = s.scalars(select(Flag).where(Flag.inspection_id == again[AGENT_CHAT].id)).all()
        left_flags = s.scalars(select(Flag).where(Flag.inspection_id == again[LEFT_CHAT].id)).all()
        assert s.scalar(select(func.count()).select_from(Flag)) == 2  # no orphans of the replaced inspections
    assert [(f.rule_id, f.review, f.reviewer) for f in flags] == [("greeting", Review.CONFIRMED, "9101")]
    assert [(f.rule_id, f.review) for f in left_flags] == [("transfer_unresolved", Review.PENDING)]


def test_a_contact_that_went_on_and_can_no_longer_be_built_is_marked_so_in_place(world: World) -> None:
    tracker, sessions = world
    worker = InspectionWorker(sessions, tracker, ScriptedInspector(), sample=0.0)
    assert worker.run(NOW) == 3
    before = inspections(sessions)[LEFT_CHAT]
    with tracker.begin() as c:  # its conversation is gone from the tracker store
        c.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": LEFT_CHAT})
    with sessions.begin() as s:
        left = s.scalars(select(Contact).where(Contact.conversation_id == LEFT_CHAT)).one()
        assert left.ended_at is not None
        left.ended_at = left.ended_at + dt.timedelta(minutes=10)
    assert worker.run(NOW + dt.timedelta(minutes=20)) == 1 and worker.run(NOW + dt.timedelta(minutes=21)) == 0
    after = inspections(sessions)[LEFT_CHAT]
    assert (after.id, after.status) == (before.id, InspectionStatus.NOT_INSPECTABLE) and after.reason
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Flag).where(Flag.inspection_id == after.id)) == 0


def test_an_agent_contact_waits_until_its_case_is_closed(world: World) -> None:
    tracker, sessions = world
    with sessions.begin() as s:
        served = s.scalars(select(Contact).where(Contact.conversation_id == AGENT_CHAT)).one()
        served.handle_seconds = None  # the agent is still on the case
    worker = InspectionWorker(sessions, tracker, ScriptedInspector(), sample=0.0)
    assert worker.run(NOW) == 2 and AGENT_CHAT not in inspections(sessions)


def test_two_workers_at_once_inspect_every_contact_exactly_once(tmp_path: Path) -> None:
    tracker, sessions = recorded_world(tmp_path, copies=15)
    with sessions() as s:
        contacts = s.scalar(select(func.count(Contact.id)))
    assert contacts == 45
    inspector = ScriptedInspector()
    url = str(sessions.kw["bind"].url)
    workers = [InspectionWorker(make_sessionmaker(make_engine(url)), tracker, inspector, 0.0, batch=7) for _ in "ab"]
    stored = [0, 0]

    def work(n: int) -> None:
        while (done := workers[n].run(NOW)) > 0 or workers[n].due(NOW):
            stored[n] += done

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(stored) == 45 and len(inspector.seen) == 45 and len(set(inspector.seen)) == 45
    with sessions() as s:
        assert s.scalar(select(func.count(func.distinct(Inspection.contact_id)))) == 45


class WritingInspector(ScriptedInspector):
    """Writes to the back end while it inspects, as a live turn filing an order would, with a short busy timeout;
    and, once, lets the contact being inspected go on (a new message) meanwhile."""

    def __init__(self, db: Path, reopen: str | None = None) -> None:
        super().__init__()
        self.db, self.reopen = db, reopen
        self.writes: list[str] = []

    def inspect(self, contact: InspectedContact) -> Result:
        conn = sqlite3.connect(self.db, timeout=0.2)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the database-wide write lock, as any write takes it
            if contact.id == self.reopen:
                later = "UPDATE contacts SET ended_at = datetime(ended_at, '+10 minutes') WHERE id = ?"
                conn.execute(later, (contact.id,))
                self.reopen = None
            conn.commit()
            self.writes.append("ok")
        except sqlite3.OperationalError as e:
            self.writes.append(str(e))
        finally:
            conn.close()
        return super().inspect(contact)


def test_a_live_write_is_not_held_up_while_a_contact_is_inspected(world: World) -> None:
    """Building and inspecting run outside the write transaction: on SQLite a turn filing an order meanwhile gets
    the write lock at once. A contact that went on during its inspection is not stored as it was: the next round
    inspects it again with its new end."""
    tracker, sessions = world
    with sessions() as s:
        served_id = s.scalars(select(Contact.id).where(Contact.conversation_id == AGENT_CHAT)).one()
    inspector = WritingInspector(Path(str(sessions.kw["bind"].url.database)), reopen=str(served_id))
    worker = InspectionWorker(sessions, tracker, inspector, sample=0.0)
    assert worker.run(NOW) == 2 and inspector.writes == ["ok"] * 3
    assert AGENT_CHAT not in inspections(sessions)
    assert worker.run(NOW + dt.timedelta(minutes=20)) == 1 and worker.run(NOW + dt.timedelta(minutes=21)) == 0
    with sessions() as s:
        served = s.scalars(select(Contact).where(Contact.conversation_id == AGENT_CHAT)).one()
        assert inspections(sessions)[AGENT_CHAT].ended_at == served.ended_at
        assert s.scalar(select(func.count()).select_from(InspectionClaim)) == 0  # every claim released


def test_a_claim_held_by_another_worker_is_left_alone_until_it_lapses(world: World) -> None:
    tracker, sessions = world
    with sessions.begin() as s:
        left = s.scalars(select(Contact).where(Contact.conversation_id == LEFT_CHAT)).one()
        s.add(InspectionClaim(contact_id=left.id, token="other", until=NOW + dt.timedelta(minutes=5)))
    inspector = ScriptedInspector()
    worker = InspectionWorker(sessions, tracker, inspector, sample=0.0)
    assert worker.run(NOW) == 2 and LEFT_CHAT not in inspections(sessions)
    assert worker.run(NOW + dt.timedelta(minutes=6)) == 1 and LEFT_CHAT in inspections(sessions)  # its worker died
    assert len(inspector.seen) == 3


def test_what_cannot_be_built_is_stored_not_inspectable_and_the_next_contact_goes_on(world: World) -> None:
    tracker, sessions = world
    call = "voice:CA9"
    add_events(tracker, call, voice_call(call, T0 + 600))
    with sessions.begin() as s:
        s.add(
            Contact(
                contact_key="chat:gone:1",
                conversation_id="chat:gone",
                channel="chat",
                started_at=utc(T0 - 900),
                ended_at=utc(T0 - 800),
                outcome="contained",
            )
        )
        s.add(agent_call_contact(call, T0 + 600, ended_at=utc(T0 + 700)))
        s.add(voice_case(call, T0 + 600, closed_at=utc(T0 + 690)))
        s.add(
            Recording(
                call_sid="CA9",
                leg=RecordingLeg.AGENT,
                conversation_id=call,
                reason="录音文件为空",
                status=RecordingStatus.NOT_INSPECTABLE,
                expires_at=NOW,
            )
        )
        s.add(agent_call_contact(f"{call}x", T0 + 600, ended_at=utc(T0 + 700)))
        s.add(voice_case(f"{call}x", T0 + 600, closed_at=utc(T0 + 690)))
        s.add(
            Recording(
                call_sid="CA8",
                leg=RecordingLeg.AGENT,
                conversation_id=f"{call}x",
                transcript=["乱码"],
                status=RecordingStatus.TRANSCRIBED,
                expires_at=NOW,
            )
        )
        s.add(
            Contact(
                contact_key="chat:odd:1",
                conversation_id="chat:odd",
                channel="chat",
                started_at=utc(T0 - 700),
                ended_at=utc(T0 - 600),
                outcome="contained",
            )
        )
    add_events(tracker, f"{call}x", voice_call(f"{call}x", T0 + 600))
    add_events(tracker, "chat:odd", [{"event": "user", "timestamp": T0 - 700, "text": "停电了", "metadata": []}])
    worker = InspectionWorker(sessions, tracker, ScriptedInspector(), sample=0.0)
    assert worker.run(NOW) == 7
    got = inspections(sessions)
    assert got[f"{call}x"].reason == "对话数据有误，无法质检（AttributeError）"  # a transcript piece is no object
    gone, call_row = got["chat:gone"], got[call]
    assert (gone.status, gone.reason) == (InspectionStatus.NOT_INSPECTABLE, "对话记录里没有找到客户的话，无法质检")
    assert (
        call_row.status == InspectionStatus.NOT_INSPECTABLE and call_row.reason == "人工通话录音无法质检：录音文件为空"
    )
    assert got["chat:odd"].status == InspectionStatus.INSPECTED  # metadata of the wrong type is read as none
    assert sum(i.status == InspectionStatus.INSPECTED for i in got.values()) == 4
    assert worker.run(NOW) == 0


def test_a_call_flag_points_into_the_agent_recording(world: World) -> None:
    tracker, sessions = world
    call, start = "voice:CA2", T0 + 600
    add_events(tracker, call, voice_call(call, start))
    with sessions.begin() as s:
        s.add(agent_call_contact(call, start))
        s.add(voice_case(call, start))
        rec = Recording(
            call_sid="CA2",
            leg=RecordingLeg.AGENT,
            conversation_id=call,
            expires_at=NOW,
            status=RecordingStatus.TRANSCRIBED,
            transcript=[{"who": "agent", "start": 2.5, "end": 4.0, "text": "喂，说吧"}],
        )
        s.add(rec)
        s.flush()
        rec_id = rec.id
    InspectionWorker(sessions, tracker, ScriptedInspector(), sample=0.0).run(NOW)
    with sessions() as s:
        inspection = s.scalars(select(Inspection).where(Inspection.conversation_id == call)).one()
        flags = {f.rule_id: f for f in s.scalars(select(Flag).where(Flag.inspection_id == inspection.id))}
    assert inspection.channel == "voice" and inspection.handled_by == "agent"
    assert (flags["greeting"].recording_id, flags["greeting"].offset_seconds) == (rec_id, 2.5)
    assert flags["greeting"].evidence[0]["text"] == "喂，说吧"


def test_unflagged_inspections_are_drawn_into_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracker, sessions = recorded_world(tmp_path, copies=10)
    InspectionWorker(sessions, tracker, ScriptedInspector(), sample=0.5, rng=random.Random(7)).run(NOW)
    with sessions() as s:
        rows = list(s.scalars(select(Inspection)))
    clean = [i for i in rows if i.flags == 0]
    assert len(rows) == 30 and len(clean) == 10
    assert not any(i.sampled for i in rows if i.flags)  # a flagged contact is reviewed anyway
    assert 0 < sum(i.sampled for i in clean) < 10  # half of the ten, give or take chance (seeded)
    assert sample_rate({}) == 0.1 and sample_rate({SAMPLE_ENV: "0.25"}) == 0.25
    for bad in ("abc", "1.5", "-0.1"):
        with pytest.raises(ValueError, match=SAMPLE_ENV):
            sample_rate({SAMPLE_ENV: bad})
    monkeypatch.setenv(SAMPLE_ENV, "1")
    assert InspectionWorker(sessions, tracker, ScriptedInspector()).sample == 1.0


def test_the_summary_and_the_weekly_report_show_what_was_inspected(world: World, tmp_path: Path) -> None:
    tracker, sessions = world
    InspectionWorker(sessions, tracker, ScriptedInspector(), sample=1.0).run(NOW)
    with sessions.begin() as s:
        flags = list(s.scalars(select(Flag).order_by(Flag.id)))
        assert [f.rule_id for f in flags] == ["greeting", "transfer_unresolved"]
        flags[0].review, flags[1].review = Review.DISMISSED, Review.CONFIRMED
        clean = s.scalars(select(Inspection).where(Inspection.flags == 0)).one()
        assert clean.sampled
        s.add(SampleReview(inspection_id=clean.id, reviewer="9001", missed_rule="closing"))
        s.add(
            Contact(
                contact_key="chat:gone:1",
                conversation_id="chat:gone",
                channel="chat",
                started_at=utc(T0 + 5),
                ended_at=utc(T0 + 9),
                outcome="contained",
            )
        )
    InspectionWorker(sessions, tracker, ScriptedInspector(), sample=1.0).run(NOW)
    with sessions() as s:
        summary = inspection_summary(s, utc(T0 - 60), utc(T0 + 3600))
        assert inspection_summary(s, utc(T0 + 3600), utc(T0 + 7200))["contacts"] == 0
        assert inspection_summary(s, utc(T0 - 60), utc(T0 + 3600), area="A99")["contacts"] == 0
    assert {k: summary[k] for k in ("contacts", "inspected", "not_inspectable", "flagged", "flagged_share")} == {
        "contacts": 4,
        "inspected": 3,
        "not_inspectable": 1,
        "flagged": 2,
        "flagged_share": round(2 / 3, 4),
    }
    assert summary["mean_score"] == pytest.approx(round((90 + 90 + 100) / 3, 1))
    by_rule = {r["rule"]: r for r in summary["rules"]}
    assert (by_rule["greeting"]["flags"], by_rule["greeting"]["precision"]) == (1, 0.0)
    assert (by_rule["transfer_unresolved"]["confirmed"], by_rule["transfer_unresolved"]["precision"]) == (1, 1.0)
    assert summary["lowest_agents"] == [
        {"agent": "1001", "name": "张丽", "contacts": 1, "mean_score": 90.0, "flags": 1}
    ]
    assert summary["sample"] == {"sampled": 1, "reviewed": 1, "missed": 1, "clean_share": 0.0}

    day = (utc(T0) + dt.timedelta(hours=8)).date()  # the local (Asia/Shanghai) day of the recorded chats
    done = report.generate(sessions, "weekly", day.isoformat(), directory=tmp_path / "reports", pdf=False)
    html = (tmp_path / "reports" / done["html"]).read_text(encoding="utf-8")
    assert "八、服务质检" in html and "66.7%" in html and "张丽（1001）" in html and "无法质检" in html
    custom = report.generate(sessions, "custom", day.isoformat(), day.isoformat(), directory=tmp_path / "r", pdf=False)
    assert "服务质检" not in (tmp_path / "r" / custom["html"]).read_text(encoding="utf-8")


def test_the_real_rules_flag_the_recorded_abandoned_transfer(world: World) -> None:
    tracker, sessions = world
    worker = InspectionWorker(sessions, tracker, Inspector(), sample=0.0)
    assert worker.run(NOW) == 3
    got = inspections(sessions)
    with sessions() as s:
        rules = {
            conversation: {f.rule_id for f in s.scalars(select(Flag).where(Flag.inspection_id == i.id))}
            for conversation, i in got.items()
        }
    assert "transfer_unresolved" in rules[LEFT_CHAT] and "transfer_unresolved" not in rules[AGENT_CHAT]
    assert "greeting" not in rules[BOT_CHAT]  # the chat page's welcome counts as the bot's first turn
    assert "greeting" not in rules[AGENT_CHAT]  # 张丽 began with 您好
    assert {c: len(i.emotions) for c, i in got.items()} == {BOT_CHAT: 2, AGENT_CHAT: 4, LEFT_CHAT: 1}
    assert all(i.rules_version == Inspector().rules.version for i in got.values())
    assert got[LEFT_CHAT].score < 100


def test_the_analytics_process_refuses_to_start_on_a_bad_rule_file(tmp_path: Path) -> None:
    rules = (ROOT / "quality" / "rules.yml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, raw in enumerate(rules) if "id: callback_kept" in raw)
    rules[line + 1] += "\n    severity: [high"  # a flow sequence never closed, inside the rule callback_kept
    bad = tmp_path / "rules.yml"
    bad.write_text("\n".join(rules), encoding="utf-8")
    env = {**os.environ, "P95598_DB_URL": f"sqlite:///{tmp_path / 'b.db'}", RULES_ENV: str(bad)}
    cmd = [sys.executable, "-m", "analytics", "feed", "--tracker", str(tmp_path / "tracker.db")]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "callback_kept" in done.stderr and "line" in done.stderr
    assert "Traceback" not in done.stderr  # one sentence, not a stack trace
    env[RULES_ENV], env[SAMPLE_ENV] = "", "lots"
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and SAMPLE_ENV in done.stderr and "Traceback" not in done.stderr
