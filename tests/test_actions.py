"""Actions on tracker fixtures with a real SQLite back end (knowledge answers from the local articles)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services as services_mod
from actions.dialogue import ActionClarify
from actions.forms.account import ValidateBillQueryForm
from actions.forms.outage import ValidateFaultRepairForm
from actions.submit import ActionSubmitRequest

DOMAIN_DIR = Path(__file__).resolve().parent.parent / "bot" / "domain"


@pytest.fixture(scope="module")
def domain() -> dict:
    merged: dict = {}
    for f in sorted(DOMAIN_DIR.glob("*.yml")):
        for k, v in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).items():
            merged[k] = {**merged[k], **v} if isinstance(v, dict) and k in merged else v
    return merged


@pytest.fixture(autouse=True)
def backend(seeded_db_url, monkeypatch):
    monkeypatch.setenv("P95598_DB_URL", seeded_db_url)
    monkeypatch.setenv("P95598_KNOWLEDGE_URL", "")
    services_mod.services.cache_clear()
    yield services_mod.services()
    services_mod.services.cache_clear()


def tracker(
    text: str,
    intent: str,
    confidence: float = 0.95,
    slots: dict | None = None,
    events: list | None = None,
    ranking: list | None = None,
    entities: list | None = None,
    message_id: str = "m-1",
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
    }
    history = (events or []) + [{"event": "user", "text": text, "parse_data": message, "message_id": message_id}]
    return Tracker("conv-1", dict(slots or {}), message, history, False, None, None, "action_listen")


def run(action, t, domain):
    d = CollectingDispatcher()
    events = asyncio.run(action.run(d, t, domain))
    return events, [m.get("text") or "" for m in d.messages], d.messages


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_opening_message_fills_description_and_address(domain):
    events, texts, messages = run(
        ValidateFaultRepairForm(), tracker("家里停电了，我家在城东区和平路12号", "fault_repair"), domain
    )
    slots = slot_events(events)
    assert slots["address"] == "城东区和平路12号" and slots["fault_desc"].startswith("家里停电了")
    assert "requested_slot" not in slots
    [told] = messages  # the area's fault outage, told before any question (the report may go on)
    assert told["notice"] == "outage" and "故障停电" in told["text"] and "不用了" in told["text"]


def test_correction_is_announced_and_pending_question_kept(domain):
    t = tracker("不对，地址是解放路8号", "inform", slots={"requested_slot": "safety_risk", "address": "建设路45号"})
    events, texts, _ = run(ValidateFaultRepairForm(), t, domain)
    assert slot_events(events)["address"] == "解放路8号"
    assert any("地址记为解放路8号" in x for x in texts)


def test_cancel_stops_the_form(domain):
    events, _, _ = run(
        ValidateBillQueryForm(), tracker("算了不查了", "cancel", slots={"requested_slot": "account_no"}), domain
    )
    slots = slot_events(events)
    assert slots["requested_slot"] is None and slots["form_outcome"] == "cancelled"


def test_side_question_is_answered_and_form_continues(domain):
    t = tracker("电费在哪里交", "payment", slots={"requested_slot": "account_no"})
    events, texts, _ = run(ValidateBillQueryForm(), t, domain)
    slots = slot_events(events)
    assert "requested_slot" not in slots and slots["last_function"] == "payment"
    assert texts and "接着办" in texts[0]


def test_wrong_phone_digits_reveal_nothing_and_third_miss_offers_a_human(domain):
    t = tracker("1234", "inform", slots={"requested_slot": "phone_last4", "account_no": "3201000001"})
    events, texts, _ = run(ValidateBillQueryForm(), t, domain)
    assert slot_events(events)["phone_last4"] is None and "对不上" in texts[0] and "1391234" not in texts[0]
    t = tracker(
        "不知道", "deny", slots={"requested_slot": "phone_last4", "account_no": "3201000001", "slot_attempts": 2}
    )
    events, texts, messages = run(ValidateBillQueryForm(), t, domain)
    assert slot_events(events)["offered_human"] is True and "人工" in texts[0] and messages[0]["buttons"]


def test_submit_creates_one_order_however_often_it_runs(domain, cis):
    history = [{"event": "active_loop", "name": "fault_repair_form"}, {"event": "active_loop", "name": None}]
    slots = {
        "address": "城东区和平路12号",
        "fault_desc": "全屋没电",
        "safety_risk": False,
        "contact_phone": "13912340001",
        "channel": "chat",
    }
    t = tracker("13912340001", "inform", slots=slots, events=history)
    events1, texts1, _ = run(ActionSubmitRequest(), t, domain)
    events2, texts2, _ = run(ActionSubmitRequest(), t, domain)
    n1, n2 = slot_events(events1)["last_order_no"], slot_events(events2)["last_order_no"]
    assert n1 == n2 and cis.get_work_order(n1).details["description"] == "全屋没电"
    assert slot_events(events1)["address"] is None  # form slots reset for the next request


def test_same_caller_in_a_new_session_gets_a_new_order(domain, cis):
    """A tracker store loads only the current session: the key must not be a turn count that restarts."""
    history = [{"event": "active_loop", "name": "fault_repair_form"}, {"event": "active_loop", "name": None}]
    slots = {
        "address": "城东区和平路12号",
        "fault_desc": "又停电了",
        "safety_risk": False,
        "contact_phone": "13912340001",
        "channel": "voice",
    }
    first, _, _ = run(
        ActionSubmitRequest(), tracker("没有", "deny", slots=slots, events=history, message_id="a1"), domain
    )
    later, _, _ = run(
        ActionSubmitRequest(), tracker("没有", "deny", slots=slots, events=history, message_id="b7"), domain
    )
    assert slot_events(first)["last_order_no"] != slot_events(later)["last_order_no"]


def test_clarify_offers_candidates_then_a_human(domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "bill_query", "confidence": 0.3},
        {"name": "payment", "confidence": 0.2},
        {"name": "greet", "confidence": 0.1},
    ]
    _, texts, messages = run(ActionClarify(), tracker("那个钱的事", "nlu_fallback", ranking=ranking), domain)
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/bill_query", "/payment"]
    events, texts, _ = run(ActionClarify(), tracker("嗯那个", "nlu_fallback", slots={"fallback_count": 1}), domain)
    assert slot_events(events)["offered_human"] is True and "人工" in texts[0]


def test_a_danger_signal_brings_a_person_only_when_one_is_online(domain, backend):
    from actions.handoff import ActionEscalateSignal

    t = tracker("楼下配电箱着火了", "safety_hazard", slots={"channel": "chat"})
    t.latest_message["escalation"] = {"reason": "safety"}  # nlu.components.escalation_signal
    events, texts, _ = run(ActionEscalateSignal(), t, domain)
    assert [e["event"] for e in events] == ["undo"] and texts == []  # nobody online: the ordinary flow goes on

    contact = backend.contact
    agent = contact.agent_by_username("signal-test") or contact.add_agent("signal-test", "测试坐席", "x" * 12)
    contact.heartbeat(agent.id)
    try:
        events, texts, messages = run(ActionEscalateSignal(), t, domain)
        handoff = next(m["custom"]["handoff"] for m in messages if (m.get("custom") or {}).get("handoff"))
        assert "pause" in [e["event"] for e in events] and texts[0].startswith("您的安全最重要。")
        assert len(texts[0]) > len("您的安全最重要。") + 10  # what to do while waiting: the safety advice
        assert contact.case(handoff["case"]).reason == "safety"
        contact.finish(handoff["case"], "closed", "resolved")
    finally:
        contact.heartbeat(agent.id, online=False)


def test_a_handoff_runs_off_the_action_servers_event_loop(domain, monkeypatch):
    """Opening a case or filing a callback blocks on the database; other conversations' actions go on meanwhile.
    The real handoff (nobody online here: a callback order) still works from the worker thread."""
    import time

    from actions import handoff

    events, texts, _ = run(handoff.ActionHandoff(), tracker("转人工", "human_agent"), domain)
    assert slot_events(events)["last_order_no"].startswith("G") and "人工回复" in texts[0]

    monkeypatch.setattr(handoff, "hand_off", lambda d, t, reason: time.sleep(0.3) or [])

    async def both() -> float:
        started = time.perf_counter()

        async def other_conversation() -> float:
            for _ in range(5):
                await asyncio.sleep(0.02)
            return time.perf_counter() - started

        _, other_done = await asyncio.gather(
            handoff.ActionHandoff().run(CollectingDispatcher(), tracker("转人工", "human_agent"), domain),
            other_conversation(),
        )
        return other_done

    assert asyncio.run(both()) < 0.25  # the other conversation did not wait for the 0.3 s handoff
