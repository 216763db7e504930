"""Contacts from events: one row per conversation session, created at its first customer turn and updated as
its events arrive; outcome, wait, handling time and satisfaction from the contact centre's tables.

`apply` runs one event's changes inside the caller's transaction and writes each event once (the turn row's
unique event key; the other changes are idempotent settings). `refresh` settles what happens outside Rasa's
events: an agent claiming or closing the case, a customer abandoning the queue, idle contacts, late ratings.
The outcome rules live in `outcome_of` only."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, and_, bindparam, or_, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from analytics.events import ContactChange, EventChanges
from analytics.functions import OUTAGE_FUNCTIONS, main_function
from backend import models as m
from backend.contact_centre.kinds import Channel
from backend.db import insert_new, write_lock
from backend.model_base import transaction_memo
from backend.models_analytics import Contact, ContactOutcome, FeedPosition
from backend.pii import mask
from backend.topology import area_named_in

SLACK = dt.timedelta(seconds=60)  # an escalation's row is written a moment before the events that announce it
RATED_WITHIN = dt.timedelta(hours=2)  # a bot-only rating asked this long after the contact's last event is not its
REFRESH_HORIZON = dt.timedelta(days=2)  # contacts older than this are settled for good
CALLBACK_FUNCTION = "human_agent"  # actions.handoff.callback_order files a request for a person as this
REFRESHED = "satisfaction"  # FeedPosition source: cases, callbacks, ratings and surveys read up to its updated_at


def idle_limit(channel: str | None = None) -> dt.timedelta:
    """How long a contact may go without an event before it counts as over. A call that said nothing for
    P95598_CALL_IDLE_MINUTES (3) has hung up (the IVR ends a silent call after two no-input prompts, and the
    hang-up itself sends no event); chats may pause for P95598_CONTACT_IDLE_MINUTES (30)."""
    if channel == Channel.VOICE:
        return dt.timedelta(minutes=float(os.environ.get("P95598_CALL_IDLE_MINUTES", "3")))
    return dt.timedelta(minutes=float(os.environ.get("P95598_CONTACT_IDLE_MINUTES", "30")))


def outcome_of(escalations: Sequence[m.Escalation], escalated: bool, closed: bool) -> ContactOutcome:
    """agent: a person claimed a case; abandoned: every case ended unclaimed (the customer left the queue, or it
    was closed unanswered); contained: the bot kept the contact to its end; in_progress: not decided yet."""
    if any(e.claimed_at for e in escalations):
        return ContactOutcome.AGENT
    if escalations:
        ended = all(e.abandoned_at or e.closed_at for e in escalations)
        return ContactOutcome.ABANDONED if ended else ContactOutcome.IN_PROGRESS
    if escalated:  # handed over, yet no case found: nobody took it
        return ContactOutcome.ABANDONED if closed else ContactOutcome.IN_PROGRESS
    return ContactOutcome.CONTAINED if closed else ContactOutcome.IN_PROGRESS


def _ms(at: dt.datetime) -> int:
    return round(at.replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


SESSION_STARTS = "session_starts"  # transaction memos: conversation -> latest session start; contact key -> contact
CONTACTS = "contacts"
PREVIOUS = "previous"  # conversation -> its contact before the session that started in this transaction
NOT_KNOWN = object()
TURNS = cast(Table, m.TurnAnalytics.__table__)

# The feed asks these for nearly every event it applies: built once with parameters, as building the expression
# each time cost more than running it (a settled contact asks six of them).
_CONVERSATION: BindParameter[str] = bindparam("conversation")
_AT: BindParameter[dt.datetime] = bindparam("at")
SESSION_START = (
    select(m.TurnAnalytics.at)
    .where(m.TurnAnalytics.conversation_id == _CONVERSATION, m.TurnAnalytics.kind == "session")
    .where(m.TurnAnalytics.at <= _AT)
    .order_by(m.TurnAnalytics.at.desc())
    .limit(1)
)
CONTACT_BY_KEY = select(Contact).where(Contact.contact_key == bindparam("key"))
CONTACT_BEFORE = (
    select(Contact)
    .where(Contact.conversation_id == _CONVERSATION, Contact.started_at < _AT)
    .order_by(Contact.started_at.desc())
    .limit(1)
)
NEXT_CONTACT_START = (
    select(Contact.started_at)
    .where(Contact.conversation_id == _CONVERSATION, Contact.started_at > _AT)
    .order_by(Contact.started_at)
    .limit(1)
)
_CASES = select(m.Escalation).where(
    m.Escalation.conversation_id == _CONVERSATION, m.Escalation.created_at >= bindparam("since")
)
CASES = _CASES.order_by(m.Escalation.created_at)
CASES_UNTIL = _CASES.where(m.Escalation.created_at < bindparam("until")).order_by(m.Escalation.created_at)
CALLBACK = select(m.WorkOrder.details).where(
    m.WorkOrder.conversation_id == _CONVERSATION,
    m.WorkOrder.function_id == CALLBACK_FUNCTION,
    m.WorkOrder.created_at.between(bindparam("since"), bindparam("until")),
)
RATED = (
    select(m.Rating.score)
    .where(m.Rating.conversation_id == _CONVERSATION, m.Rating.score.is_not(None))
    .where(
        or_(
            m.Rating.case_id.in_(bindparam("cases", expanding=True)),
            and_(m.Rating.case_id.is_(None), m.Rating.asked_at.between(bindparam("since"), bindparam("until"))),
        )
    )
    .order_by(m.Rating.answered_at.desc())
    .limit(1)
)
SURVEYED = (  # the follow-up (回访) of an order this contact filed
    select(m.Survey.score)
    .join(m.WorkOrder, m.WorkOrder.id == m.Survey.order_id)
    .where(
        m.WorkOrder.conversation_id == _CONVERSATION,
        m.WorkOrder.created_at.between(bindparam("since"), bindparam("until")),
        m.Survey.score.is_not(None),
    )
    .order_by(m.Survey.answered_at.desc())
    .limit(1)
)


def session_start(s: Session, conversation_id: str, at: dt.datetime) -> dt.datetime | None:
    """When the conversation's session holding `at` started (its session_started event), None if not seen. Within
    one transaction the latest start found or written is remembered (the feed asks for every event it reads)."""
    known: dict[str, dt.datetime] = transaction_memo(s, SESSION_STARTS)
    start = known.get(conversation_id)
    if start is not None and start <= at:
        return start
    start = s.scalars(SESSION_START, {"conversation": conversation_id, "at": at}).first()
    if start is not None and conversation_id not in known:
        known[conversation_id] = start
    return start


def current_contact(s: Session, conversation_id: str, at: dt.datetime) -> Contact | None:
    start = session_start(s, conversation_id, at)
    if start is not None:
        key, known = f"{conversation_id}:{_ms(start)}", transaction_memo(s, CONTACTS)
        if key not in known:
            known[key] = s.scalars(CONTACT_BY_KEY, {"key": key}).first()
        found: Contact | None = known[key]
        return found
    return s.scalars(  # no session start seen (the feed began mid-session): the latest contact before `at`
        select(Contact)
        .where(Contact.conversation_id == conversation_id, Contact.started_at <= at)
        .order_by(Contact.started_at.desc())
        .limit(1)
    ).first()


def _contact_before(s: Session, conversation_id: str, at: dt.datetime) -> Contact | None:
    return s.scalars(CONTACT_BEFORE, {"conversation": conversation_id, "at": at}).first()


def _new_contact(s: Session, change: ContactChange) -> Contact:
    start = session_start(s, change.conversation_id, change.at) or change.at
    before = transaction_memo(s, PREVIOUS).pop(change.conversation_id, NOT_KNOWN)
    if before is NOT_KNOWN:  # what the previous session knew carries over, as Rasa carries its slots over
        before = _contact_before(s, change.conversation_id, change.at)
    c = Contact(
        contact_key=f"{change.conversation_id}:{_ms(start)}",
        conversation_id=change.conversation_id,
        channel=change.channel or (before.channel if before else "rest"),
        area_code=before.area_code if before else None,
        account_no=before.account_no if before else None,
        started_at=change.at,
        ended_at=change.at,
        outage_related=False,
        turns=0,
        fallbacks=0,
        escalated=False,
        outcome=ContactOutcome.IN_PROGRESS,
        first_text=mask(change.text[:400])[:200],
        told_outage=False,
    )
    s.add(c)
    transaction_memo(s, CONTACTS)[c.contact_key] = c
    return c


def _area_of_account(s: Session, account_no: str) -> str | None:
    c = s.get(m.Customer, account_no)
    return c.area_code if c else None


def _locate(s: Session, c: Contact, change: ContactChange) -> None:
    """The service area, strongest source first: a verified account, an account named, the caller's registered
    number (voice), an address said."""
    if change.account_no and (change.verified or c.account_no is None):
        area = _area_of_account(s, change.account_no)
        if area:
            c.account_no, c.area_code = change.account_no, area
    if change.caller and c.area_code is None:
        customer = s.scalars(select(m.Customer).where(m.Customer.phone == change.caller).limit(1)).first()
        if customer:
            c.area_code = customer.area_code
    if change.address and c.area_code is None:
        named = area_named_in(s, change.address)
        if named:
            c.area_code = named.code


def apply(s: Session, changes: EventChanges) -> bool:
    """Applies one event in the caller's transaction; False when its turn row was written before (a re-read).
    Judged at the event's own time, so a replay gives the same rows whenever it runs (`refresh` uses the clock)."""
    if changes.turn_row is not None:
        if not insert_new(s, TURNS, changes.turn_row):  # its event_key is there: read before
            return False
        if changes.turn_row["kind"] == "session":  # a newer session starts: remembered for the events after it
            known: dict[str, dt.datetime] = transaction_memo(s, SESSION_STARTS)
            conversation, at = changes.turn_row["conversation_id"], changes.turn_row["at"]
            if conversation not in known or known[conversation] <= at:
                known[conversation] = at
            transaction_memo(s, CONTACTS)[f"{conversation}:{_ms(at)}"] = None  # a session new here has no contact
    change = changes.contact
    if change is None:
        return True
    if change.kind == "session":  # the previous session is over
        before = _contact_before(s, change.conversation_id, change.at)
        transaction_memo(s, PREVIOUS)[change.conversation_id] = before  # the new session's contact carries it over
        if before is not None and before.outcome == ContactOutcome.IN_PROGRESS:
            settle(s, before, change.at, closed=True)
        return True
    c = current_contact(s, change.conversation_id, change.at)
    if c is None and change.kind == "turn":
        c = _new_contact(s, change)
    if c is None:  # before the session's first customer turn: nothing to count yet
        return True
    c.ended_at = max(c.ended_at or change.at, change.at)
    if change.kind == "turn":
        c.turns += 1
        c.fallbacks += change.fallback
    if change.function:
        c.function = main_function(c.function, change.function)
        c.outage_related = c.outage_related or change.function in OUTAGE_FUNCTIONS
    c.told_outage = c.told_outage or change.told_outage
    if change.escalated:
        c.escalated = True
        c.transfer_reason = c.transfer_reason or change.transfer_reason
    _locate(s, c, change)
    # decided again when the contact ends, is handed over, or the customer writes again after it was settled
    # (the bot's and the system's own messages after the end, e.g. the rating card, reopen nothing)
    reopened = change.kind == "turn" and c.outcome != ContactOutcome.IN_PROGRESS
    if change.ended or change.escalated or reopened:
        settle(s, c, change.at, closed=change.ended)
    return True


