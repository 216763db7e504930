"""The supervisor's KPI dashboard (supervisors only): the page, its JSON, the chart library, and the alert check.

- GET /console/kpi                      the page (console/templates/kpi.html, console/static/kpi.js)
- GET /console/api/kpi?from&to&grain&area   KPIs of the period with the Vega-Lite specs of analytics/charts.py
- GET /console/api/kpi/live             实时话务, outages now (当前停电: fault, planned, suspected), KPI alerts
- GET /console/api/kpi/forecast         the next 24 h forecast and agents needed (Erlang C), the excess from the
                                        same outages' areas; `available` False until there is a week of history
- GET /console/kpi/vega.js              vega-embed + Vega-Lite + Vega (vl-convert's bundle, served locally: no CDN)

The alert check (analytics/alerts.py) runs every `check_seconds` in the console process, which both profiles run;
its alerts reach supervisors through the notification interface (notices.notify) and show on the page.
Vega compiles chart expressions with `new Function`, so this page alone allows 'unsafe-eval' in its CSP.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from analytics import alerts, charts
from analytics.forecast import forecast_24h
from analytics.kpis_live import live_traffic, open_incidents, outages_now
from analytics.kpis_range import GRAIN_LABELS, RangeError, parse_range, to_local
from analytics.kpis_view import kpi_view
from backend import models as m
from backend.background import running
from console.auth import require_supervisor
from console.config import CIS, CONTACT
from console.errors import refuse
from console.pages import TEMPLATES

log = logging.getLogger(__name__)
BUNDLE_CACHE = Path.home() / ".cache" / "p95598"
CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
BUNDLE = web.AppKey("vega_bundle", dict)
THRESHOLDS = web.AppKey("kpi_thresholds", alerts.Thresholds)


def _sessions(request: web.Request) -> Any:
    return request.app[CONTACT].sessions


def _areas(s: Any) -> list[dict[str, str]]:
    return [{"code": c, "name": n} for c, n in s.execute(select(m.Area.code, m.Area.name).order_by(m.Area.code))]


async def page(request: web.Request) -> web.Response:
    agent = require_supervisor(request)

    def read() -> list[dict[str, str]]:
        with _sessions(request)() as s:
            return _areas(s)

    today = to_local(m.utcnow()).date()
    html = TEMPLATES.get_template("kpi.html").render(
        agent=agent,
        csrf=request["csrf"],
        areas=await asyncio.to_thread(read),
        grains=GRAIN_LABELS,
        first=(today - dt.timedelta(days=6)).isoformat(),
        last=today.isoformat(),
    )
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store",
                                                                      "Content-Security-Policy": CSP})  # fmt: skip


def _kpis(request: web.Request) -> dict[str, Any]:
    q = request.query
    with _sessions(request)() as s:
        r = parse_range(q.get("from"), q.get("to"), q.get("grain"), q.get("area"), [a["code"] for a in _areas(s)])
        view = kpi_view(s, r, request.app[THRESHOLDS].target_seconds)
    return {"view": view, "charts": charts.dashboard_charts(view)}


async def kpi_data(request: web.Request) -> web.Response:
    require_supervisor(request)
    try:
        return web.json_response(await asyncio.to_thread(_kpis, request))
    except RangeError as e:
        raise refuse(400, str(e)) from None


def _outages(request: web.Request, incidents: dict[str, Any]) -> dict[str, Any]:
    """当前停电: the CIS's outages in effect (SqlCIS.active_outages) and the open suspected-outage incidents."""
    return outages_now(request.app[CIS].active_outages(), incidents)


def _live(request: web.Request) -> dict[str, Any]:
    with _sessions(request)() as s:
        incidents = open_incidents(s)
        return {
            "traffic": live_traffic(s),
            "incidents": incidents,
            "outages": _outages(request, incidents),
            "alerts": alerts.open_alerts(s),
            "recent_alerts": alerts.recent_alerts(s, 10),
        }


async def live(request: web.Request) -> web.Response:
    require_supervisor(request)
    return web.json_response(await asyncio.to_thread(_live, request))


def _forecast(request: web.Request) -> dict[str, Any]:
    with _sessions(request)() as s:
        areas = _outages(request, open_incidents(s))["areas"]
        f = forecast_24h(s, target_seconds=request.app[THRESHOLDS].target_seconds, incident_areas=areas)
    return {"forecast": f, "chart": charts.forecast(f)}


async def forecast(request: web.Request) -> web.Response:
    require_supervisor(request)
    return web.json_response(await asyncio.to_thread(_forecast, request))


def _bundle() -> str:
    """vl-convert's vega-embed bundle, built once and kept on disk (it takes seconds to build)."""
    import vl_convert

    version = getattr(vl_convert, "__version__", "unknown")
    cached = BUNDLE_CACHE / f"vega-embed-vlconvert-{version}.js"
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    text = str(vl_convert.javascript_bundle(None))  # type: ignore[arg-type]  # None: the default snippet (stub says str)
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(text, encoding="utf-8")
    return text


async def vega_js(request: web.Request) -> web.Response:
    store = request.app[BUNDLE]
    if "js" not in store:
        store["js"] = await asyncio.to_thread(_bundle)
    return web.Response(text=store["js"], content_type="application/javascript",
                        headers={"Cache-Control": "private, max-age=86400"})  # fmt: skip


async def alert_checks(app: web.Application) -> AsyncIterator[None]:
    """The KPI alert check every `check_seconds` (P95598_KPI_ALERTS=0 turns it off, e.g. for tests)."""
    import os

    app[THRESHOLDS] = thresholds = alerts.load_thresholds()
    app[BUNDLE] = {}

    def once() -> None:
        with app[CONTACT].sessions() as s:
            for change in alerts.check(s, thresholds):
                log.info("KPI alert %s: %s", change["change"], change["message"])
            s.commit()

    async def loop() -> None:
        while True:
            await asyncio.sleep(thresholds.check_seconds)
            try:
                await asyncio.to_thread(once)
            except SQLAlchemyError as e:  # the database away for a moment: the next round tries again
                log.warning("KPI alert check failed: %r", e)

    async with running(loop() if os.environ.get("P95598_KPI_ALERTS", "1") != "0" else None):
        yield


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(alert_checks)
    r = app.router
    r.add_get("/console/kpi", page)
    r.add_get("/console/kpi/vega.js", vega_js)
    r.add_get("/console/api/kpi", kpi_data)
    r.add_get("/console/api/kpi/live", live)
    r.add_get("/console/api/kpi/forecast", forecast)
