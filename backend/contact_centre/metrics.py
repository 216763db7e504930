"""The supervisor's live figures, all read from the database: the queue by skill group, agents by status, and
today's service level, abandonment, handling and waiting times, per-agent work and satisfaction, and how
much the bot handled on its own.

"Today" is the local calendar day (backend.spoken.LOCAL_TZ, Asia/Shanghai). A figure with nothing to count
is None (the page shows "—"): no defaults are ever shown as real figures.

Definitions (each has a unit test on a hand-built database, tests/console/test_metrics.py):
- service level: of the cases answered (claimed) today, the share claimed within 20 s of being opened;
- abandonment: of the cases opened today that were answered or abandoned, the share abandoned: the customer
  left while waiting (`abandoned_at`), or the case was returned/closed without ever being claimed;
- average handling time: claimed_at -> closed_at of the cases finished today by a person;
- average wait to answer: created_at -> claimed_at of the cases answered today;
- bot containment: of today's conversations (customer turns today, or a case opened today), the share the bot
  served without handing them to a person (no case opened or answered today); a customer who asked for a person
  and left before one answered counts as abandoned, not as contained;
- fallback rate: of today's customer turns, the share the NLU could not place (intent nlu_fallback), read
  from turn_analytics (the analytics feed of the scale profile) or, when that has nothing for today, from
  Rasa's own tracker store (the embedded profile's SQLite file, which the feed does not read).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from backend import models as m
from backend.contact_centre.agents import ONLINE_WINDOW
from backend.contact_centre.kinds import AGENT_STATUS_LABELS, REASON_LABELS, AgentRole, AgentStatus, CaseStatus
from backend.contact_centre.skills import FALLBACK, SkillGroups, skill_groups
from backend.spoken import LOCAL_TZ

ANSWER_TARGET = dt.timedelta(seconds=20)  # the service-level goal: answered within 20 s
FALLBACK_INTENT = "nlu_fallback"
ENDED = (CaseStatus.RETURNED, CaseStatus.CLOSED)
STATUS_ORDER = (AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.BREAK, AgentStatus.OFFLINE)
SOURCE_ANALYTICS = "turn_analytics"
SOURCE_TRACKER = "tracker"


@dataclass(frozen=True)
class Day:
    """One local calendar day as naive UTC bounds (what the database stores)."""

    start: dt.datetime
    end: dt.datetime

    def __contains__(self, at: object) -> bool:
        return isinstance(at, dt.datetime) and self.start <= at < self.end


def today(now: dt.datetime | None = None) -> Day:
    """The local day containing `now` (naive UTC, default: now)."""
    now = now or m.utcnow()
    local = now.replace(tzinfo=dt.timezone.utc).astimezone(LOCAL_TZ)
    midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=LOCAL_TZ)
    start = midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)
    nxt = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)
    return Day(start, nxt.astimezone(dt.timezone.utc).replace(tzinfo=None))


def _seconds(a: dt.datetime, b: dt.datetime) -> float:
    return max(0.0, (b - a).total_seconds())


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _group(groups: SkillGroups, skill: str | None, context: Mapping[str, Any] | None) -> str:
    if skill and skill in groups.groups:
        return skill
    if skill:
        return groups.group_of(skill) or FALLBACK
    return groups.needed_by_context(context or {})


# ---- live: the queue and the agents ----


def queue_by_skill(s: Session, now: dt.datetime, groups: SkillGroups | None = None) -> list[dict[str, Any]]:
    """Each skill group (catalog order) with its waiting cases and the longest wait (seconds, None if none)."""
    groups = groups or skill_groups()
    rows = s.execute(
        select(m.Escalation.skill, m.Escalation.context, m.Escalation.created_at).where(
            m.Escalation.status == CaseStatus.WAITING, m.Escalation.abandoned_at.is_(None)
        )
    ).all()
    oldest: dict[str, dt.datetime] = {}
    counts: dict[str, int] = defaultdict(int)
    for skill, context, created in rows:
        gid = _group(groups, skill, context if isinstance(context, dict) else None)
        counts[gid] += 1
        oldest[gid] = min(oldest.get(gid, created), created)
    return [
        {
            "skill": gid,
            "name": group.name,
            "waiting": counts.get(gid, 0),
            "longest_wait_seconds": int(_seconds(oldest[gid], now)) if gid in oldest else None,
        }
        for gid, group in groups.groups.items()
    ]


def agents_by_status(s: Session, now: dt.datetime) -> list[dict[str, Any]]:
    """Every agent (supervisors are not agents) with status, reason, seconds in it, and current cases.

    An agent whose console has not been seen within the heartbeat window is shown 离线 from when it was last
    seen, even before the presence sweep writes that down."""
    cases: dict[int, list[int]] = defaultdict(list)
    for case_id, agent_id in s.execute(
        select(m.Escalation.id, m.Escalation.agent_id)
        .where(m.Escalation.status == CaseStatus.CLAIMED, m.Escalation.agent_id.is_not(None))
        .order_by(m.Escalation.id)
    ):
        cases[int(agent_id)].append(int(case_id))
    out = []
    for a in s.scalars(select(m.Agent).where(m.Agent.role == AgentRole.AGENT).order_by(m.Agent.username)):
        online = a.last_seen is not None and a.last_seen > now - ONLINE_WINDOW
        status, reason, since = a.status or AgentStatus.OFFLINE, a.status_reason or "", a.status_since or now
        if not online and status != AgentStatus.OFFLINE:
            status, reason, since = AgentStatus.OFFLINE, "", (a.last_seen + ONLINE_WINDOW if a.last_seen else since)
        label = AGENT_STATUS_LABELS.get(status, "离线")
        out.append(
            {
                "id": a.id,
                "agent": a.username,
                "name": a.display_name,
                "status": status if status in AGENT_STATUS_LABELS else AgentStatus.OFFLINE,
                "label": f"{label}（{reason}）" if reason else label,
                "seconds": int(_seconds(since, now)),
                "cases": cases.get(a.id, []),
                "max_cases": a.max_cases,
            }
        )
    return out


def status_counts(agents: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    counted: dict[str, int] = defaultdict(int)
    for a in agents:
        counted[str(a["status"])] += 1
    return [{"status": st.value, "label": AGENT_STATUS_LABELS[st], "count": counted.get(st, 0)} for st in STATUS_ORDER]


# ---- today: cases ----


def service_today(s: Session, day: Day) -> dict[str, Any]:
    """Service level, abandonment, average handling time and average wait to answer (None: nothing to count)."""
    answered = s.execute(
        select(m.Escalation.created_at, m.Escalation.claimed_at).where(
            m.Escalation.claimed_at >= day.start, m.Escalation.claimed_at < day.end
        )
    ).all()
    waits = [_seconds(created, claimed) for created, claimed in answered]
    within = sum(1 for w in waits if w <= ANSWER_TARGET.total_seconds())
    opened = s.execute(
        select(m.Escalation.claimed_at, m.Escalation.abandoned_at, m.Escalation.status).where(
            m.Escalation.created_at >= day.start, m.Escalation.created_at < day.end
        )
    ).all()
    abandoned = sum(1 for c, gone, st in opened if gone is not None or (c is None and st in ENDED))
    picked_up = sum(1 for c, gone, _ in opened if c is not None and gone is None)
    spans = [span for _, span in handled_today(s, day)]
    return {
        "answered": len(waits),
        "answered_within_target": within,
        "service_level": _share(within, len(waits)),
        "abandoned": abandoned,
        "abandon_rate": _share(abandoned, abandoned + picked_up),
        "handled": len(spans),
        "handle_seconds": _mean(spans),
        "wait_seconds": _mean(waits),
        "target_seconds": int(ANSWER_TARGET.total_seconds()),
    }


def handled_today(s: Session, day: Day) -> list[tuple[int | None, float]]:
    """(agent id, claimed-to-closed seconds) of each case a person finished today."""
    rows = s.execute(
        select(m.Escalation.agent_id, m.Escalation.claimed_at, m.Escalation.closed_at).where(
            m.Escalation.closed_at >= day.start, m.Escalation.closed_at < day.end, m.Escalation.claimed_at.is_not(None)
        )
    ).all()
    return [(agent, _seconds(claimed, closed)) for agent, claimed, closed in rows]


def per_agent_today(s: Session, day: Day) -> list[dict[str, Any]]:
    """Each agent who finished a case or was rated today, and every agent who is not a supervisor: cases
    handled, handling time (total and mean, seconds) and satisfaction (mean score and count, answered today)."""
    spans: dict[int, list[float]] = defaultdict(list)
    for agent, span in handled_today(s, day):
        if agent is not None:
            spans[int(agent)].append(span)
    ratings = {
        int(agent): (int(n), float(mean))
        for agent, n, mean in s.execute(
            select(m.Rating.agent_id, func.count(m.Rating.id), func.avg(m.Rating.score))
            .where(
                m.Rating.agent_id.is_not(None),
                m.Rating.score.is_not(None),
                m.Rating.answered_at >= day.start,
                m.Rating.answered_at < day.end,
            )
            .group_by(m.Rating.agent_id)
        ).all()
        if agent is not None
    }
    out = []
    for a in s.scalars(select(m.Agent).order_by(m.Agent.username)):
        mine = spans.get(a.id, [])
        rated = ratings.get(a.id)
        if a.role != AgentRole.AGENT and (a.role == AgentRole.QUALITY or (not mine and not rated)):
            continue
        out.append(
            {
                "id": a.id,
                "agent": a.username,
                "name": a.display_name,
                "supervisor": a.role == AgentRole.SUPERVISOR,
                "handled": len(mine),
                "handle_total_seconds": sum(mine) if mine else None,
                "handle_seconds": _mean(mine),
                "rating": round(rated[1], 2) if rated else None,
                "ratings": rated[0] if rated else 0,
            }
        )
    return out


# ---- today: the bot ----


@dataclass(frozen=True)
class Turns:
    """Today's customer turns: conversations with at least one, how many turns, how many fell back."""

    conversations: frozenset[str]
    turns: int
    fallbacks: int
    source: str | None  # SOURCE_ANALYTICS, SOURCE_TRACKER, or None (no source has anything for today)


