"""quality.adapter on a real SQLite tracker store holding events recorded from real conversations with the product
(tests/analytics/data/tracker_events.json), fed into contacts by the real analytics feed, and a migrated back end:
turns, system events, facts and the agent, what is left out, the voice agent leg, and contacts that cannot be built."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from analytics.contacts import refresh
from backend import models as m
from backend.models_analytics import Contact, ContactOutcome
from backend.models_recordings import Recording, RecordingLeg, RecordingStatus
from channels.wording import WELCOME
from quality.adapter import Built, NotInspectable, NotReady, build, contact_start
from tests.analytics.test_feed import RECORDED, backend, feed_all, make_tracker, sender, store_event

AGENT_CHAT, BOT_CHAT, LEFT_CHAT = sender("agent"), sender("contained"), sender("abandoned")
HANDOFF_REPLY = (
    "好的，正在为您转接人工客服，马上就为您接通。"
    "您刚才说的情况客服都能看到，不用再说一遍。您可以继续留言，客服接入后都能看到。"
)
T0 = json.loads(RECORDED["agent"][0]["data"])["timestamp"]  # when the recorded chats began


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


def add_events(tracker: Engine, conversation: str, events: list[dict[str, Any]]) -> None:
    """Events stored as Rasa 3.6's SQL tracker store stores them (sender, type, timestamp, JSON)."""
    with tracker.begin() as c:
        for e in events:
            store_event(c, conversation, e)


def voice_call(conversation: str, start: float) -> list[dict[str, Any]]:
    """A call as the voice gateway and Rasa store it: the bot answers, the customer asks for a person."""
    meta = {"channel": "voice", "caller": "13912340001"}
    return [
        {"event": "session_started", "timestamp": start},
        {"event": "user", "timestamp": start + 2, "text": "我家停电了", "metadata": meta, "parse_data": {}},
        {"event": "bot", "timestamp": start + 3, "text": "您好，请问您的地址是哪里？", "metadata": {}, "data": {}},
        {"event": "user", "timestamp": start + 8, "text": "转人工", "metadata": meta, "parse_data": {}},
        {"event": "bot", "timestamp": start + 9, "text": "好的，正在为您转接人工客服。", "metadata": {}, "data": {}},
        {"event": "bot", "timestamp": start + 9.1, "data": {"custom": {"handoff": {"reason": "safety"}}}},
        {"event": "pause", "timestamp": start + 9.2},
        {"event": "bot", "timestamp": start + 9.3, "text": "还有其他可以帮您？", "metadata": {}, "data": {}},
    ]


def voice_case(call: str, start: float, **fields: Any) -> m.Escalation:
    """The call's case, closed: opened 9 s into the call, claimed at 20 s, closed at 80 s (`fields` override)."""
    values: dict[str, Any] = {
        "conversation_id": call,
        "channel": "voice",
        "reason": "customer_request",
        "status": "closed",
        "created_at": utc(start + 9),
        "claimed_at": utc(start + 20),
        "closed_at": utc(start + 80),
    }
    return m.Escalation(**{**values, **fields})


def agent_call_contact(call: str, start: float, **fields: Any) -> Contact:
    """The call's settled contact, handled by an agent: from 2 s to 90 s into the call (`fields` override)."""
    values: dict[str, Any] = {
        "contact_key": f"{call}:{int(start * 1000)}",
        "conversation_id": call,
        "channel": "voice",
        "started_at": utc(start + 2),
        "ended_at": utc(start + 90),
        "outcome": "agent",
        "handle_seconds": 60.0,
    }
    return Contact(**{**values, **fields})


def recorded_world(tmp_path: Path, copies: int = 1) -> tuple[Engine, sessionmaker[Session]]:
    """The recorded chats (`copies` times) fed into contacts and settled; the agent case claimed by 1001 (张丽)."""
    tracker, sessions = make_tracker(tmp_path / "tracker.db", copies=copies), backend(tmp_path / "b.db")
    with sessions.begin() as s:
        agent = m.Agent(username="1001", display_name="张丽", password_hash="x")
        s.add(agent)
        s.flush()
        case = s.scalars(select(m.Escalation).where(m.Escalation.conversation_id == AGENT_CHAT)).one()
        case.agent_id, case.disposition = agent.id, "resolved"
    feed_all(tracker, sessions)
    refresh(sessions, utc(T0) + dt.timedelta(hours=2 + copies))
    return tracker, sessions


@pytest.fixture
def world(tmp_path: Path) -> tuple[Engine, sessionmaker[Session]]:
    return recorded_world(tmp_path)


def built(world: tuple[Engine, sessionmaker[Session]], conversation: str, now: dt.datetime | None = None) -> Built:
    tracker, sessions = world
    with sessions() as s:
        c = s.scalars(select(Contact).where(Contact.conversation_id == conversation)).one()
        return build(s, tracker, c, now)


def spoken(b: Built) -> list[tuple[str, str]]:
    return [(t.who, t.text if t.who != "system" else str(t.event)) for t in b.contact.turns]


