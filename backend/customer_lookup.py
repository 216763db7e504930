"""The customer behind a case, for the agent serving it: search by 户号, phone or name; identity checked on the
caller's behalf (the same proof and the same wrong-answer limits as the bot's, backend.identity); the case bound
to an account; and the customer's history across contacts: earlier cases, orders with their timelines, ratings.

Each method is one short transaction. What an agent may *see* of the answers (masked or whole) is decided by the
console (console/customer_api.py); this module only says whether the case's conversation holds a proof.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.cis import CIS, CustomerInfo
from backend.contact_centre import EscalationInfo, NoteKind
from backend.contact_centre.cases import case_info
from backend.identity import CHANGE, READ, Check, IdentityStore
from backend.workorders.service import OrderView, view

MAX_QUERY = 20
ACCOUNT = re.compile(r"^\d{10}$")
LAST4 = re.compile(r"^\d{4}$")
HAN = re.compile(r"[\u4e00-\u9fff]")
METHODS = {READ: "agent-last4", CHANGE: "agent-last4+name"}  # Verification.method: who asked, what was asked


class BadQuery(ValueError):
    """A search or an answer that cannot be used (empty, too long, not digits or Chinese); the text says why."""


class Verdict(Enum):
    OK = "ok"
    WRONG_PHONE = "wrong_phone"
    WRONG_NAME = "wrong_name"
    LOCKED = "locked"


@dataclass(frozen=True)
class NoteInfo:
    id: int
    case_id: int
    agent_id: int | None
    kind: str
    text: str
    detail: dict[str, Any]
    at: dt.datetime


@dataclass(frozen=True)
class Arrears:
    balance: float | None  # prepaid balance (negative: owed)
    unpaid_months: list[str] = field(default_factory=list)
    unpaid_amount: float = 0.0

    @property
    def owes(self) -> bool:
        return bool(self.unpaid_months) or (self.balance is not None and self.balance < 0)


def holder_name(text: str) -> str:
    """The Chinese characters of what the agent typed for the holder's name ("王建国", "户主王建国" -> 王建国)."""
    name = "".join(HAN.findall(text or ""))
    return re.sub(r"^(?:户主是|户主叫|户主|我是|我叫|叫)", "", name)


def search_terms(query: str) -> tuple[str, str]:
    """("digits", "3201") or ("name", "王建"): what kind of search; BadQuery with a Chinese reason otherwise."""
    q = re.sub(r"[\s-]", "", str(query or ""))
    if not q:
        raise BadQuery("请输入户号、电话或姓名。")
    if len(q) > MAX_QUERY:
        raise BadQuery(f"查询内容太长了（最多{MAX_QUERY}个字）。")
    if q.isdigit() and q.isascii():
        if len(q) < 4:
            raise BadQuery("号码至少输入4位。")
        return "digits", q
    if all(HAN.match(ch) for ch in q):
        return "name", q
    raise BadQuery("只能按户号、电话号码（数字）或姓名（汉字）查询。")


