"""Demo field-app logins for a development database (the set-up makes them; production never has them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre.agents import hash_password

DEMO_FIELD_TEAMS = (1, 5)  # 城东区一网格 (g101-g106) and 城西区一网格 (g501-g506)


def ensure_demo_field_logins(sessions: sessionmaker[Session], password: str) -> list[str]:
    """Gives the members of the demo teams the demo password where they have none; the user names set."""
    with sessions.begin() as s:
        members = list(
            s.scalars(
                select(m.TeamMember)
                .where(m.TeamMember.team_id.in_(DEMO_FIELD_TEAMS), m.TeamMember.password_hash == "")
                .order_by(m.TeamMember.id)
            )
        )
        for member in members:
            member.password_hash = hash_password(password)
        return [member.username for member in members]
