"""Agents: their logins (hashed passwords, server-side sessions) and their presence on the console."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre.kinds import AgentRole

ONLINE_WINDOW = dt.timedelta(seconds=60)  # the console heartbeats every 20 s


@dataclass(frozen=True)
class AgentInfo:
    id: int
    username: str
    display_name: str
    role: str

    @property
    def supervisor(self) -> bool:
        return self.role == AgentRole.SUPERVISOR


def agent_info(a: m.Agent) -> AgentInfo:
    return AgentInfo(a.id, a.username, a.display_name, a.role)


def hash_password(password: str, *, n: int = 2**14) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
    return f"scrypt${n}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=8, p=1, dklen=32)
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(got.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def online_agents(s: Session) -> list[AgentInfo]:
    """Agents with a console open; supervisors watch the desk and are not counted (routing, transfer, stats)."""
    q = (
        select(m.Agent)
        .where(m.Agent.last_seen > m.utcnow() - ONLINE_WINDOW, m.Agent.role == AgentRole.AGENT)
        .order_by(m.Agent.username)
    )
    return [agent_info(a) for a in s.scalars(q)]


class AgentStore:
    """Agent accounts, console logins and presence."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory (the identity store and the CIS share the same database)."""
        return self._sessions

    def add_agent(self, username: str, display_name: str, password: str, role: str = AgentRole.AGENT) -> AgentInfo:
        with self._sessions.begin() as s:
            a = m.Agent(
                username=username,
                display_name=display_name,
                role=AgentRole(role),
                password_hash=hash_password(password),
            )
            s.add(a)
            s.flush()
            return agent_info(a)

    def agent_count(self) -> int:
        with self._sessions() as s:
            return s.scalar(select(func.count(m.Agent.id))) or 0

    def authenticate(self, username: str, password: str) -> AgentInfo | None:
        with self._sessions() as s:
            a = s.scalars(select(m.Agent).where(m.Agent.username == username)).first()
            stored = a.password_hash if a else hash_password("timing-equaliser", n=2**14)
            ok = check_password(password, stored)
            return agent_info(a) if a and ok else None

    def agent(self, agent_id: int) -> AgentInfo | None:
        with self._sessions() as s:
            a = s.get(m.Agent, agent_id)
            return agent_info(a) if a else None

    def agent_by_username(self, username: str) -> AgentInfo | None:
        with self._sessions() as s:
            a = s.scalars(select(m.Agent).where(m.Agent.username == username)).first()
            return agent_info(a) if a else None

    def new_login(self, agent_id: int, ttl: dt.timedelta) -> tuple[str, str]:
        """A fresh session token and CSRF token (a new pair at every login: no session fixation)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._sessions.begin() as s:
            s.add(
                m.AgentSession(token_hash=_token_hash(token), agent_id=agent_id, csrf=csrf, expires_at=m.utcnow() + ttl)
            )
        return token, csrf

    def login(self, token: str) -> tuple[AgentInfo, str] | None:
        """The agent and CSRF token of a live session, or None (unknown or expired)."""
        if not token:
            return None
        with self._sessions() as s:
            row = s.get(m.AgentSession, _token_hash(token))
            if row is None or row.expires_at < m.utcnow():
                return None
            a = s.get(m.Agent, row.agent_id)
            return (agent_info(a), row.csrf) if a else None

    def logout(self, token: str) -> None:
        with self._sessions.begin() as s:
            row = s.get(m.AgentSession, _token_hash(token))
            if row:
                s.delete(row)

    def heartbeat(self, agent_id: int, online: bool = True) -> None:
        with self._sessions.begin() as s:
            s.execute(update(m.Agent).where(m.Agent.id == agent_id).values(last_seen=m.utcnow() if online else None))

    def agents_online(self) -> list[AgentInfo]:
        with self._sessions() as s:
            return online_agents(s)