def next_contact_start(s: Session, c: Contact) -> dt.datetime | None:
    """When the same conversation's next contact began (None: this is its latest)."""
    return s.scalars(NEXT_CONTACT_START, {"conversation": c.conversation_id, "at": c.started_at}).first()


def _escalations(s: Session, c: Contact, later: dt.datetime | None) -> list[m.Escalation]:
    """The contact's cases: its conversation's, from its start until the next contact's (`later`)."""
    since = {"conversation": c.conversation_id, "since": c.started_at - SLACK}
    return list(s.scalars(CASES, since) if later is None else s.scalars(CASES_UNTIL, {**since, "until": later}))


def settle(s: Session, c: Contact, now: dt.datetime, closed: bool = False) -> None:
    """Outcome, wait and handling time from the contact's cases; closed also when idle long enough or when a
    later session of the conversation began."""
    later = next_contact_start(s, c)
    cases = _escalations(s, c, later)
    ended = c.ended_at or c.started_at
    closed = closed or later is not None or now - ended >= idle_limit(c.channel)
    callback = None if cases else _callback_reason(s, c)
    if cases:
        c.escalated = True
        c.transfer_reason = c.transfer_reason or cases[0].reason[:32]
    elif callback:  # asked for a person when none was free: a transfer, answered by a callback order
        c.escalated = True
        c.transfer_reason = c.transfer_reason or callback[:32]
    c.outcome = outcome_of(cases, c.escalated and not callback, closed)
    claimed = [(e.created_at, e.claimed_at, e.closed_at) for e in cases if e.claimed_at is not None]
    c.wait_seconds = (claimed[0][1] - claimed[0][0]).total_seconds() if claimed else None
    if c.outcome == ContactOutcome.AGENT:
        done = [(took, closed_at) for _, took, closed_at in claimed if took is not None and closed_at is not None]
        handled = len(done) == len(claimed)
        c.handle_seconds = sum((end - took).total_seconds() for took, end in done) if handled else None
    elif c.outcome != ContactOutcome.IN_PROGRESS:
        c.handle_seconds = (ended - c.started_at).total_seconds()
    if c.satisfaction is None:
        c.satisfaction = _rating(s, c, [e.id for e in cases])


