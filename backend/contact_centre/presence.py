"""Agents' presence (示闲 / 示忙 / 小休 / 离线, with a reason) and their skills and capacity.

Only 示闲 (available) agents whose console is open are offered cases (backend.contact_centre.routing). An agent
opening the console after being offline starts 示忙 (not ready) and chooses 示闲 when ready, as on an ACD
desk; logging out, or the last console tab closing for longer than a page change takes, makes them 离线.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre.agents import ONLINE_WINDOW
from backend.contact_centre.kinds import AGENT_STATUS_LABELS, AgentRole, AgentStatus, CaseStatus
from backend.contact_centre.skills import skill_groups

LEAVE_GRACE = dt.timedelta(seconds=10)  # a page change closes one socket and opens the next within this
MISSED_OFFERS = "未接来单"  # the reason the router gives when an agent lets offers lapse
REASONS: dict[str, tuple[str, ...]] = {
    AgentStatus.BUSY: ("话后处理", "会议", "培训", MISSED_OFFERS),
    AgentStatus.BREAK: ("用餐", "休息"),
}
CHOSEN = (AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.BREAK)  # what the header's selector offers


class InvalidStatus(ValueError):
    """A status or reason the selector does not offer; `message` is the Chinese explanation."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Presence:
    agent_id: int
    username: str
    display_name: str
    role: str
    status: str
    reason: str
    since: dt.datetime
    idle_since: dt.datetime | None
    online: bool
    skills: tuple[str, ...]
    max_cases: int
    claimed: int  # cases this agent works on now

    @property
    def label(self) -> str:
        """示忙（会议）, 示闲 …"""
        base = AGENT_STATUS_LABELS.get(self.status, self.status)
        return f"{base}（{self.reason}）" if self.reason else base

    @property
    def skill_names(self) -> list[str]:
        groups = skill_groups()
        return [groups.name(s) for s in self.skills] if self.skills else ["全部业务"]

    def as_json(self) -> dict[str, object]:
        return {
            "agent": self.username,
            "name": self.display_name,
            "supervisor": self.role == AgentRole.SUPERVISOR,
            "status": self.status,
            "reason": self.reason,
            "label": self.label,
            "since": self.since.isoformat(),
            "seconds": max(0, int((m.utcnow() - self.since).total_seconds())),
            "online": self.online,
            "skills": list(self.skills),
            "skill_names": self.skill_names,
            "max_cases": self.max_cases,
            "claimed": self.claimed,
        }


def choices() -> list[dict[str, str]]:
    """The selector's options: 示闲, then each 示忙/小休 reason (value "busy:会议")."""
    out = [{"value": AgentStatus.AVAILABLE.value, "label": AGENT_STATUS_LABELS[AgentStatus.AVAILABLE]}]
    for status in (AgentStatus.BUSY, AgentStatus.BREAK):
        for reason in REASONS[status]:
            if reason != MISSED_OFFERS:
                out.append({"value": f"{status.value}:{reason}", "label": f"{AGENT_STATUS_LABELS[status]}·{reason}"})
    return out


def checked(status: str, reason: str) -> tuple[AgentStatus, str]:
    """The status and reason an agent chose, or InvalidStatus with what to do instead."""
    try:
        chosen = AgentStatus(status)
    except ValueError:
        raise InvalidStatus("请从列表中选择状态：示闲、示忙或小休。") from None
    if chosen not in CHOSEN:
        raise InvalidStatus("离线不用选：退出登录或关闭工作台就是离线。")
    reason = (reason or "").strip()
    if chosen == AgentStatus.AVAILABLE:
        return chosen, ""
    if reason not in REASONS[chosen]:
        allowed = "、".join(r for r in REASONS[chosen] if r != MISSED_OFFERS)
        raise InvalidStatus(f"请选择{AGENT_STATUS_LABELS[chosen]}的原因：{allowed}。")
    return chosen, reason


def _presences(s: Session, agent_ids: Iterable[int] | None = None) -> list[Presence]:
    now = m.utcnow()
    load: dict[int | None, int] = dict(
        s.execute(
            select(m.Escalation.agent_id, func.count(m.Escalation.id))
            .where(m.Escalation.status == CaseStatus.CLAIMED)
            .group_by(m.Escalation.agent_id)
        )
        .tuples()
        .all()
    )
    q = select(m.Agent).order_by(m.Agent.username)
    if agent_ids is not None:
        q = q.where(m.Agent.id.in_(list(agent_ids)))
    return [
        Presence(
            a.id,
            a.username,
            a.display_name,
            a.role,
            a.status,
            a.status_reason,
            a.status_since,
            a.idle_since,
            a.last_seen is not None and a.last_seen > now - ONLINE_WINDOW,
            tuple(a.skills or ()),
            a.max_cases,
            int(load.get(a.id, 0)),
        )
        for a in s.scalars(q)
    ]


def _status_values(status: AgentStatus, reason: str, now: dt.datetime) -> dict[str, object]:
    return {"status": status, "status_reason": reason, "status_since": now}


