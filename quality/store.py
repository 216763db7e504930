"""The queries of the inspection queue (智能质检): the flagged contacts ranked for review, one inspection with its
flags, the reviewers' verdicts on flags and on the random unflagged sample. The scores over time are in
quality/store_scores.py. Everything takes an open Session; times in the tables are naive UTC.

Ranking of the queue: the highest severity among a contact's flags first, then the number of flags, then the most
recent end. Precision in use is confirmed / (confirmed + dismissed) of the reviewed flags.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from backend import models as m
from backend.model_base import utcnow
from backend.models_quality import Flag, Inspection, InspectionStatus, Review, SampleReview
from backend.models_recordings import Recording, RecordingStatus

VERDICTS = (Review.CONFIRMED, Review.DISMISSED)
REVIEW_STATES = ("pending", "reviewed")  # the queue's filter: a contact with a flag still to review, or none left
BOT = "bot"  # the queue's agent filter for contacts the bot handled alone
DRAW_DEFAULT, DRAW_MAX = 10, 100  # contacts drawn into the sample by hand at once
URGENT = "urgent"


class NotFound(LookupError):
    """No such inspection or flag (or not one this action applies to); the message says which, in Chinese."""


@dataclass(frozen=True)
class QueueFilters:
    rule: str = ""
    channel: str = ""
    agent: str = ""  # an agent id, or BOT
    since: dt.datetime | None = None  # naive UTC, inclusive
    until: dt.datetime | None = None  # naive UTC, exclusive
    review: str = ""  # "" | pending | reviewed


def _pending_flag() -> ColumnElement[bool]:
    return exists(select(Flag.id).where(Flag.inspection_id == Inspection.id, Flag.review == Review.PENDING))


def _conditions(f: QueueFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Inspection.flags > 0, Inspection.status == InspectionStatus.INSPECTED]
    if f.rule:
        where.append(exists(select(Flag.id).where(Flag.inspection_id == Inspection.id, Flag.rule_id == f.rule)))
    if f.channel:
        where.append(Inspection.channel == f.channel)
    if f.agent == BOT:
        where.append(Inspection.handled_by == BOT)
    elif f.agent:
        where.append(Inspection.agent_id == f.agent)
    if f.since is not None:
        where.append(Inspection.ended_at >= f.since)
    if f.until is not None:
        where.append(Inspection.ended_at < f.until)
    if f.review == "pending":
        where.append(_pending_flag())
    elif f.review == "reviewed":
        where.append(~_pending_flag())
    return where


def inspection_json(i: Inspection) -> dict[str, Any]:
    return {
        "id": i.id,
        "contact_id": i.contact_id,
        "conversation_id": i.conversation_id,
        "channel": i.channel,
        "handled_by": i.handled_by,
        "agent_id": i.agent_id,
        "agent_name": i.agent_name,
        "team": i.team,
        "started_at": i.started_at,
        "ended_at": i.ended_at,
        "status": i.status,
        "reason": i.reason,
        "score": round(i.score, 1),
        "flags": i.flags,
        "top_severity": i.top_severity,
        "turns": i.turns,
        "parts": i.parts,
        "emotions": list(i.emotions or []),
        "sampled": i.sampled,
    }


def flag_json(f: Flag) -> dict[str, Any]:
    return {
        "id": f.id,
        "inspection_id": f.inspection_id,
        "rule_id": f.rule_id,
        "severity": f.severity,
        "message": f.message,
        "evidence": list(f.evidence or []),
        "recording_id": f.recording_id,
        "offset_seconds": f.offset_seconds,
        "review": f.review,
        "reviewer": f.reviewer,
        "reviewed_at": f.reviewed_at,
        "note": f.note,
    }


def _flags_of(s: Session, inspection_ids: list[int]) -> dict[int, list[Flag]]:
    found: dict[int, list[Flag]] = {i: [] for i in inspection_ids}
    if inspection_ids:
        q = select(Flag).where(Flag.inspection_id.in_(inspection_ids)).order_by(Flag.severity.desc(), Flag.id)
        for f in s.scalars(q):
            found[f.inspection_id].append(f)
    return found


def flagged_queue(s: Session, f: QueueFilters, offset: int = 0, limit: int = 30) -> dict[str, Any]:
    """One page of the flagged contacts, ranked (severity, flags, recency), each with its flags."""
    where = _conditions(f)
    total = s.scalar(select(func.count(Inspection.id)).where(*where)) or 0
    rows = list(
        s.scalars(
            select(Inspection)
            .where(*where)
            .order_by(Inspection.top_severity.desc(), Inspection.flags.desc(), Inspection.ended_at.desc())
            .order_by(Inspection.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    flags = _flags_of(s, [i.id for i in rows])
    items = []
    for i in rows:
        item = inspection_json(i)
        item["flag_list"] = [flag_json(x) for x in flags[i.id]]
        item["pending"] = sum(1 for x in flags[i.id] if x.review == Review.PENDING)
        items.append(item)
    return {"total": total, "offset": offset, "limit": limit, "items": items}


def queue_agents(s: Session) -> list[tuple[str, str]]:
    """(agent id, name) of every agent with an inspected contact, for the queue's filter."""
    rows = s.execute(
        select(Inspection.agent_id, func.max(Inspection.agent_name))
        .where(Inspection.agent_id.is_not(None))
        .group_by(Inspection.agent_id)
        .order_by(Inspection.agent_id)
    ).all()
    return [(str(a), str(n or a)) for a, n in rows]


