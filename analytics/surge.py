"""Surge -> outage pre-judgment: a burst of outage contacts from one area that no known outage explains.

The rule (parameters in `SurgeRule`, one place, overridable from the environment):

- Every minute, outage-related contacts (`contacts.outage_related`) are counted per area over the last
  5 minutes (a sliding 5-minute window).
- The expected count for that window is the area's baseline for that hour of the week, learnt from the last
  `history_days` of the contacts table: the hour-of-week profile of all areas together (a trimmed mean over the
  weeks, so one earlier storm does not raise the bar) times the area's share of outage contacts, divided into
  5-minute windows, and never below `floor` (quiet night hours, a new area, a fresh installation).
- A window is a surge when its count k is at least `min_count` and the Poisson upper tail
  P(X >= k | expected) is below `p_open` (1e-5 by default: about one chance window a week over 24 areas).
- Areas covered by a known active outage (the outages table) are not reported. A surge in an area already in
  an open incident updates that incident (counts, expected, samples) while P < `p_continue`; surges in new
  areas within one run open one incident "疑似停电" together. An area dismissed less than
  `quiet_after_dismissal` ago is not reported again. Contacts that started before an area's incident was decided
  (confirmed or dismissed) within the window are that incident's, not a new surge: a fault confirmed and repaired
  within minutes does not reopen as 疑似停电 from the calls that reported it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from analytics import incidents
from backend import models as m
from backend.models_analytics import Contact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SurgeRule:
    window: dt.timedelta = dt.timedelta(minutes=5)
    history_days: int = 28
    floor: float = 0.25  # expected outage contacts per area per window, at least
    min_count: int = 5
    p_open: float = 1e-5
    p_continue: float = 1e-2
    quiet_after_dismissal: dt.timedelta = dt.timedelta(hours=2)
    baseline_refresh: dt.timedelta = dt.timedelta(hours=1)
    samples: int = 5

    @classmethod
    def from_env(cls) -> SurgeRule:
        """P95598_SURGE_P_OPEN, P95598_SURGE_MIN_COUNT, P95598_SURGE_FLOOR override the defaults."""
        d = cls()
        return cls(
            p_open=float(os.environ.get("P95598_SURGE_P_OPEN", d.p_open)),
            min_count=int(os.environ.get("P95598_SURGE_MIN_COUNT", d.min_count)),
            floor=float(os.environ.get("P95598_SURGE_FLOOR", d.floor)),
        )


def poisson_tail(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), summed from k upwards (accurate for tiny tails)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    log_pmf = -lam + k * math.log(lam) - math.lgamma(k + 1)
    total, term, i = 0.0, math.exp(log_pmf), k
    while term > 1e-300 and (i < k + 10 or term > total * 1e-15):
        total += term
        i += 1
        term *= lam / i
    return min(1.0, total)


def is_surge(count: int, expected: float, rule: SurgeRule) -> tuple[bool, float]:
    p = poisson_tail(count, expected)
    return count >= rule.min_count and p < rule.p_open, p


@dataclass
class Baseline:
    """Expected outage contacts per area per window, by hour of the week (Monday 00h local = 0)."""

    profile: list[float]  # all areas together, contacts per hour of the week
    shares: dict[str, float]  # each area's share of outage contacts
    computed_at: dt.datetime
    areas: int = 24

    def expected(self, area: str, at: dt.datetime, rule: SurgeRule) -> float:
        share = self.shares.get(area, 1.0 / max(1, self.areas))
        per_window = self.profile[hour_of_week(at)] * share * (rule.window / dt.timedelta(hours=1))
        return max(rule.floor, per_window)


def hour_of_week(utc: dt.datetime) -> int:
    local = utc + dt.timedelta(hours=8)  # Asia/Shanghai, no summer time (backend.spoken.LOCAL_TZ)
    return local.weekday() * 24 + local.hour


def learn_baseline(s: Session, now: dt.datetime, rule: SurgeRule) -> Baseline:
    """The hour-of-week profile and the area shares from the last `history_days` of outage contacts."""
    since = now - dt.timedelta(days=rule.history_days)
    rows = s.execute(
        select(Contact.area_code, Contact.started_at).where(
            Contact.outage_related.is_(True), Contact.started_at >= since, Contact.started_at < now
        )
    ).all()
    counts: dict[tuple[int, int], int] = defaultdict(int)  # (hour of week, week) -> outage contacts
    by_area: dict[str, int] = defaultdict(int)
    for area, at in rows:
        counts[(hour_of_week(at), (at - since).days // 7)] += 1
        if area:
            by_area[area] += 1
    seen: dict[int, list[int]] = defaultdict(list)  # hour of week -> the weeks whose hour the history covers
    first = min((at for _, at in rows), default=now).replace(minute=0, second=0, microsecond=0)
    hour = first
    while hour + dt.timedelta(hours=1) <= now:
        seen[hour_of_week(hour)].append((hour - since).days // 7)
        hour += dt.timedelta(hours=1)
    profile = []
    for how in range(7 * 24):
        per_week = sorted(counts.get((how, w), 0) for w in seen[how])
        kept = per_week[:-1] if len(per_week) >= 3 else per_week  # the busiest week out: an earlier storm
        profile.append(sum(kept) / len(kept) if kept else 0.0)
    area_count = s.scalar(select(func.count()).select_from(m.Area)) or 24
    total = sum(by_area.values())
    shares = {a: c / total for a, c in by_area.items()} if total else {}
    return Baseline(profile, shares, now, area_count)


@dataclass
class Detector:
    """One detection pass per `run(now)`; the baseline is relearnt every `baseline_refresh`."""

    sessions: sessionmaker[Session]
    rule: SurgeRule = field(default_factory=SurgeRule)
    baseline: Baseline | None = None
    on_open: list[incidents.Listener] = field(default_factory=list)

    def run(self, now: dt.datetime | None = None) -> list[int]:
        """Counts the window ending at `now`; opens or updates incidents. The incidents opened (their ids)."""
        now = now or m.utcnow()
        rule = self.rule
        with self.sessions() as s:
            if self.baseline is None or abs(now - self.baseline.computed_at) >= rule.baseline_refresh:
                self.baseline = learn_baseline(s, now, rule)
            counts: dict[str | None, int] = dict(
                s.execute(
                    select(Contact.area_code, func.count())
                    .where(
                        Contact.outage_related.is_(True),
                        Contact.area_code.is_not(None),
                        Contact.started_at >= now - rule.window,
                        Contact.started_at < now,
                    )
                    .group_by(Contact.area_code)
                )
                .tuples()
                .all()
            )
        decided = incidents.decided_between(self.sessions, now - rule.window, now) if counts else {}
        if decided:  # contacts a decided incident already explained (its storm) do not open another one
            counts.update(self._counts_since(now, {a: at for a, at in decided.items() if a in counts}))
        open_by_area = incidents.open_areas(self.sessions)
        continuing: dict[int, dict[str, incidents.AreaWindow]] = defaultdict(dict)
        new: dict[str, incidents.AreaWindow] = {}
        candidates = {a: c for a, c in counts.items() if a and (c >= rule.min_count or a in open_by_area)}
        covered = incidents.covered_areas(self.sessions, now) if candidates else set()
        quiet = incidents.recently_dismissed(self.sessions, now - rule.quiet_after_dismissal) if candidates else set()
        for area, count in candidates.items():
            expected = self.baseline.expected(area, now, rule)
            surge, p = is_surge(count, expected, rule)
            window = incidents.AreaWindow(area, count, round(expected, 3), p)
            if area in open_by_area:
                if p < rule.p_continue:
                    continuing[open_by_area[area]][area] = window
            elif surge and area not in covered and area not in quiet:
                new[area] = window
        for incident_id, windows in continuing.items():
            incidents.update(self.sessions, incident_id, windows, now, rule.window, rule.samples)
        if not new:
            return []
        opened = incidents.open_incident(self.sessions, new, now, rule.window, rule.samples)
        log.warning("suspected outage: incident %s in %s", opened.id, ", ".join(sorted(new)))
        for listener in self.on_open:
            try:
                listener(opened)
            except Exception:  # an alert that fails must not stop detection; the incident is stored
                log.exception("incident alert failed for %s", opened.id)
        return [opened.id]

    def _counts_since(self, now: dt.datetime, since: dict[str, dt.datetime]) -> dict[str | None, int]:
        """Outage contacts of each area started from its own `since` to `now`."""
        with self.sessions() as s:
            return {
                area: int(
                    s.scalar(
                        select(func.count())
                        .select_from(Contact)
                        .where(
                            Contact.outage_related.is_(True),
                            Contact.area_code == area,
                            Contact.started_at >= at,
                            Contact.started_at < now,
                        )
                    )
                    or 0
                )
                for area, at in since.items()
            }


def surge_task(sessions: sessionmaker[Session], rule: SurgeRule | None = None) -> Callable[[dt.datetime], object]:
    """The analytics process's periodic task (analytics.__main__.periodic_tasks): a detection pass once a
    minute, however often the process calls it."""
    detector = Detector(sessions, rule or SurgeRule.from_env())
    last: list[dt.datetime] = []

    def task(now: dt.datetime) -> object:
        if last and now - last[0] < dt.timedelta(minutes=1):
            return None
        last[:] = [now]
        return detector.run(now)

    return task