def turns_from_analytics(s: Session, day: Day) -> Turns:
    rows = s.execute(
        select(m.TurnAnalytics.conversation_id, m.TurnAnalytics.fallback).where(
            m.TurnAnalytics.kind == "turn", m.TurnAnalytics.at >= day.start, m.TurnAnalytics.at < day.end
        )
    ).all()
    return Turns(
        frozenset(str(c) for c, _ in rows), len(rows), sum(1 for _, f in rows if f), SOURCE_ANALYTICS if rows else None
    )


class TrackerTally:
    """Today's customer turns in Rasa's tracker store (its `events` table), read incrementally: each read takes
    only the events written since the last one (by id), so the view's refresh every few seconds does not scan the
    whole store; a new day starts the counts afresh (its events all come after the last id read). Not
    thread-safe: the caller holds one per store and serialises reads.

    A user event is a customer turn unless it is the bot's own injected intent (text 'EXTERNAL: …', e.g. the
    hand-over)."""

    def __init__(self) -> None:
        self.day: Day | None = None
        self.last_id = 0
        self.conversations: set[str] = set()
        self.turns = 0
        self.fallbacks = 0

    def read(self, tracker: Engine, day: Day) -> Turns:
        if day != self.day:
            self.day, self.conversations, self.turns, self.fallbacks = day, set(), 0, 0
        start = day.start.replace(tzinfo=dt.timezone.utc).timestamp()
        end = day.end.replace(tzinfo=dt.timezone.utc).timestamp()
        with tracker.connect() as c:
            rows = c.execute(
                text(
                    "SELECT id, sender_id, intent_name, data, timestamp FROM events "
                    "WHERE id > :last AND type_name = 'user' ORDER BY id"
                ),
                {"last": self.last_id},
            ).all()
        for event_id, sender, intent, data, at in rows:
            self.last_id = max(self.last_id, int(event_id))
            if at is None or not start <= float(at) < end:
                continue
            try:
                said = str((json.loads(data or "{}") or {}).get("text") or "")
            except (ValueError, AttributeError):
                said = ""
            if said.startswith("EXTERNAL:"):
                continue
            self.conversations.add(str(sender))
            self.turns += 1
            self.fallbacks += intent == FALLBACK_INTENT
        return Turns(frozenset(self.conversations), self.turns, self.fallbacks, SOURCE_TRACKER if self.turns else None)