def _callback_reason(s: Session, c: Contact) -> str | None:
    """The reason of a callback order (人工回复, filed when the customer asked for a person and none was free)
    of this contact, if one was filed."""
    ended = (c.ended_at or c.started_at) + SLACK
    details = s.scalars(
        CALLBACK, {"conversation": c.conversation_id, "since": c.started_at - SLACK, "until": ended}
    ).first()
    if details is None:
        return None
    return str((details or {}).get("reason") or "customer_request")


def _rating(s: Session, c: Contact, case_ids: list[int]) -> int | None:
    ended = c.ended_at or c.started_at
    rated = s.scalars(
        RATED,
        {"conversation": c.conversation_id, "cases": case_ids, "since": c.started_at, "until": ended + RATED_WITHIN},
    ).first()
    if rated is not None:
        return int(rated)
    surveyed = s.scalars(
        SURVEYED, {"conversation": c.conversation_id, "since": c.started_at, "until": ended + SLACK}
    ).first()
    return int(surveyed) if surveyed is not None else None


def _may_change(now: dt.datetime, since: dt.datetime) -> ColumnElement[bool]:
    """Whether `settle` could now decide an open contact differently from its last settling: it went idle, or one
    of its conversation's cases or callback orders changed since `since`. Settling depends on nothing else that
    happens outside the contact's own events (those settle it in `apply`; ratings are read apart in `refresh`)."""
    voice = Contact.channel == Channel.VOICE
    return or_(
        Contact.ended_at.is_(None),
        and_(voice, Contact.ended_at <= now - idle_limit(Channel.VOICE)),
        and_(or_(~voice, Contact.channel.is_(None)), Contact.ended_at <= now - idle_limit()),
        Contact.conversation_id.in_(select(m.Escalation.conversation_id).where(m.Escalation.updated_at > since)),
        Contact.conversation_id.in_(
            select(m.WorkOrder.conversation_id).where(
                m.WorkOrder.function_id == CALLBACK_FUNCTION, m.WorkOrder.created_at > since
            )
        ),
    )


