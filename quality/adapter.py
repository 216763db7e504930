"""One finished contact (analytics' `contacts` row) -> the `InspectedContact` the rules read.

Turns come from Rasa's tracker store (its `events` table: the embedded profile's SQLite file, the scale profile's
PostgreSQL database, which is also the back end's; one SQL query either way), read as backend/case_view.py
`transcript()` reads them: user -> customer, bot with metadata.agent -> agent, other bot -> bot; left out are what
the paused bot produced, intents triggered from outside and the console's own system lines (divider, rating card).
The chat page's and the voice gateway's welcome (channels.wording.WELCOME), said outside Rasa, is the first bot
turn of a chat or voice contact; WeChat greets only on subscribing, so its contacts start with the bot's reply.
System events come from the tracker and the back end:

    verified       the `verified_account` slot set, a `verifications` row, or an agent's identity check note
    transferred    the bot's handoff message or the `pause` that follows it
    agent_joined   the case claimed (escalations.claimed_at), else the first agent turn
    urgent         an urgent case or an urgent work order (a hazard merely handed to the queue is not)
    order_created  each work order of the conversation filed during the contact
    hold_start/end the product records no hold: never produced

Facts: outcome from the contact; complaint from its function or a complaint order; callbacks from the call-back
orders (人工回复, function human_agent) with the commitment's resolution time as due. A voice contact's agent leg
(call_recordings, leg agent, transcribed) is merged in as agent/customer turns with `recording_offset`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from analytics.contacts import next_contact_start
from backend import models as m
from backend.case_view import external, payload_title
from backend.contact_centre.kinds import NoteKind
from backend.model_base import epoch
from backend.models_analytics import Contact, ContactOutcome
from backend.models_recordings import Recording, RecordingLeg, RecordingStatus
from channels.wording import WELCOME
from quality.commitments import CALLBACK_FUNCTION, callback_of, contact_of, restoration_of
from quality.contact import Agent, Facts, InspectedContact, Turn

SLACK = 60.0  # seconds: back-end rows are written a moment before or after the events that announce them
ACCOUNT_FORMS = ("bill_query_form", "balance_query_form", "arrears_reconnect_form", "progress_query_form")
ACCOUNT_DATA = re.compile(r"\d[\d,.]*\s*(元|块|度|千瓦时)|余额|欠费|户号\d{6,}")
COMPLAINT_FUNCTION = "complaint"
URGENT = "urgent"
AGENT_WORDS = ("agent", "坐席", "客服")  # how a recording's transcript names the agent's side
TEXT_CHANNELS = {"voice": "voice", "wechat": "wechat"}  # everything else is read as chat
WELCOMED = ("chat", "voice")  # the chat page and the voice gateway greet first, outside Rasa (channels.wording)


class NotInspectable(Exception):
    """The contact cannot be inspected; the message says why, in words a supervisor reads."""


class NotReady(Exception):
    """Not yet: something the inspection needs is still to come (a transcript, a call-back's due time)."""

    def __init__(self, reason: str, until: dt.datetime) -> None:
        super().__init__(reason)
        self.until = until


@dataclass(frozen=True)
class Built:
    contact: InspectedContact
    recording_of: dict[int, int] = field(default_factory=dict)  # turn index -> call_recordings.id


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


def contact_start(c: Contact) -> float:
    """The session's start (the contact key's "<conversation>:<ms>"), else the first customer turn."""
    try:
        return int(c.contact_key.rsplit(":", 1)[1]) / 1000.0
    except (IndexError, ValueError):
        return epoch(c.started_at)


def tracker_events(tracker: Engine, conversation_id: str, since: float, until: float) -> list[dict[str, Any]]:
    """The conversation's stored events between two times (Rasa's `events` table, in the order written)."""
    try:
        with tracker.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT data FROM events WHERE sender_id = :s AND timestamp >= :a AND timestamp <= :b ORDER BY id"
                ),
                {"s": conversation_id, "a": since, "b": until},
            ).all()
    except OperationalError as e:
        if "no such table" in str(e):
            return []
        raise
    events = []
    for (data,) in rows:
        try:
            event = json.loads(data or "")
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("timestamp"), (int, float)):
            events.append(event)
    return events