def turns_from_tracker(tracker: Engine, day: Day) -> Turns:
    """Today's customer turns in the tracker store, read from the start."""
    return TrackerTally().read(tracker, day)


def bot_today(s: Session, day: Day, tracker: Engine | None = None, tally: TrackerTally | None = None) -> dict[str, Any]:
    """Containment (today's conversations the bot kept: none handed to a person) and the fallback rate, with the
    source of the turns."""
    turns = turns_from_analytics(s, day)
    if turns.source is None and tracker is not None:
        turns = (tally or TrackerTally()).read(tracker, day)
    escalated = set(
        s.scalars(
            select(m.Escalation.conversation_id).where(
                m.Escalation.created_at >= day.start, m.Escalation.created_at < day.end
            )
        )
    )
    reached = set(
        s.scalars(
            select(m.Escalation.conversation_id).where(
                m.Escalation.claimed_at >= day.start, m.Escalation.claimed_at < day.end
            )
        )
    )
    handed = escalated | reached
    conversations = set(turns.conversations) | handed
    contained = len(conversations - handed)
    return {
        "conversations": len(conversations),
        "contained": contained,
        "containment": _share(contained, len(conversations)),
        "turns": turns.turns,
        "fallbacks": turns.fallbacks,
        "fallback_rate": _share(turns.fallbacks, turns.turns),
        "source": turns.source,
    }


def reasons_today(s: Session, day: Day) -> list[dict[str, Any]]:
    """Why customers were handed to a person today: each reason with its Chinese label and count, most first."""
    rows = s.execute(
        select(m.Escalation.reason, func.count(m.Escalation.id))
        .where(m.Escalation.created_at >= day.start, m.Escalation.created_at < day.end)
        .group_by(m.Escalation.reason)
    ).all()
    counted = sorted(((str(reason), int(n)) for reason, n in rows), key=lambda r: (-r[1], r[0]))
    return [{"reason": reason, "label": REASON_LABELS.get(reason, "其他原因"), "count": n} for reason, n in counted]


def live_view(
    s: Session, now: dt.datetime | None = None, tracker: Engine | None = None, tally: TrackerTally | None = None
) -> dict[str, Any]:
    """Everything the supervisor view shows, in one read (`tally`: the running count of the tracker store)."""
    now = now or m.utcnow()
    day = today(now)
    agents = agents_by_status(s, now)
    return {
        "now": now.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds"),
        "queue": queue_by_skill(s, now),
        "agents": agents,
        "status_counts": status_counts(agents),
        "service": service_today(s, day),
        "per_agent": per_agent_today(s, day),
        "bot": bot_today(s, day, tracker, tally),
        "reasons": reasons_today(s, day),
    }
