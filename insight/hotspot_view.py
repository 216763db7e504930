"""The hot spots of the latest finished insight run as the console shows them (rows of backend/models_insight.py
Hotspot, written by the hot-spot job): one page of a ranking, the counts of significant hot spots per level and
measure, and one hot spot's own row for a drill-down's header."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from analytics.kpis_range import to_local
from backend import models as m
from backend.models_insight import Hotspot, InsightRun
from insight import charts
from insight.periods import span

LEVELS = {"line": "线路", "tq": "台区", "area": "供电网格"}
MEASURES = {"faults": "故障", "complaints": "投诉"}
NO_RUN = "暂无分析结果，请先运行分析。"
CHART_ROWS = 15


def latest_run(s: Session) -> InsightRun | None:
    return s.scalars(select(InsightRun).where(InsightRun.status == "done").order_by(InsightRun.id.desc())).first()


def run_json(run: InsightRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "engine": run.engine,
        "period": run.period,
        "finished_at": to_local(run.finished_at or run.started_at).strftime("%Y-%m-%d %H:%M"),
    }


def area_names(s: Session, run_id: int) -> dict[str, str]:
    """Area names as the run saw them (its area-level rows), else as the product knows them."""
    names = dict(s.execute(select(m.Area.code, m.Area.name)).tuples().all())
    rows = s.execute(select(Hotspot.code, Hotspot.name).where(Hotspot.run_id == run_id, Hotspot.level == "area"))
    names.update(rows.tuples().all())
    return names


def hotspot_json(h: Hotspot, areas: dict[str, str]) -> dict[str, Any]:
    return {
        "rank": h.rank,
        "level": h.level,
        "measure": h.measure,
        "code": h.code,
        "name": h.name,
        "area_code": h.area_code,
        "area_name": areas.get(h.area_code, h.area_code),
        "size": h.size,
        "observed": h.observed,
        "expected": round(h.expected, 2),
        "rate_ratio": round(h.rate_ratio, 2),
        "p_value": h.p_value,
        "q_value": h.q_value,
        "significant": h.significant,
        "first_period": h.first_period,
        "last_period": h.last_period,
        "trend": trend_json(h.trend or [], h.first_period, h.last_period),
        "suggestion": h.suggestion or "",
    }


def quarter_label(quarter: str, months: list[int]) -> str:
    """'2026Q4', or when the window covers only some of its months (contiguous, so at one end of the quarter):
    '2026Q4（至11月）', '2025Q4（11月起）', '2026Q4（仅10月）'."""
    if not months or len(months) == 3:
        return quarter
    if len(months) == 1:
        return f"{quarter}（仅{months[0]}月）"
    if months[0] == (int(quarter[-1]) - 1) * 3 + 1:
        return f"{quarter}（至{months[-1]}月）"
    return f"{quarter}（{months[0]}月起）"


def trend_json(trend: list[dict[str, Any]], first: str, last: str) -> list[dict[str, Any]]:
    """The per-quarter counts with each quarter's label, marking a quarter the window covers only partly (the
    last one often holds only a month or two, so its count is not comparable with the others)."""
    months: dict[str, list[int]] = {}
    for period in span(first, last) if first and last else []:
        month = int(period[5:7])
        months.setdefault(f"{period[:4]}Q{(month - 1) // 3 + 1}", []).append(month)
    out = []
    for t in trend:
        quarter = str(t.get("quarter", ""))
        label = quarter_label(quarter, months.get(quarter, []))
        out.append({"quarter": quarter, "label": label, "partial": label != quarter, "count": int(t.get("count") or 0)})
    return out


def summary(s: Session, run_id: int) -> list[dict[str, Any]]:
    """Per level and measure: how many were ranked and how many are significantly above their size."""
    rows = s.execute(
        select(Hotspot.level, Hotspot.measure, func.count(), func.sum(Hotspot.significant.cast(Integer)))
        .where(Hotspot.run_id == run_id)
        .group_by(Hotspot.level, Hotspot.measure)
    ).all()
    found = {(level, measure): (int(n), int(sig or 0)) for level, measure, n, sig in rows}
    return [
        {"level": level, "measure": measure, "label": f"{LEVELS[level]}{MEASURES[measure]}",
         "ranked": found.get((level, measure), (0, 0))[0], "significant": found.get((level, measure), (0, 0))[1]}
        for level in LEVELS
        for measure in MEASURES
    ]  # fmt: skip


def hotspot_page(
    s: Session, level: str, measure: str, offset: int, limit: int, significant_only: bool = False
) -> dict[str, Any]:
    """One page of the ranking of `level` by `measure` in the latest run, with its charts (the top rows)."""
    run = latest_run(s)
    if run is None:
        return {"run": None, "message": NO_RUN, "rows": [], "total": 0, "summary": [], "charts": {}}
    where = [Hotspot.run_id == run.id, Hotspot.level == level, Hotspot.measure == measure]
    if significant_only:
        where.append(Hotspot.significant.is_(True))
    total = int(s.scalar(select(func.count()).select_from(Hotspot).where(*where)) or 0)
    areas = area_names(s, run.id)
    ordered = select(Hotspot).where(*where).order_by(Hotspot.rank, Hotspot.code)
    rows = [hotspot_json(h, areas) for h in s.scalars(ordered.offset(offset).limit(limit))]
    if offset == 0 and limit >= CHART_ROWS:
        top = rows[:CHART_ROWS]
    else:
        top = [hotspot_json(h, areas) for h in s.scalars(ordered.limit(CHART_ROWS))]
    return {
        "run": run_json(run),
        "message": "" if total else "这一类没有排名结果。",
        "level": level,
        "measure": measure,
        "rows": rows,
        "total": total,
        "summary": summary(s, run.id),
        "charts": {
            "ranking": charts.ranking(top, LEVELS[level], MEASURES[measure]),
            "trends": charts.trends(top, MEASURES[measure]),
        },
    }


def hotspot_of(s: Session, level: str, code: str) -> dict[str, dict[str, Any]]:
    """The latest run's rows of one line, 台区 or area, by measure ({} without a run or a row)."""
    run = latest_run(s)
    if run is None:
        return {}
    areas = area_names(s, run.id)
    rows = s.scalars(select(Hotspot).where(Hotspot.run_id == run.id, Hotspot.level == level, Hotspot.code == code))
    return {h.measure: hotspot_json(h, areas) for h in rows}


def hotspots_by_code(s: Session, level: str, codes: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """code -> measure -> row, for the latest run's rows of these codes (a line's 台区, an area's lines)."""
    run = latest_run(s)
    if run is None or not codes:
        return {}
    areas = area_names(s, run.id)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    stmt = select(Hotspot).where(Hotspot.run_id == run.id, Hotspot.level == level, Hotspot.code.in_(codes[:1000]))
    for h in s.scalars(stmt):
        out.setdefault(h.code, {})[h.measure] = hotspot_json(h, areas)
    return out