@dataclass
class _Draft:
    """The turns being collected: (time, order, Turn) so back-end events merge in by time."""

    origin: float
    items: list[tuple[float, int, Turn]] = field(default_factory=list)
    recording_of: dict[int, int] = field(default_factory=dict)  # item order -> recording id

    def add(self, ts: float, turn_: Turn, recording: int | None = None) -> None:
        order = len(self.items)
        self.items.append((ts, order, turn_))
        if recording is not None:
            self.recording_of[order] = recording

    def event(self, ts: float, name: str, function: str | None = None) -> None:
        self.add(ts, Turn(who="system", event=name, at=round(ts - self.origin, 3), function=function))

    def has(self, name: str) -> bool:
        return any(t.event == name for _, _, t in self.items)

    def sorted(self) -> tuple[tuple[Turn, ...], dict[int, int]]:
        ordered = sorted(self.items, key=lambda i: (i[0], i[1]))
        index = {order: n for n, (_, order, _) in enumerate(ordered)}
        return tuple(t for _, _, t in ordered), {index[o]: r for o, r in self.recording_of.items()}


def _context(e: dict[str, Any], state: dict[str, str]) -> None:
    """Tracks which action is speaking and which form last ran (a bot turn's source)."""
    kind = e.get("event")
    if kind == "action" and e.get("name"):
        state["action"] = str(e["name"])
        state["action_at"] = str(e.get("timestamp") or "")
    elif kind == "active_loop" and e.get("name"):
        state["form"] = str(e["name"])


def _discloses(text_: str, state: dict[str, str]) -> bool:
    action = state.get("action", "")
    source = state.get("form", "") if action == "action_submit_request" else action
    return source in ACCOUNT_FORMS and ACCOUNT_DATA.search(text_) is not None


def _from_tracker(draft: _Draft, events: list[dict[str, Any]], start: float) -> None:
    paused = False
    buttons: dict[Any, Any] = {}
    state: dict[str, str] = {}
    for e in events:
        kind, ts = e.get("event"), float(e["timestamp"])
        at = round(ts - draft.origin, 3)
        if kind == "session_started" and ts > start + 1.0:
            break  # the conversation's next session: another contact
        _context(e, state)
        if kind == "pause":
            if not paused and not draft.has("transferred"):
                draft.event(ts, "transferred")
            paused = True
        elif kind in ("resume", "restart"):
            paused = False
        elif kind == "slot" and e.get("name") == "verified_account" and e.get("value") and not draft.has("verified"):
            # an action's messages are stored before the slots it sets: the check passed when that action began
            draft.event(float(state.get("action_at") or ts), "verified")
        if kind not in ("user", "bot"):
            continue
        meta: dict[str, Any] = e["metadata"] if isinstance(e.get("metadata"), dict) else {}
        data: dict[str, Any] = e["data"] if isinstance(e.get("data"), dict) else {}
        custom: dict[str, Any] = data["custom"] if isinstance(data.get("custom"), dict) else {}
        handoff = custom.get("handoff")
        if kind == "bot" and isinstance(handoff, dict) and not draft.has("transferred"):
            draft.event(ts, "transferred")
        said = str(e.get("text") or "").strip()
        if not said:
            continue
        if kind == "bot":
            if meta.get("agent"):
                draft.add(ts, Turn(who="agent", text=said, at=at))
            elif not meta.get("system") and not paused:  # a paused bot's words never reached the customer
                buttons = {b.get("payload"): b.get("title") for b in data.get("buttons") or [] if isinstance(b, dict)}
                draft.add(ts, Turn(who="bot", text=said, at=at, discloses=_discloses(said, state)))
            continue
        if external(e):
            continue
        if said.startswith("/"):  # a pressed button: what the button said
            said = str(buttons.get(said) or payload_title(said))
            if not said:
                continue
        draft.add(ts, Turn(who="customer", text=said, at=at))


def _cases(s: Session, c: Contact, since: dt.datetime, until: dt.datetime) -> list[m.Escalation]:
    return list(
        s.scalars(
            select(m.Escalation)
            .where(m.Escalation.conversation_id == c.conversation_id, m.Escalation.created_at.between(since, until))
            .order_by(m.Escalation.created_at)
        )
    )