def _withdraw_offers(s: Session, agent_id: int) -> None:
    """An agent leaving 示闲 no longer holds an offer: the case goes to the next agent at once."""
    s.execute(
        update(m.Escalation)
        .where(m.Escalation.offered_to == agent_id, m.Escalation.status == CaseStatus.WAITING)
        .values(offered_to=None, offer_expires_at=None, updated_at=m.Escalation.updated_at)
    )


class PresenceStore:
    """Presence, skills and capacity of agents (a mixin of ContactStore; needs only the session factory)."""

    _sessions: sessionmaker[Session]

    def presence(self, agent_id: int) -> Presence | None:
        with self._sessions() as s:
            found = _presences(s, [agent_id])
            return found[0] if found else None

    def presences(self) -> list[Presence]:
        """Every agent and supervisor, by user name (the supervisor view reads this)."""
        with self._sessions() as s:
            return _presences(s)

    def agent_names(self) -> dict[int, str]:
        with self._sessions() as s:
            return dict(s.execute(select(m.Agent.id, m.Agent.display_name)).tuples().all())

    def set_status(self, agent_id: int, status: str, reason: str = "") -> Presence:
        """The agent's own choice from the header (InvalidStatus with a Chinese message if not offered)."""
        chosen, reason = checked(status, reason)
        now = m.utcnow()
        with self._sessions.begin() as s:
            a = s.get(m.Agent, agent_id)
            if a is None:
                raise InvalidStatus("没有这个坐席。")
            if (a.status, a.status_reason) != (chosen, reason):
                values = _status_values(chosen, reason, now)
                if chosen == AgentStatus.AVAILABLE and a.status != AgentStatus.AVAILABLE:
                    values["idle_since"] = now  # free from now: the longest idle is offered first
                s.execute(update(m.Agent).where(m.Agent.id == agent_id).values(**values))
            if chosen != AgentStatus.AVAILABLE:
                _withdraw_offers(s, agent_id)
        found = self.presence(agent_id)
        assert found is not None
        return found

    def console_opened(self, agent_id: int) -> Presence | None:
        """A console socket opened: the agent is online; back from 离线 they start 示忙 until they choose 示闲."""
        now = m.utcnow()
        with self._sessions.begin() as s:
            s.execute(update(m.Agent).where(m.Agent.id == agent_id).values(last_seen=now))
            s.execute(
                update(m.Agent)
                .where(m.Agent.id == agent_id, m.Agent.status == AgentStatus.OFFLINE)
                .values(**_status_values(AgentStatus.BUSY, "", now))
            )
        return self.presence(agent_id)

    def console_left(self, agent_id: int) -> None:
        """The agent's last console socket closed: online for LEAVE_GRACE more (a page change), then 离线."""
        with self._sessions.begin() as s:
            s.execute(
                update(m.Agent)
                .where(m.Agent.id == agent_id, m.Agent.last_seen.is_not(None))
                .values(last_seen=m.utcnow() - ONLINE_WINDOW + LEAVE_GRACE)
            )

    def go_offline(self, agent_id: int) -> None:
        """Logging out: 离线 at once, and any offer goes to the next agent."""
        with self._sessions.begin() as s:
            s.execute(
                update(m.Agent)
                .where(m.Agent.id == agent_id)
                .values(last_seen=None, **_status_values(AgentStatus.OFFLINE, "", m.utcnow()))
            )
            _withdraw_offers(s, agent_id)

    def expire_presence(self) -> list[int]:
        """Agents not seen within the heartbeat window become 离线 (their offers are withdrawn); their ids."""
        now = m.utcnow()
        gone = (m.Agent.last_seen.is_(None)) | (m.Agent.last_seen <= now - ONLINE_WINDOW)
        with self._sessions.begin() as s:
            ids = list(
                s.scalars(select(m.Agent.id).where(m.Agent.status != AgentStatus.OFFLINE, gone).order_by(m.Agent.id))
            )
            if not ids:
                return []
            s.execute(
                update(m.Agent)
                .where(m.Agent.id.in_(ids), m.Agent.status != AgentStatus.OFFLINE, gone)
                .values(**_status_values(AgentStatus.OFFLINE, "", now))
            )
            for agent_id in ids:
                _withdraw_offers(s, agent_id)
            return ids

    def set_skills(self, agent_id: int, skills: Iterable[str], max_cases: int | None = None) -> Presence:
        """The skill groups an agent takes ([] = any) and how many chats at once (1-10)."""
        values: dict[str, object] = {"skills": skill_groups().clean(skills)}
        if max_cases is not None:
            if not 1 <= max_cases <= 10:
                raise InvalidStatus("同时接待的会话数应在1到10之间。")
            values["max_cases"] = max_cases
        with self._sessions.begin() as s:
            s.execute(update(m.Agent).where(m.Agent.id == agent_id).values(**values))
        found = self.presence(agent_id)
        if found is None:
            raise InvalidStatus("没有这个坐席。")
        return found
