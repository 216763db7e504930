"""Automatic routing: each waiting case (kinds.QUEUE_ORDER: urgent, then sensitive customers, then the rest; oldest
first within each) is offered to one agent at a time.

The agent chosen is 示闲, online, not a supervisor, has the case's skill group, has a free place (claimed cases
below max_cases), holds no other offer, and has not declined or let this case lapse. Policy LONGEST_IDLE picks
the one free the longest (idle_since: when they chose 示闲 or last took a case); FIRST_FREE, the baseline the
handoff benchmark compares against, picks the first by user name. An offer lasts `offer_for`; one that lapses
goes on the case's declined_by list and the next agent gets it; an agent who lets two offers in a row lapse is
set to 示忙（未接来单）, as ACDs do. A case every free skilled agent has passed on is offered round again a
minute after its last offer (a supervisor may assign it at any time).

Every change is one guarded UPDATE (compare and set), so two agents accepting one offer, or two console
processes routing at once, never both win; the loser learns why (`OfferGone.message`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from backend import models as m
from backend.contact_centre.agents import ONLINE_WINDOW
from backend.contact_centre.cases import Conflict, EscalationInfo, case_info, queue_order
from backend.contact_centre.kinds import AgentRole, AgentStatus, CaseStatus, NoteKind
from backend.contact_centre.presence import MISSED_OFFERS, PresenceStore
from backend.contact_centre.skills import skill_groups
from backend.db import write_lock

DEFAULT_OFFER_SECONDS = 20.0
LAPSES_BEFORE_BUSY = 2
NEXT_ROUND = dt.timedelta(seconds=60)  # a case all free skilled agents passed on is offered to them again after
TAKEN = "这个会话已被其他同事接起"
ENDED = "客户已经离开，这个会话已结束"
MOVED_ON = "这次来单已经超时，已转给其他同事"


class Policy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    FIRST_FREE = "first_free"


class Outcome(StrEnum):
    """What became of one offer (CaseNote kind=offer, detail.outcome)."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LAPSED = "lapsed"
    ASSIGNED = "assigned"  # a supervisor gave the case to a named agent