def _orders(s: Session, c: Contact, since: dt.datetime, until: dt.datetime) -> list[m.WorkOrder]:
    return list(
        s.scalars(
            select(m.WorkOrder)
            .where(m.WorkOrder.conversation_id == c.conversation_id, m.WorkOrder.created_at.between(since, until))
            .order_by(m.WorkOrder.created_at)
        )
    )


def _verified_at(
    s: Session, c: Contact, cases: list[m.Escalation], since: dt.datetime, until: dt.datetime
) -> float | None:
    times = list(
        s.scalars(
            select(m.Verification.verified_at).where(
                m.Verification.conversation_id == c.conversation_id, m.Verification.verified_at.between(since, until)
            )
        )
    )
    if cases:
        times += s.scalars(
            select(m.CaseNote.at).where(
                m.CaseNote.case_id.in_([e.id for e in cases]), m.CaseNote.kind == NoteKind.VERIFY
            )
        )
    return epoch(min(times)) if times else None


def _agent(s: Session, cases: list[m.Escalation]) -> Agent | None:
    claimed = [e for e in cases if e.claimed_at is not None and e.agent_id is not None]
    if not claimed:
        return None
    row = s.get(m.Agent, claimed[0].agent_id)
    if row is None:
        return Agent(id=str(claimed[0].agent_id))
    return Agent(id=row.username, name=row.display_name, team=None)  # agents belong to no team in the product


def _agent_leg(s: Session, c: Contact, draft: _Draft, joined: float, until: dt.datetime) -> None:
    """The agent leg of a call: its timed transcript as turns, placed from the moment the agent joined."""
    legs = s.scalars(
        select(Recording)
        .where(Recording.conversation_id == c.conversation_id, Recording.leg == RecordingLeg.AGENT)
        .order_by(Recording.id)
    ).all()
    for rec in legs:
        if rec.status == RecordingStatus.NOT_INSPECTABLE:
            raise NotInspectable(f"人工通话录音无法质检：{rec.reason or '录音缺失或损坏'}")
        if rec.status == RecordingStatus.STORED:
            raise NotReady("人工通话录音还在转写", until + dt.timedelta(minutes=30))
        for piece in rec.transcript or []:
            said = str(piece.get("text") or "").strip()
            if not said:
                continue
            offset = float(piece.get("start") or 0.0)
            who = "agent" if str(piece.get("who") or "") in AGENT_WORDS else "customer"
            ts = joined + offset
            draft.add(ts, Turn(who=who, text=said, at=round(ts - draft.origin, 3), recording_offset=offset), rec.id)


def _bot_leg(s: Session, c: Contact, draft: _Draft) -> None:
    """Where the tracker's turns of a call are in its bot-leg recording (Media Streams, stored when the call ended:
    it began `duration_seconds` before its row was written), for the player; turns outside it get none."""
    rec = s.scalars(
        select(Recording)
        .where(
            Recording.conversation_id == c.conversation_id,
            Recording.leg == RecordingLeg.BOT,
            Recording.status.in_((RecordingStatus.STORED, RecordingStatus.TRANSCRIBED)),
        )
        .order_by(Recording.id.desc())
        .limit(1)
    ).first()
    if rec is None or rec.duration_seconds <= 0:
        return
    began = epoch(rec.created_at) - rec.duration_seconds
    for n, (ts, order, t) in enumerate(draft.items):
        offset = ts - began
        if t.who in ("bot", "customer") and order not in draft.recording_of and 0 <= offset <= rec.duration_seconds:
            draft.items[n] = (ts, order, replace(t, recording_offset=round(offset, 2)))
            draft.recording_of[order] = rec.id


def _read_until(s: Session, c: Contact, end: float) -> float:
    """A little past the contact's last event seen (the feed may not have read the very last ones yet), never
    into the conversation's next contact."""
    later = next_contact_start(s, c)
    return min(end + SLACK, epoch(later) - 0.001) if later is not None else end + SLACK