REFRESH_STEP = 10  # contacts settled per write transaction (see refresh)


def _still_open() -> ColumnElement[bool]:
    return or_(
        Contact.outcome == ContactOutcome.IN_PROGRESS,
        and_(Contact.outcome == ContactOutcome.AGENT, Contact.handle_seconds.is_(None)),
    )


def _rated_since(s: Session, since: dt.datetime) -> set[str]:
    rated = set(s.scalars(select(m.Rating.conversation_id).where(m.Rating.answered_at > since)))
    return rated | {
        str(conversation)
        for conversation in s.scalars(
            select(m.WorkOrder.conversation_id)
            .join(m.Survey, m.Survey.order_id == m.WorkOrder.id)
            .where(m.Survey.answered_at > since, m.WorkOrder.conversation_id.is_not(None))
        )
    }


def refresh(sessions: sessionmaker[Session], now: dt.datetime, step: int = REFRESH_STEP) -> int:
    """Settles the contacts still open (or handled by an agent who has not closed yet) that went idle or whose cases
    changed since the last refresh, and the contacts rated since then; the number of contacts looked at. Open
    contacts pile up under load, and settling each asks six questions: only those that may change are asked.

    What to settle is read without a lock; the contacts are then settled `step` at a time, each step a short write
    transaction, and the mark moves last. On SQLite one transaction over a burst's 50 changed cases held the write
    lock through all of it, and a live write (the case opened on 转人工) waited behind this low-priority process.
    A step that fails leaves the mark where it was: the next refresh settles those contacts again."""
    with sessions() as s:
        mark = s.get(FeedPosition, REFRESHED)
        since = mark.updated_at if mark is not None else now - REFRESH_HORIZON  # the first: the whole horizon
        due = list(
            s.scalars(
                select(Contact.id).where(
                    Contact.started_at >= now - REFRESH_HORIZON, _still_open(), _may_change(now, since)
                )
            )
        )
        rated = _rated_since(s, since)
    for first in range(0, len(due), step):
        with sessions.begin() as s:
            write_lock(s)
            for c in s.scalars(select(Contact).where(Contact.id.in_(due[first : first + step]), _still_open())):
                settle(s, c, now)
    looked = len(due)
    with sessions.begin() as s:
        write_lock(s)
        for conversation in rated:
            for c in s.scalars(
                select(Contact).where(Contact.conversation_id == conversation, Contact.satisfaction.is_(None))
            ):
                c.satisfaction = _rating(s, c, [e.id for e in _escalations(s, c, next_contact_start(s, c))])
                looked += 1
        mark = s.get(FeedPosition, REFRESHED)
        if mark is None:
            mark = FeedPosition(source=REFRESHED, last_id=0, updated_at=now)
            s.add(mark)
        mark.updated_at = now - SLACK  # a rating committed just after this read is read next time
    return looked
