"""Incidents for the dashboard and the reports: the open ones now, and those opened in a report's period (the
surge detector's `incidents` table, backend/models_incidents.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.kpis_range import to_local
from backend.models_incidents import INCIDENT_LABELS, INCIDENT_TITLE, Incident, IncidentStatus


def _card(i: Incident, names: dict[str, str]) -> dict[str, Any]:
    labels: dict[str, str] = {str(k): v for k, v in INCIDENT_LABELS.items()}
    areas = [str(a) for a in (i.area_codes or [])]
    return {
        "id": i.id,
        "title": INCIDENT_TITLE if i.status == IncidentStatus.OPEN else labels.get(i.status, i.status),
        "status": i.status,
        "status_name": labels.get(i.status, i.status),
        "areas": areas,
        "area_names": [names.get(a, a) for a in areas],
        "opened_at": to_local(i.opened_at).strftime("%m-%d %H:%M"),
        "contacts": int(i.contacts or 0),
        "expected": round(float(i.expected or 0), 1),
        "samples": [str(x) for x in (i.samples or [])][:3],
        "note": i.note or "",
    }


def read_open(s: Session, names: dict[str, str], area: str | None = None) -> list[dict[str, Any]]:
    rows = s.scalars(select(Incident).where(Incident.status == IncidentStatus.OPEN).order_by(Incident.opened_at.desc()))
    return [_card(i, names) for i in rows if area is None or area in (i.area_codes or [])]


def opened_between(
    s: Session, start: dt.datetime, end: dt.datetime, names: dict[str, str], area: str | None = None
) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(Incident).where(Incident.opened_at >= start, Incident.opened_at < end).order_by(Incident.opened_at)
    )
    return [_card(i, names) for i in rows if area is None or area in (i.area_codes or [])]


def open_areas(s: Session) -> list[str]:
    """The areas of the open incidents (the forecast's excess comes from them)."""
    found: set[str] = set()
    for codes in s.scalars(select(Incident.area_codes).where(Incident.status == IncidentStatus.OPEN)):
        found.update(str(c) for c in codes or [])
    return sorted(found)