class OfferGone(Conflict):
    """The offer is no longer this agent's to accept or decline; `message` says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Offer:
    case_id: int
    agent_id: int
    offered_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class RoutingRound:
    offers: list[Offer]
    lapsed: list[tuple[int, int]]  # (case, agent)
    missed: list[int]  # agents set 示忙（未接来单）
    offline: list[int]  # agents gone 离线 (no heartbeat)


@dataclass(frozen=True)
class _Free:
    id: int
    skills: tuple[str, ...]


def _claimed_by(agent_id: int) -> ColumnElement[int]:
    mine = aliased(m.Escalation)  # not the row being updated
    return (
        select(func.count(mine.id))
        .where(mine.agent_id == agent_id, mine.status == CaseStatus.CLAIMED)
        .scalar_subquery()
    )


def _free_agents(s: Session, now: dt.datetime, policy: Policy) -> list[_Free]:
    """示闲 online agents with a free place and no offer in hand, in the order the policy offers to them."""
    rows = s.execute(_free_agents_query(policy), {"online_since": now - ONLINE_WINDOW}).tuples()
    return [_Free(i, tuple(skills or ())) for i, skills in rows]


@functools.cache
def _free_agents_query(policy: Policy) -> Select[tuple[int, list[str]]]:
    """Built once: the routing round runs twice a second in every console, and building this statement (its
    aliases and correlated subqueries) cost more CPU than running it."""
    other = aliased(m.Escalation)
    q = select(m.Agent.id, m.Agent.skills).where(
        m.Agent.role == AgentRole.AGENT,
        m.Agent.status == AgentStatus.AVAILABLE,
        m.Agent.last_seen > bindparam("online_since"),
        _claimed_by_agent_column() < m.Agent.max_cases,
        ~exists().where(other.offered_to == m.Agent.id, other.status == CaseStatus.WAITING),
    )
    if policy == Policy.LONGEST_IDLE:
        return q.order_by(m.Agent.idle_since.asc().nulls_first(), m.Agent.username)
    return q.order_by(m.Agent.username)


def _claimed_by_agent_column() -> ColumnElement[int]:
    mine = aliased(m.Escalation)
    return (
        select(func.count(mine.id))
        .where(mine.agent_id == m.Agent.id, mine.status == CaseStatus.CLAIMED)
        .correlate(m.Agent)
        .scalar_subquery()
    )


def _note(s: Session, case_id: int, agent_id: int | None, outcome: Outcome, text: str) -> None:
    s.add(m.CaseNote(case_id=case_id, agent_id=agent_id, kind=NoteKind.OFFER, text=text, detail={"outcome": outcome}))


def _name(s: Session, agent_id: int) -> str:
    return s.scalar(select(m.Agent.display_name).where(m.Agent.id == agent_id)) or "坐席"


class RoutingStore(PresenceStore):
    """Offers, accepts, declines, lapses and a supervisor's assignment (a mixin of ContactStore)."""

    # ---- the router ----
    def route(
        self, offer_for: dt.timedelta = dt.timedelta(seconds=DEFAULT_OFFER_SECONDS), policy: str = Policy.LONGEST_IDLE
    ) -> RoutingRound:
        """One round: lapse expired offers, send agents gone quiet 离线, offer waiting cases to free agents."""
        offline = self.expire_presence()
        lapsed, missed = self._lapse_offers()
        offers = self._make_offers(offer_for, Policy(policy))
        return RoutingRound(offers, lapsed, missed, offline)

    def _lapse_offers(self) -> tuple[list[tuple[int, int]], list[int]]:
        now = m.utcnow()
        with self._sessions() as s:
            expired = s.execute(
                select(m.Escalation.id, m.Escalation.offered_to).where(
                    m.Escalation.status == CaseStatus.WAITING,
                    m.Escalation.offered_to.is_not(None),
                    m.Escalation.offer_expires_at < now,
                )
            ).tuples()
            expired_offers = [(case_id, agent_id) for case_id, agent_id in expired if agent_id is not None]
        lapsed, missed = [], []
        for case_id, agent_id in expired_offers:
            with self._sessions.begin() as s:
                write_lock(s)
                row = s.get(m.Escalation, case_id)
                if row is None:
                    continue
                declined = [*(row.declined_by or []), agent_id] if agent_id not in (row.declined_by or []) else None
                done = s.execute(
                    update(m.Escalation)
                    .where(
                        m.Escalation.id == case_id,
                        m.Escalation.status == CaseStatus.WAITING,
                        m.Escalation.offered_to == agent_id,
                        m.Escalation.offer_expires_at < now,
                    )
                    .values(
                        offered_to=None,
                        offer_expires_at=None,
                        updated_at=m.Escalation.updated_at,
                        **({"declined_by": declined} if declined is not None else {}),
                    )
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]  # accepted or withdrawn meanwhile
                    continue
                _note(s, case_id, agent_id, Outcome.LAPSED, f"{_name(s, agent_id)}未接，超时转下一位")
                lapsed.append((case_id, agent_id))
                if self._lapses_in_a_row(s, agent_id) >= LAPSES_BEFORE_BUSY:
                    went_busy = s.execute(
                        update(m.Agent)
                        .where(m.Agent.id == agent_id, m.Agent.status == AgentStatus.AVAILABLE)
                        .values(status=AgentStatus.BUSY, status_reason=MISSED_OFFERS, status_since=m.utcnow())
                    )
                    if went_busy.rowcount == 1:  # type: ignore[attr-defined]
                        missed.append(agent_id)
        return lapsed, missed

    @staticmethod
    def _lapses_in_a_row(s: Session, agent_id: int) -> int:
        notes = s.scalars(
            select(m.CaseNote.detail)
            .where(m.CaseNote.agent_id == agent_id, m.CaseNote.kind == NoteKind.OFFER)
            .order_by(m.CaseNote.id.desc())
            .limit(10)
        )
        n = 0
        for detail in notes:
            outcome = (detail or {}).get("outcome")
            if outcome == Outcome.OFFERED:
                continue
            if outcome != Outcome.LAPSED:
                break
            n += 1
        return n

    def _make_offers(self, offer_for: dt.timedelta, policy: Policy) -> list[Offer]:
        now = m.utcnow()
        with self._sessions() as s:
            free = _free_agents(s, now, policy)
            if not free:
                return []
            waiting = s.execute(
                select(m.Escalation.id, m.Escalation.skill, m.Escalation.declined_by)
                .where(m.Escalation.status == CaseStatus.WAITING, m.Escalation.offered_to.is_(None))
                .order_by(*queue_order())
            ).tuples()
            cases = [(i, skill, tuple(declined or ())) for i, skill, declined in waiting]
        groups, offers, passed = skill_groups(), [], []
        for case_id, skill, declined in cases:
            qualified = [a for a in free if groups.qualified(a.skills, skill)]
            if qualified and all(a.id in declined for a in qualified):
                passed.append(case_id)
            for agent in qualified:
                if agent.id in declined:
                    continue
                offer = self._offer(case_id, agent.id, offer_for)
                if offer is not None:
                    offers.append(offer)
                free.remove(agent)  # one offer in hand at a time (taken by another router if not ours)
                break
            if not free:
                break
        self._next_round(passed, now)
        return offers

    def _next_round(self, case_ids: list[int], now: dt.datetime) -> None:
        """Cases every free skilled agent has passed on start a new round once NEXT_ROUND has gone by since
        their last offer: a case must not wait for ever because everyone on duty once declined it."""
        if not case_ids:
            return
        with self._sessions.begin() as s:
            last = s.execute(
                select(m.CaseNote.case_id, func.max(m.CaseNote.at))
                .where(m.CaseNote.case_id.in_(case_ids), m.CaseNote.kind == NoteKind.OFFER)
                .group_by(m.CaseNote.case_id)
            ).tuples()
            due = [case_id for case_id, at in last.all() if at is not None and at < now - NEXT_ROUND]
            if due:
                s.execute(
                    update(m.Escalation)
                    .where(
                        m.Escalation.id.in_(due),
                        m.Escalation.status == CaseStatus.WAITING,
                        m.Escalation.offered_to.is_(None),
                    )
                    .values(declined_by=[], updated_at=m.Escalation.updated_at)
                )

    def _offer(self, case_id: int, agent_id: int, offer_for: dt.timedelta) -> Offer | None:
        """Offers the case if it is still waiting unoffered and the agent still free (guarded)."""
        other = aliased(m.Escalation)
        now = m.utcnow()
        with self._sessions.begin() as s:
            write_lock(s)
            # PostgreSQL: the agent's row lock puts two routers offering to one agent in line; the second sees
            # the first's offer in its NOT EXISTS below
            s.execute(select(m.Agent.id).where(m.Agent.id == agent_id).with_for_update())
            done = s.execute(
                update(m.Escalation)
                .where(
                    m.Escalation.id == case_id,
                    m.Escalation.status == CaseStatus.WAITING,
                    m.Escalation.offered_to.is_(None),
                    ~exists().where(other.offered_to == agent_id, other.status == CaseStatus.WAITING),
                    exists().where(
                        m.Agent.id == agent_id,
                        m.Agent.status == AgentStatus.AVAILABLE,
                        _claimed_by(agent_id) < m.Agent.max_cases,
                    ),
                )
                .values(offered_to=agent_id, offer_expires_at=now + offer_for, updated_at=m.Escalation.updated_at)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                return None
            _note(s, case_id, agent_id, Outcome.OFFERED, f"推送给{_name(s, agent_id)}")
            return Offer(case_id, agent_id, now, now + offer_for)

    # ---- the agent's answer ----
    def _gone(self, case_id: int, agent_id: int) -> OfferGone:
        with self._sessions() as s:
            row = s.get(m.Escalation, case_id)
            if row is None or row.status in (CaseStatus.RETURNED, CaseStatus.CLOSED):
                return OfferGone(ENDED)
            if row.status == CaseStatus.CLAIMED:
                return OfferGone("这个会话您已经接起了" if row.agent_id == agent_id else TAKEN)
            return OfferGone(MOVED_ON)

    def accept_offer(self, case_id: int, agent_id: int) -> EscalationInfo:
        """The offered agent takes the case (OfferGone if it lapsed, was taken or ended)."""
        with self._sessions.begin() as s:
            row = _hand_over(s, case_id, agent_id, m.Escalation.offered_to == agent_id)
            if row is not None:
                _note(s, case_id, agent_id, Outcome.ACCEPTED, f"{_name(s, agent_id)}接起")
                return case_info(row)
        raise self._gone(case_id, agent_id)

    def decline_offer(self, case_id: int, agent_id: int) -> None:
        """The offered agent passes; the router offers the case to the next agent."""
        with self._sessions.begin() as s:
            write_lock(s)
            row = s.get(m.Escalation, case_id)
            declined = list((row.declined_by if row else None) or [])
            done = s.execute(
                update(m.Escalation)
                .where(
                    m.Escalation.id == case_id,
                    m.Escalation.status == CaseStatus.WAITING,
                    m.Escalation.offered_to == agent_id,
                )
                .values(
                    offered_to=None,
                    offer_expires_at=None,
                    declined_by=declined if agent_id in declined else [*declined, agent_id],
                    updated_at=m.Escalation.updated_at,
                )
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                _note(s, case_id, agent_id, Outcome.DECLINED, f"{_name(s, agent_id)}拒绝，转下一位")
                return
        raise self._gone(case_id, agent_id)

    def offer_of(self, agent_id: int) -> EscalationInfo | None:
        """The case offered to this agent now, if any (a page opened mid-offer shows it again)."""
        with self._sessions() as s:
            row = s.scalars(
                select(m.Escalation).where(
                    m.Escalation.offered_to == agent_id,
                    m.Escalation.status == CaseStatus.WAITING,
                    m.Escalation.offer_expires_at > m.utcnow(),
                )
            ).first()
            return case_info(row) if row else None

    def assign(self, case_id: int, agent_id: int, by: int) -> EscalationInfo:
        """A supervisor gives a waiting case to a named agent (it is theirs at once, any offer withdrawn)."""
        with self._sessions.begin() as s:
            row = _hand_over(s, case_id, agent_id)
            if row is not None:
                _note(s, case_id, by, Outcome.ASSIGNED, f"班长指派给{_name(s, agent_id)}")
                return case_info(row)
        raise self._gone(case_id, by)


def _hand_over(s: Session, case_id: int, agent_id: int, *only_if: Any) -> m.Escalation | None:
    """The guarded change of a waiting case to claimed by `agent_id` (and `only_if`): None when another change
    came first. Any offer is withdrawn and the agent's idle time starts again."""
    now = m.utcnow()
    done = s.execute(
        update(m.Escalation)
        .where(m.Escalation.id == case_id, m.Escalation.status == CaseStatus.WAITING, *only_if)
        .values(
            status=CaseStatus.CLAIMED,
            agent_id=agent_id,
            claimed_at=now,
            offered_to=None,
            offer_expires_at=None,
            updated_at=now,
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
        return None
    s.execute(update(m.Agent).where(m.Agent.id == agent_id).values(idle_since=now))
    return s.get(m.Escalation, case_id)
