"""The unit of quality inspection: one finished contact as a flat, channel-neutral transcript plus the facts the
back end knows about it. Built from Rasa's tracker, the contact row, the case and the orders by quality.adapter;
written by hand (YAML) in the benchmark's labelled set. The rules (quality/rules.yml) read only this.

A contact as YAML (times are seconds since the contact started):

    id: c001
    channel: voice            # chat | voice | wechat
    handled_by: agent         # bot | agent (an agent took part)
    agent: {id: "1001", name: 张敏, team: 一班}   # null for bot-only contacts
    turns:
      - {who: bot, text: 您好，这里是95598供电服务热线……, at: 0}
      - {who: customer, text: 我家停电了, at: 4.2}
      - {who: system, event: verified, at: 20.0}          # identity checked for the account
      - {who: bot, text: 您的户号3201000001本月电费236元……, at: 21.0, discloses: true}
      - {who: system, event: transferred, at: 30.0}        # the customer joined the agents' queue
      - {who: system, event: agent_joined, at: 55.0}
      - {who: agent, text: 您好，我是客服张敏, at: 56.0}
      - {who: system, event: hold_start, at: 80.0}
      - {who: system, event: hold_end, at: 150.0}
      - {who: system, event: urgent, at: 90.0}             # urgent handling: a danger escalation or urgent order
      - {who: system, event: order_created, at: 95.0, function: fault_repair}
    facts:
      outcome: agent            # contained | agent | abandoned
      resolved: true            # the request was served: an order filed, or the answer given and accepted
      complaint: false          # the contact is a complaint (its function, or the customer complained)
      callbacks: [{promised_at: 100.0, due_at: 7300.0, done_at: null}]   # promised call-backs and their fate
    inspected_at: 200.0         # optional: when inspected; a call-back not yet due then is not judged late

System events (`who: system`, `text` empty): verified, transferred, agent_joined, hold_start, hold_end, urgent,
order_created. `discloses` marks bot turns the product knows reveal account data (balance, bills, usage,
address); an agent's words are judged by the rules' own patterns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SPEAKERS = ("customer", "bot", "agent", "system")
EVENTS = ("verified", "transferred", "agent_joined", "hold_start", "hold_end", "urgent", "order_created")
CHANNELS = ("chat", "voice", "wechat")


@dataclass(frozen=True)
class Turn:
    who: str  # SPEAKERS
    text: str = ""
    at: float = 0.0  # seconds since the contact started
    event: str | None = None  # system turns only: EVENTS
    discloses: bool = False  # a bot turn that reveals account data
    function: str | None = None  # order_created: the service function
    recording_offset: float | None = None  # voice: where this turn is in the call recording, when known


@dataclass(frozen=True)
class Callback:
    promised_at: float
    due_at: float
    done_at: float | None = None


@dataclass(frozen=True)
class Facts:
    outcome: str = "contained"  # contained | agent | abandoned
    resolved: bool = True
    complaint: bool = False
    callbacks: tuple[Callback, ...] = ()


@dataclass(frozen=True)
class Agent:
    id: str
    name: str = ""
    team: str | None = None


@dataclass(frozen=True)
class InspectedContact:
    id: str
    channel: str
    handled_by: str  # bot | agent
    turns: tuple[Turn, ...]
    facts: Facts = field(default_factory=Facts)
    agent: Agent | None = None
    inspected_at: float | None = None  # when inspected (seconds since the start); None: after everything was due

    @property
    def customer_turns(self) -> list[tuple[int, Turn]]:
        return [(i, t) for i, t in enumerate(self.turns) if t.who == "customer"]


def _turn(raw: dict[str, Any]) -> Turn:
    who = raw.get("who")
    if who not in SPEAKERS:
        raise ValueError(f"turn speaker must be one of {SPEAKERS}: {who!r}")
    event = raw.get("event")
    if who == "system" and event not in EVENTS:
        raise ValueError(f"system event must be one of {EVENTS}: {event!r}")
    return Turn(
        who=who,
        text=str(raw.get("text") or ""),
        at=float(raw.get("at") or 0.0),
        event=event,
        discloses=bool(raw.get("discloses", False)),
        function=raw.get("function"),
        recording_offset=None if raw.get("recording_offset") is None else float(raw["recording_offset"]),
    )


def from_dict(raw: dict[str, Any]) -> InspectedContact:
    """A contact from its YAML/JSON form (the format in this module's docstring); ValueError when malformed."""
    channel = raw.get("channel")
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}: {channel!r}")
    handled_by = raw.get("handled_by", "bot")
    if handled_by not in ("bot", "agent"):
        raise ValueError(f"handled_by must be bot or agent: {handled_by!r}")
    facts = raw.get("facts") or {}
    agent = raw.get("agent")
    return InspectedContact(
        id=str(raw.get("id", "")),
        channel=channel,
        handled_by=handled_by,
        turns=tuple(_turn(t) for t in raw.get("turns") or []),
        facts=Facts(
            outcome=str(facts.get("outcome", "contained")),
            resolved=bool(facts.get("resolved", True)),
            complaint=bool(facts.get("complaint", False)),
            callbacks=tuple(
                Callback(
                    float(c["promised_at"]),
                    float(c["due_at"]),
                    None if c.get("done_at") is None else float(c["done_at"]),
                )
                for c in facts.get("callbacks") or []
            ),
        ),
        agent=Agent(str(agent["id"]), str(agent.get("name") or ""), agent.get("team")) if agent else None,
        inspected_at=None if raw.get("inspected_at") is None else float(raw["inspected_at"]),
    )