def build(s: Session, tracker: Engine, c: Contact, now: dt.datetime | None = None) -> Built:
    """The contact as the rules read it. NotInspectable when it cannot be (nothing recorded, broken audio);
    NotReady when something it needs is still to come."""
    start = contact_start(c)
    end = epoch(c.ended_at or c.started_at)
    draft = _Draft(origin=start)
    _from_tracker(draft, tracker_events(tracker, c.conversation_id, start - 1.0, _read_until(s, c, end)), start)
    if not any(t.who == "customer" for _, _, t in draft.items):
        raise NotInspectable("对话记录里没有找到客户的话，无法质检")
    if c.channel in WELCOMED:  # said by the channel before the customer's first words, so not in the tracker
        draft.add(start - 0.001, Turn(who="bot", text=WELCOME.on(c.channel), at=0.0))
    since, until = _utc(start - SLACK), _utc(end + SLACK)
    cases = _cases(s, c, since, until)
    orders = _orders(s, c, since, until)
    verified = _verified_at(s, c, cases, since, until)
    if verified is not None and not draft.has("verified"):
        draft.event(max(verified, start), "verified")
    joined = next((epoch(e.claimed_at) for e in cases if e.claimed_at is not None), None)
    first_agent = min((ts for ts, _, t in draft.items if t.who == "agent"), default=None)
    if joined is not None or first_agent is not None:
        joined = min(x for x in (joined, first_agent) if x is not None)
        draft.event(joined - 0.001, "agent_joined")  # just before the agent's first word
    # urgent handling is an urgent order or case; handing a hazard to the queue is not (nobody may answer)
    if any(e.priority == URGENT for e in cases) and not draft.has(URGENT):
        draft.event(epoch(next(e.created_at for e in cases if e.priority == URGENT)), URGENT)
    for o in orders:
        draft.event(epoch(o.created_at), "order_created", o.function_id)
        if o.priority == URGENT and not draft.has(URGENT):
            draft.event(epoch(o.created_at), URGENT)
    channel = TEXT_CHANNELS.get(c.channel, "chat")
    if channel == "voice":
        _bot_leg(s, c, draft)
        if joined is not None:
            _agent_leg(s, c, draft, joined, c.ended_at or c.started_at)
    callbacks = [o for o in orders if o.function_id == CALLBACK_FUNCTION]
    made = [callback_of(o, start) for o in callbacks]
    pending = [start + cb.due_at for cb in made if cb.done_at is None]
    clock = epoch(now) if now is not None else None
    if pending and clock is not None and clock < max(pending):
        raise NotReady("回电还没到承诺时间", _utc(max(pending)))
    # the other orders' first steps: still open ones are chased by the work-order supervision, not waited for
    made += [cb for o in orders if o.function_id != CALLBACK_FUNCTION and (cb := contact_of(o, start)) is not None]
    made += [cb for cb in (restoration_of(s, c, start),) if cb is not None]
    turns, recording_of = draft.sorted()
    agent = _agent(s, cases)
    return Built(
        InspectedContact(
            id=str(c.id),
            channel=channel,
            handled_by="agent" if agent is not None or joined is not None else "bot",
            turns=turns,
            facts=Facts(
                outcome=c.outcome if c.outcome != ContactOutcome.IN_PROGRESS else ContactOutcome.CONTAINED,
                resolved=_resolved(c, cases, orders, draft),
                complaint=c.function == COMPLAINT_FUNCTION or any(o.function_id == COMPLAINT_FUNCTION for o in orders),
                callbacks=tuple(made),
            ),
            agent=agent,
            inspected_at=None if clock is None else round(clock - start, 3),
        ),
        recording_of,
    )


UNRESOLVED = ("no_response", "customer_left", "offline", "callback")  # case dispositions: not served (yet)


def _resolved(c: Contact, cases: list[m.Escalation], orders: list[m.WorkOrder], draft: _Draft) -> bool:
    """Served: not abandoned, and an order filed, or an agent closed the case as resolved / answered, or the bot
    kept it to the end."""
    if c.outcome == ContactOutcome.ABANDONED:
        return False
    if any(o.function_id != CALLBACK_FUNCTION for o in orders):
        return True
    claimed = [e for e in cases if e.claimed_at is not None]
    if claimed:
        return any(e.disposition not in UNRESOLVED for e in claimed)  # no code picked: taken as served
    return not draft.has("transferred") and not any(o.function_id == CALLBACK_FUNCTION for o in orders)
