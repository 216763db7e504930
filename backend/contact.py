"""The contact centre's records: agents and logins, the escalation queue, continuation codes.

Shared by the action server (which escalates), the console (where agents work) and the voice gateway.
Every state change is one transaction with a guard on the current state, so two agents clicking "claim"
at once cannot both win, whatever process they reach.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from backend import models as m

OPEN = ("waiting", "claimed")
ONLINE_WINDOW = dt.timedelta(seconds=60)   # the console heartbeats every 20 s
DEFAULT_HANDLE_MINUTES = 5.0


CODE_TTL = dt.timedelta(minutes=30)   # continuation codes: short-lived and single use


class Conflict(RuntimeError):
    """The case is no longer in the state the caller expected (claimed by someone else, already closed)."""


@dataclass(frozen=True)
class AgentInfo:
    id: int
    username: str
    display_name: str
    role: str

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class EscalationInfo:
    id: int
    conversation_id: str
    channel: str
    reason: str
    priority: str
    status: str
    account_no: str | None
    phone: str | None
    summary: str
    context: dict
    agent_id: int | None
    disposition: str | None
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None
    updated_at: dt.datetime

    def waited_seconds(self, now: dt.datetime | None = None) -> int:
        end = self.claimed_at or now or m.utcnow()
        return max(0, int((end - self.created_at).total_seconds()))


def _esc(e: m.Escalation) -> EscalationInfo:
    return EscalationInfo(e.id, e.conversation_id, e.channel, e.reason, e.priority, e.status, e.account_no,
                          e.phone, e.summary, dict(e.context or {}), e.agent_id, e.disposition, e.created_at,
                          e.claimed_at, e.closed_at, e.updated_at)


def _agent(a: m.Agent) -> AgentInfo:
    return AgentInfo(a.id, a.username, a.display_name, a.role)


def hash_password(password: str, *, n: int = 2 ** 14) -> str:
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


class ContactStore:
    def __init__(self, sessions: sessionmaker):
        self._sessions = sessions

    @property
    def sessions(self) -> sessionmaker:
        """The session factory (the identity store and the CIS share the same database)."""
        return self._sessions

    # ---- agents and logins ----
    def add_agent(self, username: str, display_name: str, password: str, role: str = "agent") -> AgentInfo:
        with self._sessions.begin() as s:
            a = m.Agent(username=username, display_name=display_name, role=role,
                        password_hash=hash_password(password))
            s.add(a)
            s.flush()
            return _agent(a)

    def agent_count(self) -> int:
        with self._sessions() as s:
            return s.scalar(select(func.count(m.Agent.id))) or 0

    def authenticate(self, username: str, password: str) -> AgentInfo | None:
        with self._sessions() as s:
            a = s.scalars(select(m.Agent).where(m.Agent.username == username)).first()
            stored = a.password_hash if a else hash_password("timing-equaliser", n=2 ** 14)
            ok = check_password(password, stored)
            return _agent(a) if a and ok else None

    def agent(self, agent_id: int) -> AgentInfo | None:
        with self._sessions() as s:
            a = s.get(m.Agent, agent_id)
            return _agent(a) if a else None

    def agent_by_username(self, username: str) -> AgentInfo | None:
        with self._sessions() as s:
            a = s.scalars(select(m.Agent).where(m.Agent.username == username)).first()
            return _agent(a) if a else None

    def new_login(self, agent_id: int, ttl: dt.timedelta) -> tuple[str, str]:
        """A fresh session token and CSRF token (a new pair at every login: no session fixation)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._sessions.begin() as s:
            s.add(m.AgentSession(token_hash=_token_hash(token), agent_id=agent_id, csrf=csrf,
                                 expires_at=m.utcnow() + ttl))
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
            return (_agent(a), row.csrf) if a else None

    def logout(self, token: str) -> None:
        with self._sessions.begin() as s:
            row = s.get(m.AgentSession, _token_hash(token))
            if row:
                s.delete(row)

    def heartbeat(self, agent_id: int, online: bool = True) -> None:
        with self._sessions.begin() as s:
            s.execute(update(m.Agent).where(m.Agent.id == agent_id)
                      .values(last_seen=m.utcnow() if online else None))

    def agents_online(self) -> list[AgentInfo]:
        with self._sessions() as s:
            q = select(m.Agent).where(m.Agent.last_seen > m.utcnow() - ONLINE_WINDOW).order_by(m.Agent.username)
            return [_agent(a) for a in s.scalars(q)]

    # ---- escalations ----
    def escalate(self, conversation_id: str, channel: str, reason: str, *, summary: str, context: dict,
                 account_no: str | None = None, phone: str | None = None,
                 priority: str = "normal") -> tuple[EscalationInfo, bool]:
        """Opens a case for the conversation, or returns the one already open (and False)."""
        existing = self.open_case(conversation_id)
        if existing:
            return existing, False
        with self._sessions.begin() as s:
            e = m.Escalation(conversation_id=conversation_id, channel=channel, reason=reason, priority=priority,
                             account_no=account_no, phone=phone, summary=summary, context=context)
            s.add(e)
            s.flush()
            return _esc(e), True

    def case(self, case_id: int) -> EscalationInfo | None:
        with self._sessions() as s:
            e = s.get(m.Escalation, case_id)
            return _esc(e) if e else None

    def open_case(self, conversation_id: str) -> EscalationInfo | None:
        with self._sessions() as s:
            q = (select(m.Escalation).where(m.Escalation.conversation_id == conversation_id,
                                            m.Escalation.status.in_(OPEN)).order_by(m.Escalation.id.desc()))
            e = s.scalars(q).first()
            return _esc(e) if e else None

    def queue(self) -> list[EscalationInfo]:
        """Waiting cases, urgent first, then oldest first."""
        with self._sessions() as s:
            q = (select(m.Escalation).where(m.Escalation.status == "waiting")
                 .order_by((m.Escalation.priority == "urgent").desc(), m.Escalation.id))
            return [_esc(e) for e in s.scalars(q)]

    def cases_of(self, agent_id: int | None = None) -> list[EscalationInfo]:
        """Claimed cases (of one agent, or of everyone)."""
        with self._sessions() as s:
            q = select(m.Escalation).where(m.Escalation.status == "claimed")
            if agent_id is not None:
                q = q.where(m.Escalation.agent_id == agent_id)
            return [_esc(e) for e in s.scalars(q.order_by(m.Escalation.id))]

    def history_of(self, account_no: str, limit: int = 10) -> list[EscalationInfo]:
        with self._sessions() as s:
            q = (select(m.Escalation).where(m.Escalation.account_no == account_no)
                 .order_by(m.Escalation.id.desc()).limit(limit))
            return [_esc(e) for e in s.scalars(q)]

    def changed_since(self, since: dt.datetime) -> list[EscalationInfo]:
        with self._sessions() as s:
            q = select(m.Escalation).where(m.Escalation.updated_at > since).order_by(m.Escalation.updated_at)
            return [_esc(e) for e in s.scalars(q)]

    def position(self, case: EscalationInfo) -> int:
        ids = [e.id for e in self.queue()]
        return ids.index(case.id) + 1 if case.id in ids else 0

    def handle_minutes(self) -> float:
        """Mean claimed-to-finished time over today's finished cases (a default until there are a few)."""
        start = m.utcnow() - dt.timedelta(hours=24)
        with self._sessions() as s:
            rows = s.execute(select(m.Escalation.claimed_at, m.Escalation.closed_at)
                             .where(m.Escalation.closed_at > start, m.Escalation.claimed_at.is_not(None))).all()
        spans = [(b - a).total_seconds() / 60 for a, b in rows if a and b and b > a]
        return sum(spans) / len(spans) if len(spans) >= 3 else DEFAULT_HANDLE_MINUTES

    def wait_minutes(self, position: int) -> int:
        agents = max(1, len(self.agents_online()))
        return max(1, math.ceil(position * self.handle_minutes() / agents))

    def _transition(self, case_id: int, allowed: tuple[str, ...], **values) -> EscalationInfo:
        with self._sessions.begin() as s:
            done = s.execute(update(m.Escalation)
                             .where(m.Escalation.id == case_id, m.Escalation.status.in_(allowed))
                             .values(updated_at=m.utcnow(), **values))
            if done.rowcount != 1:
                raise Conflict(f"case {case_id} is not {'/'.join(allowed)} any more")
            return _esc(s.get(m.Escalation, case_id))

    def claim(self, case_id: int, agent_id: int) -> EscalationInfo:
        return self._transition(case_id, ("waiting",), status="claimed", agent_id=agent_id, claimed_at=m.utcnow())

    def transfer(self, case_id: int, to_agent_id: int) -> EscalationInfo:
        return self._transition(case_id, ("claimed",), agent_id=to_agent_id)

    def finish(self, case_id: int, status: str, disposition: str) -> EscalationInfo:
        """Ends the person's part: status "returned" (bot resumes) or "closed"; or "callback" from the queue."""
        return self._transition(case_id, OPEN, status=status, disposition=disposition, closed_at=m.utcnow())

    def stats_today(self) -> dict:
        start = m.utcnow() - dt.timedelta(hours=24)
        with self._sessions() as s:
            by_reason = dict(s.execute(select(m.Escalation.reason, func.count(m.Escalation.id))
                                       .where(m.Escalation.created_at > start).group_by(m.Escalation.reason)).all())
        queue = self.queue()
        now = m.utcnow()
        return {"queue_length": len(queue), "longest_wait_seconds": max((e.waited_seconds(now) for e in queue), default=0),
                "agents_online": [a.display_name for a in self.agents_online()],
                "claimed": len(self.cases_of()), "by_reason": by_reason,
                "handle_minutes": round(self.handle_minutes(), 1)}

    # ---- continuing a case on another channel ----
    def issue_code(self, conversation_id: str, ttl: dt.timedelta = CODE_TTL) -> str:
        for _ in range(20):
            code = f"{secrets.randbelow(10 ** 6):06d}"
            try:
                with self._sessions.begin() as s:
                    old = s.get(m.ContinuationCode, code)
                    if old and old.expires_at > m.utcnow():
                        continue
                    if old:
                        s.delete(old)
                        s.flush()
                    s.add(m.ContinuationCode(code=code, conversation_id=conversation_id,
                                             expires_at=m.utcnow() + ttl))
                return code
            except IntegrityError:
                continue
        raise RuntimeError("no free continuation code")

    def redeem_code(self, code: str) -> str | None:
        """The case a code continues, once: the code is used up, and any identity proved in that case
        before is dropped, so whoever holds the code verifies again before hearing account data."""
        with self._sessions.begin() as s:
            row = s.get(m.ContinuationCode, code.strip())
            if row is None:
                return None
            s.delete(row)
            if row.expires_at <= m.utcnow():
                return None
            s.execute(delete(m.Verification).where(m.Verification.conversation_id == row.conversation_id))
            return row.conversation_id

    def bind(self, channel_user: str, conversation_id: str) -> None:
        with self._sessions.begin() as s:
            row = s.get(m.ChannelBinding, channel_user)
            if row:
                row.conversation_id = conversation_id
            else:
                s.add(m.ChannelBinding(channel_user=channel_user, conversation_id=conversation_id))

    def conversation_of(self, channel_user: str) -> str:
        """The case this identity talks in: a bound one, else its own (channel_user itself)."""
        with self._sessions() as s:
            row = s.get(m.ChannelBinding, channel_user)
            return row.conversation_id if row else channel_user[:64]

    def identities_of(self, conversation_id: str) -> list[str]:
        with self._sessions() as s:
            rows = s.scalars(select(m.ChannelBinding.channel_user)
                             .where(m.ChannelBinding.conversation_id == conversation_id)).all()
        return sorted(set(rows) | {conversation_id})
