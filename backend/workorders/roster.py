"""Who is in a grid team, who is on duty and how loaded, as the supervisor's console shows them (read only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.workorders.dispatch import loads, on_duty, team_of
from backend.workorders.grid import ROLE_NAMES


@dataclass(frozen=True)
class Member:
    id: int
    team_id: int
    name: str
    role: str
    role_name: str
    leader: bool
    on_duty: bool
    load: int  # orders dispatched to them and not yet resolved


def _member(p: m.TeamMember, now: dt.datetime, load: dict[int, int]) -> Member:
    return Member(
        p.id, p.team_id, p.display_name, p.role, ROLE_NAMES.get(p.role, p.role), p.leader, on_duty(p, now),
        load.get(p.id, 0),
    )  # fmt: skip


def team_roster(
    sessions: sessionmaker[Session], team_id: int, now: dt.datetime | None = None
) -> tuple[str, list[Member]] | None:
    """(team name, its active members: on duty first, then the least loaded); None for an unknown team."""
    now = now or m.utcnow()
    with sessions() as s:
        team = s.get(m.GridTeam, team_id)
        if team is None:
            return None
        load = loads(s, team_id)
        members = s.scalars(select(m.TeamMember).where(m.TeamMember.team_id == team_id, m.TeamMember.active.is_(True)))
        roster = [_member(p, now, load) for p in members]
        return team.name, sorted(roster, key=lambda p: (not p.on_duty, p.load, p.id))


def active_member(sessions: sessionmaker[Session], member_id: int) -> Member | None:
    with sessions() as s:
        p = s.get(m.TeamMember, member_id)
        if p is None or not p.active:
            return None
        return _member(p, m.utcnow(), loads(s, p.team_id))


def area_team(sessions: sessionmaker[Session], area_code: str | None) -> int | None:
    """The grid team that owns an area (where an order not yet dispatched belongs)."""
    with sessions() as s:
        team = team_of(s, area_code)
        return team.id if team else None


def team_names(sessions: sessionmaker[Session]) -> dict[int, str]:
    with sessions() as s:
        return dict(s.execute(select(m.GridTeam.id, m.GridTeam.name)).tuples().all())


def member_names(sessions: sessionmaker[Session], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with sessions() as s:
        rows = s.execute(select(m.TeamMember.id, m.TeamMember.display_name).where(m.TeamMember.id.in_(ids)))
        return dict(rows.tuples().all())
