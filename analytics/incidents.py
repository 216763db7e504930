"""Suspected-outage incidents: opened and updated by the surge detector, decided by a supervisor.

open -> confirmed: a fault outage (outages table) is recorded for each of its areas, so the outage notice,
the IVR greeting and work orders treat it like any known outage; open -> dismissed. Either decision records
who, when and a note, and happens once (a second attempt is refused with `IncidentConflict`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.models_analytics import Contact
from backend.models_incidents import INCIDENT_LABELS, INCIDENT_TITLE, Incident, IncidentStatus
from backend.models_notices import Audience, NoticeKind
from backend.pii import mask
from notices import notify

CONFIRMED_REASON = "线路故障，正在抢修"  # only for callers that give none (benchmarks); the console asks for it
MAX_NOTE = 300
MAX_REASON = 60  # the cause customers are told (outages.reason)
MAX_HOURS = 48


class IncidentConflict(RuntimeError):
    """The incident is no longer open (someone decided it already) or does not exist."""


@dataclass(frozen=True)
class AreaWindow:
    """One area's latest 5-minute window: outage contacts counted, expected by the baseline, Poisson tail."""

    area: str
    count: int
    expected: float
    p_value: float


@dataclass(frozen=True)
class IncidentInfo:
    id: int
    status: str
    areas: list[dict[str, Any]]  # code, name, count, expected, p_value, peak
    opened_at: dt.datetime
    last_surge_at: dt.datetime
    contacts: int
    expected: float
    samples: list[str]
    decided_by: str | None
    decided_at: dt.datetime | None
    note: str
    outage_ids: list[int]
    first_window: dt.datetime | None = None  # start of the window that opened it (its length: the surge window)

    @property
    def window_minutes(self) -> int:
        """The surge window's length in minutes (the counts and the peak are per window of this length)."""
        if self.first_window is None:
            return 5
        return max(1, round((self.opened_at - self.first_window).total_seconds() / 60))

    @property
    def title(self) -> str:
        return f"{INCIDENT_TITLE}：" + "、".join(a["name"] for a in self.areas)

    @property
    def status_label(self) -> str:
        return INCIDENT_LABELS[IncidentStatus(self.status)]


Listener = Callable[[IncidentInfo], None]


def _info(s: Session, i: Incident) -> IncidentInfo:
    names = dict(s.execute(select(m.Area.code, m.Area.name).where(m.Area.code.in_(i.area_codes))).tuples().all())
    areas = [{"code": a, "name": names.get(a, a), **(i.detail or {}).get(a, {})} for a in i.area_codes]
    return IncidentInfo(
        i.id, i.status, areas, i.opened_at, i.last_surge_at, i.contacts, i.expected, list(i.samples or []),
        i.decided_by, i.decided_at, i.note, list(i.outage_ids or []), i.first_window,
    )  # fmt: skip