def test_an_agent_chat_reads_as_the_customer_saw_it_with_its_system_events(world):
    b = built(world, AGENT_CHAT)
    assert spoken(b) == [
        ("bot", WELCOME.chat),  # the chat page's welcome, said outside Rasa
        ("customer", "帮我查一下电费"),
        ("bot", "请告诉我您的十位户号。户号可以在电费单或者缴费短信上找到。"),
        ("customer", "3201000001"),
        ("bot", "为了保护您的信息，请告诉我户主登记手机号的后四位。"),
        ("customer", "0001"),
        ("system", "verified"),
        ("bot", "请问您要查哪个月的电费？比如“上个月”或者“十月份”。"),
        ("customer", "转人工"),
        ("bot", HANDOFF_REPLY),
        ("system", "transferred"),
        ("system", "agent_joined"),
        ("agent", "您好，我是人工客服张丽，您之前说的情况我都看到了，马上为您处理。"),
    ]  # the console's own lines (服务已结束, the rating card) are nobody's words
    c = b.contact
    assert (c.id, c.channel, c.handled_by) == (c.id, "chat", "agent") and c.id.isdigit()
    assert c.agent is not None and (c.agent.id, c.agent.name) == ("1001", "张丽")
    assert (c.facts.outcome, c.facts.resolved, c.facts.complaint, c.facts.callbacks) == ("agent", True, False, ())
    times = [t.at for t in c.turns]
    assert times == sorted(times) and times[0] == 0 and times[1] < 1  # seconds since the session began
    assert not any(t.discloses for t in c.turns)  # only questions were asked: nothing of the account was told


def test_a_bot_chat_and_an_abandoned_one(world):
    contained = built(world, BOT_CHAT).contact
    assert [t.who for t in contained.turns] == ["bot", "customer", "bot", "customer", "bot"]
    assert contained.handled_by == "bot" and contained.agent is None
    assert (contained.facts.outcome, contained.facts.resolved) == ("contained", True)
    assert not any(t.who == "system" for t in contained.turns)

    abandoned = built(world, LEFT_CHAT)
    left = abandoned.contact
    assert spoken(abandoned)[-1] == ("system", "transferred") and left.handled_by == "bot"
    assert (left.facts.outcome, left.facts.resolved) == (ContactOutcome.ABANDONED, False)


def test_a_bill_told_after_the_check_discloses_and_an_faq_figure_does_not(world):
    tracker, _ = world
    later = [
        {"event": "action", "timestamp": T0 + 0.35, "name": "bill_query_form"},
        {"event": "bot", "timestamp": T0 + 0.36, "text": "您2026年11月的电费是236.50元，用电310度，已经缴清。"},
        {"event": "action", "timestamp": T0 + 0.37, "name": "action_answer"},
        {"event": "bot", "timestamp": T0 + 0.38, "text": "居民电价第一档每度0.52元。", "data": {}},
    ]
    add_events(tracker, AGENT_CHAT, later)
    told = {t.text[:4]: t.discloses for t in built(world, AGENT_CHAT).contact.turns if t.who == "bot"}
    assert told["您202"] is True and told["居民电价"] is False


def test_orders_urgent_handling_and_a_promised_call_back(world):
    _, sessions = world
    with sessions.begin() as s:
        start = s.scalars(select(Contact.started_at).where(Contact.conversation_id == BOT_CHAT)).one()
        for number, function, priority in (("G1", "fault_repair", "urgent"), ("G2", "human_agent", "normal")):
            s.add(
                m.WorkOrder(
                    number=number,
                    function_id=function,
                    status="received",
                    priority=priority,
                    channel="chat",
                    conversation_id=BOT_CHAT,
                    created_at=start + dt.timedelta(seconds=1),
                    clock_start=start + dt.timedelta(seconds=1),
                )
            )
    with pytest.raises(NotReady) as waiting:  # the call-back is not due yet: too early to judge it
        built(world, BOT_CHAT, now=start + dt.timedelta(minutes=5))
    assert waiting.value.until > start + dt.timedelta(days=1)
    c = built(world, BOT_CHAT, now=start + dt.timedelta(days=30)).contact
    events = [(t.event, t.function) for t in c.turns if t.who == "system"]
    assert ("order_created", "fault_repair") in events and ("order_created", "human_agent") in events
    assert ("urgent", None) in events
    callback, repair = c.facts.callbacks  # the call-back, then the repair team's promised first step
    assert callback.done_at is None and callback.due_at > callback.promised_at > 0
    assert repair.done_at is None and repair.promised_at < repair.due_at < callback.due_at
    assert c.inspected_at is not None and c.inspected_at > repair.due_at  # judged: both overdue by then


