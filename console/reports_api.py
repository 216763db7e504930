"""Reports in the console (supervisors only): the archive, searchable; a report generated with one click; its files.

- GET  /console/reports                     the page (console/templates/reports.html, console/static/reports.js)
- GET  /console/api/reports?q=              the archive, newest first, filtered by every word of q
- POST /console/api/reports {kind, from, to, area}   generate one (analytics/report.py); 400 with a Chinese
                                            sentence for bad parameters
- GET  /console/reports/{id}.html|.pdf      the archived file

The archive directory is P95598_REPORTS_DIR, else var/reports (analytics.report.reports_dir).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from analytics.kpis_range import RangeError, to_local
from analytics.report import KIND_NAMES, card, generate, list_reports, reports_dir
from backend import models as m
from backend.models_reports import KpiReport
from console.auth import require_supervisor
from console.config import CONTACT
from console.errors import refuse
from console.pages import render

REPORTS_DIR = web.AppKey("reports_dir", Path)
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
GENERATING = web.AppKey("reports_generating", asyncio.Semaphore)


async def page(request: web.Request) -> web.Response:
    agent = require_supervisor(request)

    def read() -> list[dict[str, str]]:
        with request.app[CONTACT].sessions() as s:
            return [
                {"code": c, "name": n} for c, n in s.execute(select(m.Area.code, m.Area.name).order_by(m.Area.code))
            ]

    today = to_local(m.utcnow()).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)  # last week's Monday: the usual weekly report
    return render(
        "reports.html",
        agent=agent,
        csrf=request["csrf"],
        areas=await asyncio.to_thread(read),
        kinds=KIND_NAMES,
        first=monday.isoformat(),
    )


async def archive(request: web.Request) -> web.Response:
    require_supervisor(request)
    query = request.query.get("q", "")[:100]

    def read() -> list[dict[str, Any]]:
        with request.app[CONTACT].sessions() as s:
            return list_reports(s, query)

    return web.json_response({"reports": await asyncio.to_thread(read)})


async def create(request: web.Request) -> web.Response:
    agent = require_supervisor(request)
    try:
        body = await request.json()
    except ValueError:
        raise refuse(400, "提交的内容不对，请刷新页面后再试。") from None
    if not isinstance(body, dict):
        raise refuse(400, "提交的内容不对，请刷新页面后再试。")
    values = {k: (str(body.get(k) or "").strip()[:20] or None) for k in ("kind", "from", "to", "area")}
    async with request.app[GENERATING]:  # one report at a time: chromium on a small machine
        try:
            done = await asyncio.to_thread(
                generate,
                request.app[CONTACT].sessions,
                values["kind"] or "weekly",
                values["from"],
                values["to"],
                values["area"],
                f"{agent.display_name}（{agent.username}）",
                request.app[REPORTS_DIR],
            )
        except RangeError as e:
            raise refuse(400, str(e)) from None
    return web.json_response(done, status=201)


async def report_file(request: web.Request) -> web.StreamResponse:
    require_supervisor(request)
    try:
        report_id = int(request.match_info["id"])
    except ValueError:
        raise refuse(404, "没有找到这份报表。") from None
    suffix = request.match_info["ext"]

    def read() -> dict[str, Any] | None:
        with request.app[CONTACT].sessions() as s:
            row = s.get(KpiReport, report_id)
            return card(row) if row else None

    found = await asyncio.to_thread(read)
    relative = (found or {}).get("pdf" if suffix == "pdf" else "html")
    if not relative:
        raise refuse(404, "没有找到这份报表的文件。" if found else "没有找到这份报表。")
    folder = request.app[REPORTS_DIR].resolve()
    path = (folder / relative).resolve()
    if folder not in path.parents or not path.is_file():
        raise refuse(404, "这份报表的文件已不在存档目录中。")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "application/pdf" if suffix == "pdf" else "text/html; charset=utf-8",
            "Content-Security-Policy": FILE_CSP,
            "Cache-Control": "no-store",
        },
    )


async def reports_state(app: web.Application) -> Any:
    app[REPORTS_DIR] = reports_dir()
    app[GENERATING] = asyncio.Semaphore(1)
    yield


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(reports_state)
    r = app.router
    r.add_get("/console/reports", page)
    r.add_get("/console/api/reports", archive)
    r.add_post("/console/api/reports", create)
    r.add_get(r"/console/reports/{id}.{ext:(html|pdf)}", report_file)
