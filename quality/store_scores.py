"""Inspection scores over time (the scores page and the reports): per week (Monday, Asia/Shanghai) over the last
weeks, per agent, per team and per rule, the lowest-scored contacts, and precision and recall in use.

Recall in use is estimated from the random sample of unflagged contacts: the share of reviewed sample contacts a
reviewer found a rule missed on, times the unflagged contacts of the period, is the estimate of that rule's missed
contacts (false negatives); recall = confirmed / (confirmed + estimated missed). Only unflagged contacts are
sampled, so a rule missed on a contact flagged for another rule is not counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models_quality import Flag, Inspection, InspectionStatus, Review, SampleReview
from quality.store import precision_by_rule

TZ = ZoneInfo("Asia/Shanghai")
LOWEST = 10  # the lowest-scored contacts listed


def week_start(utc_naive: dt.datetime) -> dt.date:
    local = utc_naive.replace(tzinfo=dt.timezone.utc).astimezone(TZ).date()
    return local - dt.timedelta(days=local.weekday())


def weeks_back(now: dt.datetime, weeks: int) -> tuple[list[dt.date], dt.datetime]:
    """The Mondays of the last `weeks` weeks (this one included) and the first one's midnight as naive UTC."""
    last = week_start(now)
    mondays = [last - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    first = dt.datetime.combine(mondays[0], dt.time(), TZ).astimezone(dt.timezone.utc).replace(tzinfo=None)
    return mondays, first


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


class _Tally:
    """Contacts, scores and flags of one group (an agent, a team, everyone) by week."""

    def __init__(self) -> None:
        self.scores: dict[dt.date, list[float]] = defaultdict(list)
        self.flagged: dict[dt.date, int] = defaultdict(int)

    def add(self, week: dt.date, score: float, flags: int) -> None:
        self.scores[week].append(score)
        self.flagged[week] += 1 if flags else 0

    def json(self, mondays: list[dt.date]) -> dict[str, Any]:
        every = [x for w in mondays for x in self.scores.get(w, [])]
        return {
            "contacts": len(every),
            "score": _mean(every),
            "flagged": sum(self.flagged.values()),
            "weeks": [
                {"week": w.isoformat(), "contacts": len(self.scores.get(w, [])), "score": _mean(self.scores.get(w, [])),
                 "flagged": self.flagged.get(w, 0)}
                for w in mondays
            ],
        }  # fmt: skip


def _recall(confirmed: int, misses: int, reviewed: int, unflagged: int) -> float | None:
    if not reviewed:
        return None
    missed = misses / reviewed * unflagged
    return round(confirmed / (confirmed + missed), 3) if confirmed + missed > 0 else None


def sample_misses(s: Session, since: dt.datetime) -> tuple[int, dict[str, int]]:
    """(sample contacts reviewed, per rule how many a reviewer found missed) for contacts ended since then."""
    rows = s.execute(
        select(SampleReview.missed_rule, func.count(SampleReview.id))
        .join(Inspection, Inspection.id == SampleReview.inspection_id)
        .where(Inspection.ended_at >= since)
        .group_by(SampleReview.missed_rule)
    ).tuples()
    reviewed, misses = 0, {}
    for rule, n in rows:
        reviewed += n
        if rule:
            misses[str(rule)] = n
    return reviewed, misses


def rule_shares(s: Session, since: dt.datetime) -> dict[str, Any]:
    """Per agent and per team: contacts inspected and, per rule, contacts flagged (confirmed or still pending)."""
    contacts: dict[str, int] = defaultdict(int)
    team_of: dict[str, str] = {}
    for agent, team, n in s.execute(
        select(Inspection.agent_id, func.max(Inspection.team), func.count(Inspection.id))
        .where(Inspection.agent_id.is_not(None), Inspection.ended_at >= since,
               Inspection.status == InspectionStatus.INSPECTED)
        .group_by(Inspection.agent_id)
    ).tuples():  # fmt: skip
        contacts[str(agent)] = n
        team_of[str(agent)] = str(team or "")
    flagged: dict[str, dict[str, int]] = defaultdict(dict)
    for agent, rule, n in s.execute(
        select(Inspection.agent_id, Flag.rule_id, func.count(func.distinct(Inspection.id)))
        .join(Flag, Flag.inspection_id == Inspection.id)
        .where(Inspection.agent_id.is_not(None), Inspection.ended_at >= since, Flag.review != Review.DISMISSED)
        .group_by(Inspection.agent_id, Flag.rule_id)
    ).tuples():
        flagged[str(agent)][str(rule)] = n
    return {"contacts": dict(contacts), "team": team_of, "flagged": dict(flagged)}


def scores(s: Session, now: dt.datetime, weeks: int = 8) -> dict[str, Any]:
    mondays, since = weeks_back(now, weeks)
    everyone = _Tally()
    agents: defaultdict[str, _Tally] = defaultdict(_Tally)
    teams: defaultdict[str, _Tally] = defaultdict(_Tally)
    names: dict[str, tuple[str, str]] = {}
    unflagged = 0
    lowest: list[tuple[float, int, dt.datetime, str]] = []
    q = select(Inspection.id, Inspection.ended_at, Inspection.score, Inspection.flags, Inspection.agent_id,
               Inspection.agent_name, Inspection.team, Inspection.handled_by).where(
        Inspection.ended_at >= since, Inspection.status == InspectionStatus.INSPECTED)  # fmt: skip
    for iid, ended, score, flags, agent, name, team, handled_by in s.execute(q).tuples():
        week = week_start(ended)
        everyone.add(week, score, flags)
        if agent:
            agents[agent].add(week, score, flags)
            names[agent] = (name or agent, team or "")
        teams[team or ("机器人" if handled_by == "bot" else "未分组")].add(week, score, flags)
        unflagged += 0 if flags else 1
        lowest.append((score, -iid, ended, name or ("机器人" if handled_by == "bot" else "")))
    by_rule_week: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for rule, ended in s.execute(
        select(Flag.rule_id, Inspection.ended_at).join(Inspection, Inspection.id == Flag.inspection_id)
        .where(Inspection.ended_at >= since)
    ).tuples():  # fmt: skip
        by_rule_week[rule][week_start(ended)] += 1
    precision = precision_by_rule(s, since)
    reviewed, misses = sample_misses(s, since)
    rules = []
    for rule in sorted(set(precision) | set(misses)):
        p = precision.get(rule, {"flags": 0, Review.CONFIRMED: 0, Review.DISMISSED: 0, Review.PENDING: 0,
                                 "precision": None})  # fmt: skip
        rules.append({
            "rule_id": rule, "flags": p["flags"], "confirmed": p[Review.CONFIRMED], "dismissed": p[Review.DISMISSED],
            "pending": p[Review.PENDING], "precision": p["precision"], "missed_in_sample": misses.get(rule, 0),
            "recall": _recall(p[Review.CONFIRMED], misses.get(rule, 0), reviewed, unflagged),
            "weeks": [{"week": w.isoformat(), "flags": by_rule_week[rule].get(w, 0)} for w in mondays],
        })  # fmt: skip
    confirmed = sum(r["confirmed"] for r in rules)
    judged = confirmed + sum(r["dismissed"] for r in rules)
    return {
        "weeks": [w.isoformat() for w in mondays],
        "since": since,
        "overall": {
            **everyone.json(mondays),
            "precision": round(confirmed / judged, 3) if judged else None,
            "recall": _recall(confirmed, sum(misses.values()), reviewed, unflagged),
            "sample_reviewed": reviewed,
            "unflagged": unflagged,
        },
        "agents": [
            {"agent_id": a, "name": names[a][0], "team": names[a][1], **t.json(mondays)}
            for a, t in sorted(agents.items())
        ],
        "teams": [{"team": name, **t.json(mondays)} for name, t in sorted(teams.items())],
        "rules": rules,
        "lowest": [
            {"id": -neg_id, "score": round(score, 1), "ended_at": ended, "handled_by": who}
            for score, neg_id, ended, who in sorted(lowest)[:LOWEST]
        ],
    }
