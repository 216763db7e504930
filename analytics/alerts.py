"""KPI alerts: each KPI of analytics/kpi_thresholds.yml measured over the last window of contacts; past a threshold
an alert is raised ONCE (a kpi_alerts row, a console alert and a supervisor notice through `notices.notify`), kept
while the breach lasts (a warning that turns critical is told once more), and cleared when the KPI is back within
its warning line. A window with too few contacts behind a figure neither raises nor clears anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.kpis import KPI_NAMES, window_totals
from analytics.kpis_range import to_local
from backend import models as m
from backend.models_notices import Audience, NoticeKind
from backend.models_reports import KpiAlert
from notices import notify

THRESHOLDS_PATH = Path(__file__).resolve().parent / "kpi_thresholds.yml"
BASE_COUNT = {  # the count each figure rests on (min_count applies to it)
    "service_level": "answered",
    "abandon_rate": "escalated",
    "containment": "finished",
    "transfer_rate": "contacts",
    "fallback_rate": "turns",
    "handle_seconds": "handled",
    "satisfaction": "rated",
}


class Level(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


LEVEL_NAMES = {Level.WARNING: "预警", Level.CRITICAL: "严重"}


@dataclass(frozen=True)
class Threshold:
    kpi: str
    above: bool  # worse when higher
    warning: float
    critical: float
    min_count: int

    def level(self, value: float) -> Level | None:
        def past(line: float) -> bool:
            return value > line if self.above else value < line

        return Level.CRITICAL if past(self.critical) else Level.WARNING if past(self.warning) else None


@dataclass(frozen=True)
class Thresholds:
    window: dt.timedelta
    check_seconds: float
    target_seconds: float
    kpis: tuple[Threshold, ...]


def load_thresholds(path: Path = THRESHOLDS_PATH) -> Thresholds:
    """The thresholds file, checked: an unknown KPI, a direction other than above/below, or a critical line on the
    wrong side of the warning line fails here, when the process starts."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    kpis = []
    for kpi, spec in (raw.get("kpis") or {}).items():
        if kpi not in BASE_COUNT:
            raise ValueError(f"{path.name}: unknown KPI {kpi!r} (known: {', '.join(BASE_COUNT)})")
        if spec.get("direction") not in ("above", "below"):
            raise ValueError(f"{path.name}: {kpi}.direction must be above or below")
        t = Threshold(kpi, spec["direction"] == "above", float(spec["warning"]), float(spec["critical"]),
                      int(spec.get("min_count", 1)))  # fmt: skip
        if (t.critical < t.warning) if t.above else (t.critical > t.warning):
            raise ValueError(f"{path.name}: {kpi}.critical must be beyond its warning line")
        kpis.append(t)
    return Thresholds(
        window=dt.timedelta(minutes=float(raw.get("window_minutes", 60))),
        check_seconds=float(raw.get("check_seconds", 60)),
        target_seconds=float(raw.get("service_level_target_seconds", 20)),
        kpis=tuple(kpis),
    )


def shown(kpi: str, value: float) -> str:
    """A KPI value as people read it: 82.5%, 6分40秒, 4.2分."""
    if kpi == "handle_seconds":
        minutes, seconds = divmod(int(round(value)), 60)
        return f"{minutes}分{seconds}秒" if minutes else f"{seconds}秒"
    if kpi == "satisfaction":
        return f"{value:.1f}分"
    return f"{value * 100:.1f}%"


def message(t: Threshold, level: Level, value: float, window: dt.timedelta) -> str:
    line = t.critical if level == Level.CRITICAL else t.warning
    side = "高于" if t.above else "低于"
    minutes = int(window.total_seconds() // 60)
    return (
        f"【{LEVEL_NAMES[level]}】{KPI_NAMES[t.kpi]}{shown(t.kpi, value)}，{side}{LEVEL_NAMES[level]}线"
        f"{shown(t.kpi, line)}（最近{minutes}分钟）"
    )


def _notify(s: Session, alert: KpiAlert, now: dt.datetime) -> str:
    written = notify(
        s,
        audience=Audience.SUPERVISOR,
        kind=NoticeKind.KPI_ALERT,
        key=f"kpi_alert:{alert.id}:{alert.level}",
        text=alert.message,
        payload={"kpi": alert.kpi, "level": alert.level, "value": alert.value, "alert": alert.id},
        now=now,
    )
    return f"written {written.written}" if written.written else "duplicate"


def check(s: Session, thresholds: Thresholds | None = None, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """One evaluation over the window ending `now`; the changes it made (raised, escalated, cleared), committed by
    the caller's transaction."""
    thresholds = thresholds or load_thresholds()
    now = now or m.utcnow()
    totals = window_totals(s, now - thresholds.window, now, target_seconds=thresholds.target_seconds)
    open_alerts = {a.kpi: a for a in s.scalars(select(KpiAlert).where(KpiAlert.cleared_at.is_(None)))}
    changes: list[dict[str, Any]] = []
    for t in thresholds.kpis:
        value = totals.get(t.kpi)
        if value is None or totals[BASE_COUNT[t.kpi]] < t.min_count:
            continue  # too little to judge: neither raise nor clear
        level, alert = t.level(float(value)), open_alerts.get(t.kpi)
        if level is not None and alert is None:
            alert = KpiAlert(kpi=t.kpi, level=level, value=float(value), raised_at=now,
                             threshold=t.critical if level == Level.CRITICAL else t.warning,
                             message=message(t, level, float(value), thresholds.window))  # fmt: skip
            s.add(alert)
            s.flush()
            alert.notified = _notify(s, alert, now)
            changes.append({"kpi": t.kpi, "change": "raised", "level": level, "message": alert.message})
        elif level == Level.CRITICAL and alert is not None and alert.level == Level.WARNING:
            alert.level, alert.value, alert.threshold = level, float(value), t.critical
            alert.message = message(t, level, float(value), thresholds.window)
            alert.notified = _notify(s, alert, now)
            changes.append({"kpi": t.kpi, "change": "escalated", "level": level, "message": alert.message})
        elif level is None and alert is not None:
            alert.cleared_at, alert.cleared_value = now, float(value)
            changes.append({"kpi": t.kpi, "change": "cleared", "level": alert.level, "message": alert.message})
    return changes


def open_alerts(s: Session) -> list[dict[str, Any]]:
    return [card(a) for a in s.scalars(select(KpiAlert).where(KpiAlert.cleared_at.is_(None)).order_by(KpiAlert.id))]


def recent_alerts(s: Session, limit: int = 20) -> list[dict[str, Any]]:
    return [card(a) for a in s.scalars(select(KpiAlert).order_by(KpiAlert.id.desc()).limit(limit))]


def card(a: KpiAlert) -> dict[str, Any]:
    return {
        "id": a.id,
        "kpi": a.kpi,
        "name": KPI_NAMES.get(a.kpi, a.kpi),
        "level": a.level,
        "level_name": LEVEL_NAMES.get(Level(a.level), a.level) if a.level in Level.__members__.values() else a.level,
        "message": a.message,
        "raised_at": to_local(a.raised_at).strftime("%m-%d %H:%M"),
        "cleared_at": to_local(a.cleared_at).strftime("%m-%d %H:%M") if a.cleared_at else None,
    }
