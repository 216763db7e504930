"""The inspection summary of a period (智能质检) for the weekly and monthly reports (analytics/report.py): contacts
inspected, the share flagged, flags per rule with the precision in use (confirmed / (confirmed + dismissed) of the
reviewed flags), the mean score, the agents with the lowest scores, and the random sample's recall review.

Contacts count in the period they ended in; `area` limits them to one service area (the contact's)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from backend.models_analytics import Contact
from backend.models_quality import Flag, Inspection, InspectionStatus, Review, SampleReview

log = logging.getLogger(__name__)
LOWEST_AGENTS = 5


def rule_names() -> dict[str, str]:
    """Rule id -> description from the rule file; ids alone when it cannot be read (the report still renders)."""
    try:
        from quality.rules import load_rules

        return {r.id: r.description for r in load_rules().rules}
    except Exception as e:  # noqa: BLE001 - a broken rule file stops the analytics process, not a report
        log.warning("rule descriptions unavailable for the report: %s", e)
        return {}


def _in_period(q: Select[Any], start: dt.datetime, end: dt.datetime, area: str | None) -> Select[Any]:
    q = q.where(Inspection.ended_at >= start, Inspection.ended_at < end)
    if area:
        q = q.join(Contact, Contact.id == Inspection.contact_id).where(Contact.area_code == area)
    return q


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def inspection_summary(s: Session, start: dt.datetime, end: dt.datetime, area: str | None = None) -> dict[str, Any]:
    """The period [start, end) in naive UTC."""
    inspected = Inspection.status == InspectionStatus.INSPECTED
    totals = s.execute(
        _in_period(
            select(
                func.count(Inspection.id),
                func.coalesce(func.sum(case((inspected, 1), else_=0)), 0),
                func.coalesce(func.sum(case((inspected & (Inspection.flags > 0), 1), else_=0)), 0),
                func.avg(case((inspected, Inspection.score))),
                func.coalesce(func.sum(case((Inspection.sampled, 1), else_=0)), 0),
            ),
            start,
            end,
            area,
        )
    ).one()
    contacts, done, flagged, mean, sampled = int(totals[0]), int(totals[1]), int(totals[2]), totals[3], int(totals[4])
    return {
        "contacts": contacts,
        "inspected": done,
        "not_inspectable": contacts - done,
        "flagged": flagged,
        "flagged_share": _ratio(flagged, done),
        "mean_score": None if mean is None else round(float(mean), 1),
        "rules": _rules(s, start, end, area),
        "lowest_agents": _lowest_agents(s, start, end, area),
        "sample": _sample(s, start, end, area, sampled),
    }


def _rules(s: Session, start: dt.datetime, end: dt.datetime, area: str | None) -> list[dict[str, Any]]:
    confirmed = func.coalesce(func.sum(case((Flag.review == Review.CONFIRMED, 1), else_=0)), 0)
    dismissed = func.coalesce(func.sum(case((Flag.review == Review.DISMISSED, 1), else_=0)), 0)
    q = select(Flag.rule_id, func.max(Flag.severity), func.count(Flag.id), confirmed, dismissed).join(
        Inspection, Inspection.id == Flag.inspection_id
    )
    rows = s.execute(_in_period(q, start, end, area).group_by(Flag.rule_id)).all()
    names = rule_names() if rows else {}
    out = []
    for rule_id, severity, flags, yes, no in rows:
        yes, no = int(yes), int(no)
        out.append(
            {
                "rule": rule_id,
                "name": names.get(rule_id, rule_id),
                "severity": int(severity),
                "flags": int(flags),
                "confirmed": yes,
                "dismissed": no,
                "precision": _ratio(yes, yes + no),
            }
        )
    return sorted(out, key=lambda r: (-r["flags"], r["rule"]))


def _lowest_agents(s: Session, start: dt.datetime, end: dt.datetime, area: str | None) -> list[dict[str, Any]]:
    q = select(
        Inspection.agent_id,
        func.max(Inspection.agent_name),
        func.count(Inspection.id),
        func.avg(Inspection.score),
        func.coalesce(func.sum(Inspection.flags), 0),
    ).where(Inspection.status == InspectionStatus.INSPECTED, Inspection.agent_id.is_not(None))
    rows = s.execute(_in_period(q, start, end, area).group_by(Inspection.agent_id)).all()
    agents = [
        {"agent": a, "name": name or a, "contacts": int(n), "mean_score": round(float(avg), 1), "flags": int(flags)}
        for a, name, n, avg, flags in rows
    ]
    return sorted(agents, key=lambda a: (a["mean_score"], -a["contacts"], a["agent"]))[:LOWEST_AGENTS]


def _sample(s: Session, start: dt.datetime, end: dt.datetime, area: str | None, sampled: int) -> dict[str, Any]:
    """The random unflagged sample: how many were reviewed and how many hid a problem the rules missed."""
    q = select(func.count(SampleReview.id), func.count(SampleReview.missed_rule)).join(
        Inspection, Inspection.id == SampleReview.inspection_id
    )
    reviewed, missed = s.execute(_in_period(q, start, end, area)).one()
    return {
        "sampled": sampled,
        "reviewed": int(reviewed),
        "missed": int(missed),
        "clean_share": _ratio(int(reviewed) - int(missed), int(reviewed)),
    }
