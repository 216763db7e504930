"""Everything the KPI dashboard and a report show for one period, in one read: the KPI summary with its series,
contacts by channel, transfer reasons, top functions and areas, satisfaction and the period's incidents."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from analytics import kpis, kpis_incidents
from analytics.kpis_range import KpiRange


def kpi_view(s: Session, r: KpiRange, target_seconds: float = kpis.TARGET_SECONDS) -> dict[str, Any]:
    names = kpis.area_names(s)
    by_channel = kpis.by_channel(s, r)
    return {
        "range": r.as_dict(),
        "area_name": names.get(r.area, r.area) if r.area else "全部区域",
        "summary": kpis.summary(s, r, target_seconds),
        "by_channel": by_channel,
        "channels": kpis.channel_totals(by_channel),
        "reasons": kpis.transfer_reasons(s, r),
        "top_functions": kpis.top_functions(s, r),
        "top_areas": kpis.top_areas(s, r),
        "satisfaction": kpis.satisfaction_scores(s, r),
        "incidents": incidents_in(s, r, names),
    }


def incidents_in(s: Session, r: KpiRange, names: dict[str, str]) -> dict[str, Any]:
    """Incidents opened in the period (the surge detector's table)."""
    return {"incidents": kpis_incidents.opened_between(s, r.start, r.end, names, r.area)}
