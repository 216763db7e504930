"""What the insight jobs published about one customer, as the contact centre reads it: the tags held now with the
reason for each, and the arrears-risk grade with the decision path that explains it (backend/models_insight.py,
written by insight/publish.py). One indexed read each: customer_tags by its key's first column, customer_risk by
its key.

The tag names the product acts on are stated here: routing puts 敏感客户 ahead of normal cases, the voice gateway
gives 老年 callers the simple menu, the bot never sees 欠费风险 (notices do, as a reminder).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models_insight import CustomerRisk, CustomerTag

SENSITIVE = "敏感客户"
ELDERLY = "老年"
ARREARS_RISK = "欠费风险"
HIGH = "高"


@dataclass(frozen=True)
class TagView:
    tag: str
    reason: str
    grade: str | None
    since: str  # the billing period it has been held since, YYYY-MM
    period: str  # the period it was computed for

    def as_json(self) -> dict[str, Any]:
        return {"tag": self.tag, "reason": self.reason, "grade": self.grade, "since": self.since}


@dataclass(frozen=True)
class RiskView:
    grade: str  # 高 | 中 | 低
    probability: float
    path: str  # the tree path, in Chinese
    period: str  # the billing period predicted

    def as_json(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "probability": round(self.probability, 3),
            "path": self.path,
            "period": self.period,
        }


def tags_of(session: Session, account_no: str) -> list[TagView]:
    rows = session.scalars(select(CustomerTag).where(CustomerTag.account_no == account_no).order_by(CustomerTag.tag))
    return [TagView(r.tag, r.reason, r.grade, r.since_period, r.period) for r in rows]


def risk_of(session: Session, account_no: str) -> RiskView | None:
    r = session.get(CustomerRisk, account_no)
    return RiskView(r.grade, r.probability, r.path, r.period) if r is not None else None


def holds(session: Session, account_no: str, tag: str) -> bool:
    """Whether the account holds `tag` now (the primary key: one index probe)."""
    q = select(CustomerTag.tag).where(CustomerTag.account_no == account_no, CustomerTag.tag == tag)
    return session.scalar(q) is not None


class CustomerInsight:
    """The published insight of one customer at a time, each read its own short transaction."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def tags(self, account_no: str) -> list[TagView]:
        with self.sessions() as s:
            return tags_of(s, account_no)

    def risk(self, account_no: str) -> RiskView | None:
        with self.sessions() as s:
            return risk_of(s, account_no)

    def holds(self, account_no: str, tag: str) -> bool:
        with self.sessions() as s:
            return holds(s, account_no, tag)

    def profile(self, account_no: str) -> dict[str, Any]:
        """What a customer panel shows: {"tags": [{tag, reason, grade, since}], "risk": {grade, path, …} | None}."""
        with self.sessions() as s:
            tags, risk = tags_of(s, account_no), risk_of(s, account_no)
        return {"tags": [t.as_json() for t in tags], "risk": risk.as_json() if risk else None}
