"""One-click reports: weekly, monthly or any period, for the whole centre or one area. KPI tables and charts (the
dashboard's own specs, analytics/charts.py, inlined as SVG), incidents, top complaints with samples, the bot's
misunderstandings (first words of contacts with fallbacks) and satisfaction; HTML from a Jinja2 template and PDF
printed by chromium (analytics/report_pdf.py); archived as files under the reports directory and one kpi_reports
row each (who, when, range, area, title, searchable text). An empty period gives a report saying there were no
contacts.

    python -m analytics report --kind weekly --from 2026-11-23 [--to 2026-11-29] [--area A01]
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from analytics import charts, kpis
from analytics.alerts import shown
from analytics.kpis_range import Grain, KpiRange, RangeError, parse_range, to_local
from analytics.kpis_view import kpi_view
from analytics.report_pdf import print_pdf
from backend import models as m
from backend.models_reports import KpiReport
from quality.summary import inspection_summary

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
TABLE_KPIS = ("contacts", "containment", "transfer_rate", "fallback_rate", "handle_seconds", "wait_seconds",
              "abandon_rate", "service_level", "satisfaction")  # fmt: skip


class ReportKind(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    CUSTOM = "custom"


KIND_NAMES = {ReportKind.WEEKLY: "周报", ReportKind.MONTHLY: "月报", ReportKind.CUSTOM: "专题报表"}


def reports_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    if env.get("P95598_REPORTS_DIR"):
        return Path(env["P95598_REPORTS_DIR"])
    return Path(env.get("P95598_VAR") or REPO / "var") / "reports"


def report_range(
    kind: str, first: str | dt.date | None, last: str | dt.date | None, area: str | None, known_areas: list[str]
) -> tuple[ReportKind, KpiRange]:
    """The report's period: a week from `first` (weekly), `first`'s calendar month (monthly), or first..last."""
    try:
        k = ReportKind(kind or ReportKind.WEEKLY)
    except ValueError:
        raise RangeError("报表类型只能是周报、月报或专题报表。") from None
    start = parse_range(first, first, area=area, known_areas=known_areas).first
    if last in (None, ""):
        if k == ReportKind.WEEKLY:
            last = start + dt.timedelta(days=6)
        elif k == ReportKind.MONTHLY:
            start = start.replace(day=1)
            last = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        else:
            raise RangeError("专题报表请选择结束日期。")
    return k, parse_range(start, last, Grain.DAY, area, known_areas)


def _fmt(kpi: str, value: Any) -> str:
    if value is None:
        return "—"
    if kpi == "contacts":
        return f"{int(value):,}"
    if kpi == "wait_seconds":
        return shown("handle_seconds", float(value))
    return shown(kpi, float(value))


def report_data(s: Session, kind: ReportKind, r: KpiRange) -> dict[str, Any]:
    view = kpi_view(s, r)
    totals = view["summary"]["totals"]
    title = f"95598 服务{KIND_NAMES[kind]}（{view['area_name']}，{r.first:%Y-%m-%d} 至 {r.last:%Y-%m-%d}）"
    svgs = (
        {name: charts.to_svg(spec) for name, spec in charts.dashboard_charts(view).items()}
        if totals["contacts"]
        else {}
    )
    return {
        "title": title,
        "kind_name": KIND_NAMES[kind],
        "view": view,
        "empty": totals["contacts"] == 0,
        "table": [{"name": kpis.KPI_NAMES[k], "value": _fmt(k, totals[k])} for k in TABLE_KPIS],
        "rows": [{"label": p["label"], **{k: _fmt(k, p[k]) for k in TABLE_KPIS}} for p in view["summary"]["series"]],
        "table_heads": [kpis.KPI_NAMES[k] for k in TABLE_KPIS],
        "table_keys": TABLE_KPIS,
        "complaints": kpis.complaints(s, r),
        "misunderstood": kpis.misunderstandings(s, r),
        "svgs": svgs,
        "inspection": inspection_summary(s, r.start, r.end, r.area) if kind != ReportKind.CUSTOM else None,
    }


def search_text(data: dict[str, Any]) -> str:
    view = data["view"]
    parts = [data["title"], view["area_name"], data["kind_name"]]
    parts += [f["name"] for f in view["top_functions"]] + [a["name"] for a in view["top_areas"]]
    parts += [x["text"] for x in data["complaints"]["samples"] + data["misunderstood"]["samples"]]
    parts += [" ".join(i["area_names"]) + i["title"] for i in view["incidents"]["incidents"]]
    return " ".join(parts)


def generate(
    sessions: sessionmaker[Session],
    kind: str,
    first: str | dt.date | None,
    last: str | dt.date | None = None,
    area: str | None = None,
    by: str = "cli",
    directory: Path | None = None,
    pdf: bool = True,
) -> dict[str, Any]:
    """Builds, archives and records one report; RangeError (a Chinese sentence) for bad parameters."""
    directory = directory or reports_dir()
    started = time.perf_counter()
    with sessions() as s:
        known = list(s.scalars(select(m.Area.code)))
        k, r = report_range(kind, first, last, area, known)
        data = report_data(s, k, r)
        now = m.utcnow()
        html = TEMPLATES.get_template("report.html").render(
            **data, generated_at=to_local(now).strftime("%Y-%m-%d %H:%M"), by=by
        )
        row = KpiReport(kind=k, title=data["title"][:120], date_from=r.first, date_to=r.last, area_code=r.area,
                        created_by=by[:32], created_at=now, contacts=data["view"]["summary"]["totals"]["contacts"],
                        html_path="", search_text=search_text(data))  # fmt: skip
        s.add(row)
        s.flush()
        folder = directory / f"{r.first:%Y}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{row.id:05d}-{k}-{r.first:%Y%m%d}-{r.area or 'all'}"
        (folder / f"{stem}.html").write_text(html, encoding="utf-8")
        row.html_path = f"{r.first:%Y}/{stem}.html"
        s.commit()
        html_seconds = time.perf_counter() - started
        pdf_seconds = None
        if pdf:
            t0 = time.perf_counter()
            error = print_pdf(folder / f"{stem}.html", folder / f"{stem}.pdf")
            pdf_seconds = time.perf_counter() - t0
            row.pdf_path, row.pdf_error = (None, error[:200]) if error else (f"{r.first:%Y}/{stem}.pdf", None)
        else:
            row.pdf_error = "未要求生成 PDF。"
        s.commit()
        return {**card(row), "html_seconds": round(html_seconds, 3), "pdf_seconds": pdf_seconds}


def card(row: KpiReport) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "kind_name": KIND_NAMES.get(ReportKind(row.kind), row.kind) if row.kind in set(ReportKind) else row.kind,
        "title": row.title,
        "from": row.date_from.isoformat(),
        "to": row.date_to.isoformat(),
        "area": row.area_code,
        "created_by": row.created_by,
        "created_at": to_local(row.created_at).strftime("%Y-%m-%d %H:%M"),
        "contacts": row.contacts,
        "html": row.html_path,
        "pdf": row.pdf_path,
        "pdf_error": row.pdf_error,
    }


def list_reports(s: Session, query: str = "", limit: int = 50) -> list[dict[str, Any]]:
    """The archive, newest first; `query` matched against the title and the searchable text (every word)."""
    stmt = select(KpiReport).order_by(KpiReport.id.desc()).limit(limit)
    for word in query.split()[:5]:
        like = f"%{word[:40]}%"
        stmt = stmt.where(or_(KpiReport.title.ilike(like), KpiReport.search_text.ilike(like)))
    return [card(r) for r in s.scalars(stmt)]