def recordings_of(s: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The call recordings of a conversation that can still be played (not deleted, not marked unusable)."""
    q = select(Recording).where(Recording.conversation_id == conversation_id).order_by(Recording.id)
    return [
        {"id": r.id, "leg": r.leg, "status": r.status, "reason": r.reason, "duration": r.duration_seconds,
         "playable": r.status in (RecordingStatus.STORED, RecordingStatus.TRANSCRIBED) and bool(r.path)}
        for r in s.scalars(q)
    ]  # fmt: skip


def inspection_detail(s: Session, inspection_id: int) -> dict[str, Any]:
    i = s.get(Inspection, inspection_id)
    if i is None:
        raise NotFound(f"没有找到编号为 {inspection_id} 的质检记录。")
    out = inspection_json(i)
    out["flag_list"] = [flag_json(x) for x in _flags_of(s, [i.id])[i.id]]
    out["recordings"] = recordings_of(s, i.conversation_id)
    sample = s.scalars(select(SampleReview).where(SampleReview.inspection_id == i.id)).first()
    out["sample_review"] = sample_json(sample) if sample else None
    return out


def review_flag(s: Session, flag_id: int, verdict: str, reviewer: str, note: str | None) -> dict[str, Any]:
    """Stores a reviewer's verdict on a flag (a later verdict replaces an earlier one)."""
    if verdict not in VERDICTS:
        raise ValueError(verdict)
    f = s.get(Flag, flag_id)
    if f is None:
        raise NotFound(f"没有找到编号为 {flag_id} 的质检问题。")
    f.review, f.reviewer, f.reviewed_at, f.note = verdict, reviewer, utcnow(), note or None
    s.flush()
    return flag_json(f)


def sample_json(r: SampleReview) -> dict[str, Any]:
    return {"reviewer": r.reviewer, "reviewed_at": r.reviewed_at, "missed_rule": r.missed_rule, "note": r.note}


def _sample_where(review: str) -> list[ColumnElement[bool]]:
    reviewed = exists(select(SampleReview.id).where(SampleReview.inspection_id == Inspection.id).correlate(Inspection))
    where: list[ColumnElement[bool]] = [
        Inspection.sampled.is_(True), Inspection.flags == 0, Inspection.status == InspectionStatus.INSPECTED
    ]  # fmt: skip
    if review == "pending":
        where.append(~reviewed)
    elif review == "reviewed":
        where.append(reviewed)
    return where


def sample_page(s: Session, review: str = "", offset: int = 0, limit: int = 30) -> dict[str, Any]:
    """The random sample of unflagged contacts, not yet reviewed first, then the most recent."""
    where = _sample_where(review)
    total = s.scalar(select(func.count(Inspection.id)).where(*where)) or 0
    q = (
        select(Inspection, SampleReview)
        .outerjoin(SampleReview, SampleReview.inspection_id == Inspection.id)
        .where(*where)
        .order_by(SampleReview.id.is_not(None), Inspection.ended_at.desc(), Inspection.id.desc())
        .offset(offset)
        .limit(limit)
    )
    items = []
    for i, r in s.execute(q).tuples():
        item = inspection_json(i)
        item["sample_review"] = sample_json(r) if r is not None else None
        items.append(item)
    return {"total": total, "offset": offset, "limit": limit, "items": items}


def review_sample(s: Session, inspection_id: int, reviewer: str, missed_rule: str | None, note: str | None) -> None:
    """No problem (missed_rule None) or a rule the inspection missed; a later verdict replaces an earlier one."""
    found = s.scalar(select(Inspection.id).where(Inspection.id == inspection_id, *_sample_where("")))
    if found is None:
        raise NotFound(f"抽检名单里没有编号为 {inspection_id} 的记录。")
    row = s.scalars(select(SampleReview).where(SampleReview.inspection_id == inspection_id)).first()
    if row is None:
        row = SampleReview(inspection_id=inspection_id, reviewer=reviewer)
        s.add(row)
    row.reviewer, row.reviewed_at, row.missed_rule, row.note = reviewer, utcnow(), missed_rule, note or None
    s.flush()


def draw_sample(s: Session, count: int = DRAW_DEFAULT) -> list[int]:
    """Marks up to `count` random unflagged inspected contacts not yet in the sample as sampled; their ids.

    The worker's share (P95598_QUALITY_SAMPLE) draws nothing while contacts are few, so a reviewer draws by hand."""
    if not 1 <= count <= DRAW_MAX:
        raise ValueError(count)
    drawn = list(
        s.scalars(
            select(Inspection)
            .where(Inspection.sampled.is_(False), Inspection.flags == 0)
            .where(Inspection.status == InspectionStatus.INSPECTED)
            .order_by(func.random())
            .limit(count)
        )
    )
    for i in drawn:
        i.sampled = True
    s.flush()
    return [i.id for i in drawn]


def contact_events(
    s: Session, conversation_id: str, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, dt.datetime]]:
    """What the back end knows happened in a contact, as the inspection's system events (quality/contact.py EVENTS):
    identity checks (verified), cases claimed (agent_joined), urgent cases and orders (urgent), orders filed
    (order_created); naive UTC times, in time order. The tracker's own events are read by the console page."""
    found: list[tuple[str, dt.datetime]] = []
    for at in s.scalars(
        select(m.Verification.verified_at).where(
            m.Verification.conversation_id == conversation_id, m.Verification.verified_at.between(since, until)
        )
    ):
        found.append(("verified", at))
    for case in s.scalars(
        select(m.Escalation).where(
            m.Escalation.conversation_id == conversation_id, m.Escalation.created_at.between(since, until)
        )
    ):
        if case.claimed_at is not None:
            found.append(("agent_joined", case.claimed_at))
        if case.priority == URGENT:
            found.append((URGENT, case.created_at))
    for order in s.scalars(
        select(m.WorkOrder).where(
            m.WorkOrder.conversation_id == conversation_id, m.WorkOrder.created_at.between(since, until)
        )
    ):
        found.append(("order_created", order.created_at))
        if order.priority == URGENT:
            found.append((URGENT, order.created_at))
    return sorted(found, key=lambda e: e[1])


def precision_by_rule(s: Session, since: dt.datetime | None = None) -> dict[str, dict[str, Any]]:
    """Per rule: flags, confirmed, dismissed, pending and precision in use (None until something is reviewed)."""
    q = select(Flag.rule_id, Flag.review, func.count(Flag.id)).group_by(Flag.rule_id, Flag.review)
    if since is not None:
        q = q.join(Inspection, Inspection.id == Flag.inspection_id).where(and_(Inspection.ended_at >= since))
    out: dict[str, dict[str, Any]] = {}
    for rule, review, n in s.execute(q).tuples():
        row = out.setdefault(rule, {"flags": 0, Review.CONFIRMED: 0, Review.DISMISSED: 0, Review.PENDING: 0})
        row["flags"] += n
        row[str(review)] = row.get(str(review), 0) + n
    for row in out.values():
        judged = row[Review.CONFIRMED] + row[Review.DISMISSED]
        row["precision"] = round(row[Review.CONFIRMED] / judged, 3) if judged else None
    return out