class CustomerLookup:
    def __init__(self, sessions: sessionmaker[Session], cis: CIS, identity: IdentityStore | None = None):
        self._sessions, self._cis = sessions, cis
        self.identity = identity or IdentityStore(sessions)

    # --- search ------------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> list[CustomerInfo]:
        """Customers whose 户号 or phone contains the digits, or whose name contains the characters; exact
        matches first. BadQuery for input that is none of these."""
        kind, q = search_terms(query)
        limit = max(1, min(limit, 20))
        with self._sessions() as s:
            if kind == "digits":
                where = or_(
                    m.Customer.account_no.contains(q, autoescape=True), m.Customer.phone.contains(q, autoescape=True)
                )
                exact = or_(m.Customer.account_no == q, m.Customer.phone == q)
            else:
                where, exact = m.Customer.name.contains(q, autoescape=True), m.Customer.name == q
            rows = s.scalars(
                select(m.Customer).where(where).order_by(exact.desc(), m.Customer.account_no).limit(limit)
            ).all()
            accounts = [c.account_no for c in rows]
        found = (self._cis.get_customer(a) for a in accounts)
        return [c for c in found if c is not None]

    # --- proof -------------------------------------------------------------------------------------
    def verified(self, case: EscalationInfo, account_no: str | None, strength: int = READ) -> bool:
        """The case's conversation holds a live proof for this account (the bot's or an agent's), or an agent
        verified it on this case (a recorded step stays valid for reading the case afterwards)."""
        if not account_no:
            return False
        if self.identity.verified(case.conversation_id, account_no, strength):
            return True
        return any(
            n.kind == NoteKind.VERIFY and n.detail.get("account_no") == account_no
            and int(n.detail.get("strength") or 0) >= strength
            for n in self.notes(case.id)
        )  # fmt: skip

    def verify(
        self, case: EscalationInfo, agent_id: int, account_no: str, last4: str, name: str = ""
    ) -> tuple[Verdict, int]:
        """The agent asked the caller and typed the answers: the last four digits of the registered phone, and
        for strength 2 the holder's name. Counted and limited as the bot's answers are (per conversation, per
        client, per account); a right answer is a Verification of the case's conversation and a "verify" note.
        Returns the verdict and the strength proved (0 when not)."""
        if not ACCOUNT.match(account_no or ""):
            raise BadQuery("户号应为10位数字。")
        if not LAST4.match(last4 or ""):
            raise BadQuery("请输入客户说的手机号后4位（4位数字）。")
        name = holder_name(name) if name else ""
        if name and not 2 <= len(name) <= 5:
            raise BadQuery("户主姓名应为2到5个汉字。")
        customer = self._cis.get_customer(account_no)
        client = case.phone or ""
        conversation = case.conversation_id
        correct = bool(customer and self._cis.verify_identity(account_no, last4))
        check = self.identity.attempt(conversation, client, account_no, correct, METHODS[READ], READ)
        if check is not Check.OK:
            return (Verdict.LOCKED if check is Check.LOCKED else Verdict.WRONG_PHONE), 0
        strength = READ
        if name:
            right = bool(customer and (customer.name == name or name.endswith(customer.name)))
            check = self.identity.attempt(conversation, client, account_no, right, METHODS[CHANGE], CHANGE)
            if check is Check.LOCKED:
                return Verdict.LOCKED, 0
            if check is Check.WRONG:
                self._note(case.id, agent_id, NoteKind.VERIFY, "核验手机尾号通过，户主姓名不符",
                           {"account_no": account_no, "strength": READ, "method": METHODS[READ]})  # fmt: skip
                return Verdict.WRONG_NAME, READ
            strength = CHANGE
        text = "代客核验通过：手机尾号" + ("、户主姓名" if strength == CHANGE else "")
        self._note(case.id, agent_id, NoteKind.VERIFY, text,
                   {"account_no": account_no, "strength": strength, "method": METHODS[strength]})  # fmt: skip
        return Verdict.OK, strength

    # --- binding -----------------------------------------------------------------------------------
    def bind(self, case_id: int, agent_id: int, account_no: str) -> EscalationInfo:
        """The case is this customer's from now on (its account, a "bind" note). LookupError: no such account."""
        if not ACCOUNT.match(account_no or "") or self._cis.get_customer(account_no) is None:
            raise LookupError(account_no)
        with self._sessions.begin() as s:
            before = s.get(m.Escalation, case_id)
            if before is None:
                raise LookupError(case_id)
            previous = before.account_no
            s.execute(
                update(m.Escalation)
                .where(m.Escalation.id == case_id)
                .values(account_no=account_no, updated_at=m.utcnow())
            )
            s.add(m.CaseNote(case_id=case_id, agent_id=agent_id, kind=NoteKind.BIND, text="关联客户户号",
                             detail={"account_no": account_no, "previous": previous}, at=m.utcnow()))  # fmt: skip
            s.flush()
            row = s.get(m.Escalation, case_id)
            assert row is not None
            s.refresh(row)
            return case_info(row)

    # --- notes -------------------------------------------------------------------------------------
    def _note(self, case_id: int, agent_id: int | None, kind: str, text: str, detail: dict[str, Any]) -> None:
        with self._sessions.begin() as s:
            s.add(
                m.CaseNote(case_id=case_id, agent_id=agent_id, kind=kind, text=text[:500], detail=detail, at=m.utcnow())
            )

    def add_note(self, case_id: int, agent_id: int | None, kind: str, text: str, detail: dict[str, Any]) -> None:
        self._note(case_id, agent_id, kind, text, detail)

    def notes(self, case_id: int, kinds: tuple[str, ...] = ()) -> list[NoteInfo]:
        with self._sessions() as s:
            q = select(m.CaseNote).where(m.CaseNote.case_id == case_id)
            if kinds:
                q = q.where(m.CaseNote.kind.in_(kinds))
            return [
                NoteInfo(n.id, n.case_id, n.agent_id, n.kind, n.text, dict(n.detail or {}), n.at)
                for n in s.scalars(q.order_by(m.CaseNote.id))
            ]

    # --- history -----------------------------------------------------------------------------------
    def contacts(self, account_no: str, phone: str | None = None, limit: int = 20) -> list[EscalationInfo]:
        """Every case of this customer on any channel (by account, or by the registered phone), newest first."""
        with self._sessions() as s:
            who = m.Escalation.account_no == account_no
            if phone:
                who = or_(who, m.Escalation.phone == phone)
            q = select(m.Escalation).where(who).order_by(m.Escalation.id.desc()).limit(limit)
            return [case_info(e) for e in s.scalars(q)]

    def linked_orders(self, case_id: int) -> list[str]:
        return [str(n.detail["order"]) for n in self.notes(case_id, (NoteKind.NOTE,)) if n.detail.get("order")]

    def orders(
        self, account_no: str | None, conversations: list[str], numbers: list[str], limit: int = 20
    ) -> list[OrderView]:
        """The customer's orders (by account), those filed in the given conversations, and the linked ones, newest
        first, each with its timeline."""
        terms = []
        if account_no:
            terms.append(m.WorkOrder.account_no == account_no)
        if conversations:
            terms.append(m.WorkOrder.conversation_id.in_(conversations))
        if numbers:
            terms.append(m.WorkOrder.number.in_(numbers))
        if not terms:
            return []
        with self._sessions() as s:
            q = select(m.WorkOrder).where(or_(*terms)).order_by(m.WorkOrder.id.desc()).limit(limit)
            return [view(s, o, with_timeline=True) for o in s.scalars(q)]

    def ratings(self, account_no: str, case_ids: list[int]) -> list[m.Rating]:
        """Answered satisfaction ratings of this customer's contacts, newest first (detached rows)."""
        with self._sessions() as s:
            who = m.Rating.account_no == account_no
            if case_ids:
                who = or_(who, m.Rating.case_id.in_(case_ids))
            q = select(m.Rating).where(who, m.Rating.score.is_not(None)).order_by(m.Rating.id.desc()).limit(20)
            rows = list(s.scalars(q))
            s.expunge_all()
            return rows

    def arrears(self, account_no: str) -> Arrears:
        with self._sessions() as s:
            unpaid = s.scalars(
                select(m.Bill).where(m.Bill.account_no == account_no, m.Bill.paid.is_(False)).order_by(m.Bill.month)
            ).all()
            months, amount = [b.month for b in unpaid], round(sum(b.amount for b in unpaid), 2)
        return Arrears(self._cis.get_balance(account_no), months, amount)