def open_areas(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Area -> the open incident that holds it."""
    with sessions() as s:
        rows = s.execute(select(Incident.id, Incident.area_codes).where(Incident.status == IncidentStatus.OPEN))
        return {area: incident_id for incident_id, areas in rows for area in areas or []}


def covered_areas(sessions: sessionmaker[Session], at: dt.datetime) -> set[str]:
    """Areas with a known active outage (planned or fault) at `at`: nothing to pre-judge there."""
    with sessions() as s:
        q = select(m.Outage.area_code).where(m.Outage.start <= at, m.Outage.expected_end >= at)
        return set(s.scalars(q))


def recently_dismissed(sessions: sessionmaker[Session], since: dt.datetime) -> set[str]:
    with sessions() as s:
        q = select(Incident.area_codes).where(Incident.status == IncidentStatus.DISMISSED, Incident.decided_at >= since)
        return {a for areas in s.scalars(q) for a in areas or []}


def decided_between(sessions: sessionmaker[Session], since: dt.datetime, until: dt.datetime) -> dict[str, dt.datetime]:
    """Area -> when its latest incident decided (confirmed or dismissed) between `since` and `until` was decided."""
    with sessions() as s:
        q = select(Incident.area_codes, Incident.decided_at).where(
            Incident.status != IncidentStatus.OPEN, Incident.decided_at >= since, Incident.decided_at <= until
        )
        found: dict[str, dt.datetime] = {}
        for areas, at in s.execute(q).tuples():
            for a in areas or []:
                if at is not None and (a not in found or at > found[a]):
                    found[a] = at
        return found


def _samples(s: Session, areas: list[str], since: dt.datetime, until: dt.datetime, n: int) -> list[str]:
    q = (
        select(Contact.first_text)
        .where(
            Contact.outage_related.is_(True),
            Contact.area_code.in_(areas),
            Contact.started_at >= since,
            Contact.started_at < until,
            Contact.first_text != "",
        )
        .order_by(Contact.started_at.desc())
        .limit(n * 4)
    )
    return list(dict.fromkeys(mask(t) for t in s.scalars(q)))[:n]


def _window_detail(w: AreaWindow, peak: int = 0) -> dict[str, Any]:
    return {"count": w.count, "expected": w.expected, "p_value": float(f"{w.p_value:.3g}"), "peak": max(peak, w.count)}


def open_incident(
    sessions: sessionmaker[Session], windows: dict[str, AreaWindow], now: dt.datetime, window: dt.timedelta, n: int
) -> IncidentInfo:
    areas = sorted(windows)
    with sessions.begin() as s:
        incident = Incident(
            status=IncidentStatus.OPEN,
            area_codes=areas,
            opened_at=now,
            first_window=now - window,
            last_surge_at=now,
            contacts=sum(w.count for w in windows.values()),
            expected=round(sum(w.expected for w in windows.values()), 3),
            detail={a: _window_detail(w) for a, w in windows.items()},
            samples=_samples(s, areas, now - window, now, n),
            note="",
            outage_ids=[],
            updated_at=now,
        )
        s.add(incident)
        s.flush()
        info = _info(s, incident)
        alert_supervisors(s, info)
        return info


def alert_supervisors(s: Session, incident: IncidentInfo) -> None:
    """The one call site of the supervisors' alert: the notification interface's outbox, in the transaction that
    opens the incident (the console process pushes it to supervisors' consoles)."""
    where = "、".join(a["name"] for a in incident.areas)
    notify(
        s,
        audience=Audience.SUPERVISOR,
        kind=NoticeKind.INCIDENT_ALERT,
        key=f"incident:{incident.id}",
        text=f"{INCIDENT_TITLE}：{where}近5分钟停电来电{incident.contacts}通（通常约{incident.expected:.1f}通），请核实。",
        payload={"incident": incident.id, "areas": [a["code"] for a in incident.areas], "contacts": incident.contacts},
        now=incident.opened_at,
    )


def update(
    sessions: sessionmaker[Session],
    incident_id: int,
    windows: dict[str, AreaWindow],
    now: dt.datetime,
    window: dt.timedelta,
    n: int,
) -> None:
    """A later window of the same surge: latest counts, peaks, contacts since it opened, fresh samples."""
    with sessions.begin() as s:
        incident = s.get(Incident, incident_id)
        if incident is None or incident.status != IncidentStatus.OPEN:
            return
        detail = dict(incident.detail or {})
        for area, w in windows.items():
            detail[area] = _window_detail(w, int(detail.get(area, {}).get("peak", 0)))
        since = incident.first_window
        minutes = max(window, now - since) / window
        incident.detail = detail
        incident.contacts = int(
            s.scalar(
                select(func.count())
                .select_from(Contact)
                .where(
                    Contact.outage_related.is_(True),
                    Contact.area_code.in_(incident.area_codes),
                    Contact.started_at >= since,
                    Contact.started_at < now,
                )
            )
            or 0
        )
        incident.expected = round(sum(float(d.get("expected", 0.0)) for d in detail.values()) * minutes, 3)
        incident.last_surge_at = now
        incident.samples = _samples(s, list(incident.area_codes), since, now, n) or incident.samples
        incident.updated_at = now


def list_incidents(
    sessions: sessionmaker[Session], status: IncidentStatus | None = IncidentStatus.OPEN, limit: int = 50
) -> list[IncidentInfo]:
    with sessions() as s:
        q = select(Incident).order_by(Incident.opened_at.desc()).limit(limit)
        if status is not None:
            q = q.where(Incident.status == status)
        return [_info(s, i) for i in s.scalars(q)]


def get(sessions: sessionmaker[Session], incident_id: int) -> IncidentInfo | None:
    with sessions() as s:
        i = s.get(Incident, incident_id)
        return _info(s, i) if i else None


def changed_since(sessions: sessionmaker[Session], since: dt.datetime) -> list[IncidentInfo]:
    """Incidents opened or updated after `since` (the console's watcher alerts supervisors with them)."""
    with sessions() as s:
        q = select(Incident).where(Incident.updated_at > since).order_by(Incident.updated_at)
        return [_info(s, i) for i in s.scalars(q)]


def decide(
    sessions: sessionmaker[Session],
    incident_id: int,
    decision: IncidentStatus,
    actor: str,
    note: str = "",
    *,
    hours: float = 4.0,
    reason: str = CONFIRMED_REASON,
    now: dt.datetime | None = None,
) -> IncidentInfo:
    """Confirms (a fault outage per area, `hours` from now) or dismisses an open incident, once."""
    if decision not in (IncidentStatus.CONFIRMED, IncidentStatus.DISMISSED):
        raise ValueError(f"not a decision: {decision}")
    if not 0 < hours <= MAX_HOURS:
        raise ValueError(f"expected restoration must be within {MAX_HOURS} hours")
    now = now or m.utcnow()
    with sessions.begin() as s:
        claimed = s.execute(
            sql_update(Incident)
            .where(Incident.id == incident_id, Incident.status == IncidentStatus.OPEN)
            .values(status=decision, decided_by=actor, decided_at=now, note=note.strip()[:MAX_NOTE], updated_at=now)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            raise IncidentConflict(f"incident {incident_id} is not open")
        incident = s.get(Incident, incident_id)
        assert incident is not None
        if decision == IncidentStatus.CONFIRMED:
            outages = [
                m.Outage(
                    area_code=area,
                    kind="fault",
                    start=incident.first_window,
                    expected_end=now + dt.timedelta(hours=hours),
                    reason=reason.strip()[:128] or CONFIRMED_REASON,
                )
                for area in incident.area_codes
            ]
            s.add_all(outages)
            s.flush()
            incident.outage_ids = [o.id for o in outages]
        return _info(s, incident)