def test_an_action_that_verifies_and_tells_the_bill_verified_first(world):
    """Rasa stores an action's messages before the slots it sets: the check passed before the bill was told."""
    tracker, sessions = world
    chat, start, meta = "chat-verify", T0 + 900, {"channel": "chat"}
    add_events(
        tracker,
        chat,
        [
            {"event": "session_started", "timestamp": start},
            {"event": "user", "timestamp": start + 1, "text": "我想查电费", "metadata": meta, "parse_data": {}},
            {"event": "action", "timestamp": start + 2, "name": "bill_query_form"},
            {"event": "bot", "timestamp": start + 2.1, "text": "请告诉我户主登记手机号的后四位。", "metadata": {}},
            {"event": "user", "timestamp": start + 9, "text": "0001", "metadata": meta, "parse_data": {}},
            {"event": "action", "timestamp": start + 10, "name": "bill_query_form"},
            {"event": "bot", "timestamp": start + 10.1, "text": "您本月电费236.5元，已缴清。", "metadata": {}},
            {"event": "slot", "timestamp": start + 10.2, "name": "verified_account", "value": "3201000001"},
        ],
    )
    feed_all(tracker, sessions)
    turns = built(world, chat).contact.turns
    order = [t.event or t.who for t in turns]
    assert order.index("verified") < max(i for i, t in enumerate(turns) if "236.5" in t.text)


def test_a_call_with_the_agent_leg_merged_from_its_transcript(world):
    tracker, sessions = world
    call, start = "voice:CA1", T0 + 600
    add_events(tracker, call, voice_call(call, start))
    feed_all(tracker, sessions)
    with sessions.begin() as s:
        s.add(voice_case(call, start, reason="safety", priority="urgent"))
        rec = Recording(
            call_sid="CA1",
            leg=RecordingLeg.AGENT,
            conversation_id=call,
            status=RecordingStatus.STORED,
            expires_at=utc(start + 86400 * 90),
            transcript=[],
        )
        s.add(rec)
        bot_leg = Recording(
            call_sid="CA1",
            leg=RecordingLeg.BOT,
            conversation_id=call,
            status=RecordingStatus.TRANSCRIBED,
            duration_seconds=100.0,
            created_at=utc(start + 100),  # stored as the call ended: it began with the call
            expires_at=utc(start + 86400 * 90),
        )
        s.add(bot_leg)
        s.flush()
        rec_id, bot_leg_id = rec.id, bot_leg.id
    refresh(sessions, utc(start + 3600))
    with pytest.raises(NotReady):  # not transcribed yet
        built(world, call)
    with sessions.begin() as s:
        rec = s.get(Recording, rec_id)
        assert rec is not None
        rec.status = RecordingStatus.TRANSCRIBED
        rec.transcript = [
            {"who": "agent", "start": 1.5, "end": 4.0, "text": "您好，我是客服小王"},
            {"who": "customer", "start": 5.0, "end": 7.0, "text": "电线掉地上了"},
        ]
    b = built(world, call)
    c = b.contact
    assert c.channel == "voice" and c.handled_by == "agent"
    assert spoken(b)[-5:] == [
        ("system", "urgent"),  # the case was urgent (the handoff's reason alone is not urgent handling)
        ("system", "transferred"),
        ("system", "agent_joined"),
        ("agent", "您好，我是客服小王"),
        ("customer", "电线掉地上了"),
    ]  # the paused bot's "还有其他可以帮您？" never reached the caller
    agent_turn = next(i for i, t in enumerate(c.turns) if t.who == "agent")
    assert c.turns[agent_turn].recording_offset == 1.5 and b.recording_of[agent_turn] == rec_id
    assert c.turns[agent_turn].at == pytest.approx(20 + 1.5, abs=0.01)  # placed from the claim
    asked = next(i for i, t in enumerate(c.turns) if t.text == "我家停电了")
    assert (c.turns[asked].recording_offset, b.recording_of[asked]) == (2.0, bot_leg_id)  # in the bot leg
    with sessions.begin() as s:
        rec = s.get(Recording, rec_id)
        assert rec is not None
        rec.status, rec.reason = RecordingStatus.NOT_INSPECTABLE, "录音文件损坏"
    with pytest.raises(NotInspectable, match="录音文件损坏"):
        built(world, call)


def test_a_contact_without_any_stored_words_cannot_be_built(world):
    tracker, sessions = world
    with sessions.begin() as s:
        s.add(
            Contact(
                contact_key="chat:gone:1796398000000",
                conversation_id="chat:gone",
                channel="chat",
                started_at=utc(1796398000.0),
                ended_at=utc(1796398100.0),
                outcome="contained",
            )
        )
    with sessions() as s:
        c = s.scalars(select(Contact).where(Contact.conversation_id == "chat:gone")).one()
        assert contact_start(c) == 1796398000.0
        with pytest.raises(NotInspectable, match="没有找到客户的话"):
            build(s, tracker, c)


def test_a_hazard_only_handed_to_the_queue_is_not_urgent_handling(world):
    """A safety handoff nobody turned into an urgent case or order: the hazard rule must see no urgent event."""
    tracker, sessions = world
    call, start = "voice:CA2", T0 + 1200
    add_events(tracker, call, voice_call(call, start))
    feed_all(tracker, sessions)
    with sessions.begin() as s:
        s.add(voice_case(call, start, reason="safety", priority="normal", claimed_at=None))  # nobody took it
    refresh(sessions, utc(start + 3600))
    events = [t.event for t in built(world, call).contact.turns if t.who == "system"]
    assert "transferred" in events and "urgent" not in events
