"""Field-app logins: a member's user name (g<id>) and password (hashed like the console's), server-side
sessions of which only a hash of the cookie is stored, each with its own CSRF token."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre.agents import check_password, hash_password

USERNAME = re.compile(r"g\d{3,6}")
ROLE_NAMES = {"district_manager": "台区经理", "repair": "抢修班", "business": "营业"}


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    name: str
    team_id: int
    team: str
    role: str
    leader: bool

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "team": self.team,
            "role": ROLE_NAMES.get(self.role, self.role),
            "leader": self.leader,
        }


def member_of(s: Session, row: m.TeamMember) -> Member:
    team = s.get(m.GridTeam, row.team_id)
    return Member(row.id, row.username, row.display_name, row.team_id, team.name if team else "", row.role, row.leader)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _equaliser() -> str:
    """A hash to check a password against when there is no account: a wrong name takes as long as a wrong password."""
    return hash_password(secrets.token_hex(8))


class FieldLogins:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def authenticate(self, username: str, password: str) -> Member | None:
        with self._sessions() as s:
            row = (
                s.scalars(select(m.TeamMember).where(m.TeamMember.username == username)).first()
                if USERNAME.fullmatch(username)
                else None
            )
            usable = row is not None and row.active and bool(row.password_hash)
            ok = check_password(password, row.password_hash if row is not None and usable else _equaliser())
            return member_of(s, row) if row is not None and usable and ok else None

    def new_login(self, member_id: int, ttl: dt.timedelta) -> tuple[str, str]:
        """A fresh session and CSRF token (new at every login); the member's expired sessions are cleared."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = m.utcnow()
        with self._sessions.begin() as s:
            s.execute(
                delete(m.FieldSession).where(m.FieldSession.member_id == member_id, m.FieldSession.expires_at < now)
            )
            s.add(m.FieldSession(token_hash=token_hash(token), member_id=member_id, csrf=csrf, expires_at=now + ttl))
        return token, csrf

    def session(self, token: str) -> tuple[Member, str] | None:
        """The member and CSRF token of a live session (None: unknown, expired, or the member was deactivated)."""
        if not token or len(token) > 128:
            return None
        with self._sessions() as s:
            row = s.get(m.FieldSession, token_hash(token))
            if row is None or row.expires_at < m.utcnow():
                return None
            member = s.get(m.TeamMember, row.member_id)
            return (member_of(s, member), row.csrf) if member is not None and member.active else None

    def logout(self, token: str) -> None:
        if not token:
            return
        with self._sessions.begin() as s:
            s.execute(delete(m.FieldSession).where(m.FieldSession.token_hash == token_hash(token)))
