"""The one mapping from a Rasa event to the analytics changes (analytics.events), on events recorded from a real
conversation of the product (tests/analytics/data/tracker_events.json: a Rasa 3.6 tracker store's rows) and on
malformed ones, which are refused with a reason."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from analytics.events import BadEvent, changes_of
from analytics.functions import OUTAGE_FUNCTIONS, main_function, service_function
from knowledge.catalog import catalog

RECORDED = json.loads((Path(__file__).parent / "data" / "tracker_events.json").read_text(encoding="utf-8"))


def recorded(conversation: str) -> list[dict[str, Any]]:
    return [{**json.loads(r["data"]), "sender_id": r["sender_id"]} for r in RECORDED[conversation]]


def first(events: list[dict[str, Any]], kind: str, **match: Any) -> dict[str, Any]:
    return next(e for e in events if e["event"] == kind and all(e.get(k) == v for k, v in match.items()))


def test_outage_functions_come_from_the_catalog():
    assert {"fault_repair", "outage_query"} == OUTAGE_FUNCTIONS
    assert set(catalog().functions) >= OUTAGE_FUNCTIONS
    assert service_function("outage_query_form") == "outage_query"
    assert service_function("greet") is None and service_function("nlu_fallback") is None
    assert main_function(None, "human_agent") == "human_agent"
    assert main_function("human_agent", "bill_query") == "bill_query"
    assert main_function("bill_query", "fault_repair") == "bill_query"  # the first specific one stays


def test_a_real_customer_turn_a_session_start_and_the_outage_notice():
    events = recorded("contained")
    session = changes_of(first(events, "session_started"))
    assert session is not None and session.contact is not None and session.contact.kind == "session"
    assert session.turn_row is not None and session.turn_row["kind"] == "session"

    said = first(events, "user", text="帮我查一下停电信息")
    turn = changes_of(said)
    assert turn is not None and turn.contact is not None and turn.turn_row is not None
    assert turn.contact.kind == "turn" and turn.contact.channel == "chat"
    assert turn.contact.function == "outage_query" and not turn.contact.fallback
    assert turn.turn_row["function"] == "outage_query" and 0 < turn.turn_row["confidence"] <= 1
    again = changes_of(dict(said))
    assert again is not None and again.key == turn.key  # the same event, the same key

    told = [changes_of(e) for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("notice")]
    assert told and all(c is not None and c.contact is not None and c.contact.told_outage for c in told)
    ended = [changes_of(e) for e in events if e["event"] == "bot" and "本次会话已结束" in (e.get("text") or "")]
    assert ended and all(c is not None and c.contact is not None and c.contact.ended for c in ended)
    assert changes_of(first(events, "action")) is None  # actions say nothing analytics keeps


def test_a_real_handoff_verification_and_pause():
    events = recorded("agent")
    verified = changes_of(first(events, "slot", name="verified_account"))
    assert verified is not None and verified.contact is not None
    assert verified.contact.account_no == "3201000001" and verified.contact.verified
    handoff = [changes_of(e) for e in events if e["event"] == "bot" and ((e.get("data") or {}).get("custom") or {})]
    escalated = [c.contact for c in handoff if c is not None and c.contact is not None and c.contact.escalated]
    assert escalated and escalated[0].transfer_reason == "customer_request"
    pause = changes_of(first(events, "pause"))
    assert pause is not None and pause.turn_row is not None and pause.turn_row["kind"] == "handoff"


def test_voice_metadata_gives_the_caller_and_the_ivr_outage_notice():
    said = {
        **first(recorded("contained"), "user", text="帮我查一下停电信息"),
        "sender_id": "voice:13912340001",
        "metadata": {"channel": "voice", "caller": "13912340001", "call_sid": "CA1", "told_outage": True},
    }
    change = changes_of(said)
    assert change is not None and change.contact is not None
    assert change.contact.caller == "13912340001" and change.contact.told_outage and change.contact.channel == "voice"
    chat = changes_of({**said, "metadata": {"channel": "chat", "caller": "13912340001"}})
    assert chat is not None and chat.contact is not None and chat.contact.caller is None  # only a call has a caller


USER = {"event": "user", "sender_id": "chat:x", "timestamp": 1764300000.5, "text": "停电了", "message_id": "m1"}


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("not an object", "an event is an object"),
        ([USER], "an event is an object"),
        ({**USER, "event": None}, "no event type"),
        ({**USER, "sender_id": None}, "no sender_id"),
        ({**USER, "sender_id": 42}, "no sender_id"),
        ({**USER, "sender_id": "x" * 65}, "longer than 64"),
        ({**USER, "timestamp": "yesterday"}, "not a number"),
        ({**USER, "timestamp": True}, "not a number"),
        ({**USER, "timestamp": math.nan}, "not a number"),
        ({**USER, "timestamp": -5.0}, "not between"),
        ({**USER, "timestamp": 1e12}, "not between"),
        ({k: v for k, v in USER.items() if k != "timestamp"}, "not a number"),
        ({**USER, "metadata": "chat"}, "metadata is a str"),
        ({**USER, "text": ["停电"]}, "text is a list"),
        ({**USER, "parse_data": []}, "parse_data is a list"),
        ({**USER, "parse_data": {"intent": "fault_repair"}}, "intent is not an object"),
        ({**USER, "parse_data": {"intent": {"name": 3}}}, "intent name"),
        ({**USER, "parse_data": {"intent": {"name": "fault_repair", "confidence": "high"}}}, "confidence"),
        ({**USER, "event": "bot", "data": "x"}, "data is a str"),
    ],
)
def test_a_malformed_event_is_refused_with_its_reason(event: Any, reason: str):
    with pytest.raises(BadEvent, match=reason):
        changes_of(event)


def test_a_20kb_paste_is_cut_and_odd_slot_values_are_ignored():
    change = changes_of({**USER, "text": "停电" * 10_000})
    assert change is not None and change.contact is not None and len(change.contact.text) == 2000
    slot = {"event": "slot", "sender_id": "chat:x", "timestamp": 1764300000.0, "name": "verified_account"}
    assert changes_of({**slot, "value": None}) is None
    assert changes_of({**slot, "value": {"account": "3201000001"}}) is None
    assert changes_of({**slot, "value": "not-an-account"}) is None
    assert changes_of({**USER, "event": "some_future_event"}) is None
    external = changes_of({**USER, "text": "EXTERNAL: human_agent"})
    assert external is not None and external.contact is None and external.turn_row is not None
