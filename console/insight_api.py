"""Customer insight in the console (supervisors only): fault and complaint hot spots of the latest insight run and
the drill-down behind each one.

- GET /console/insight                                  the page (templates/insight.html, static/insight.js)
- GET /console/api/insight/hotspots?level&measure&page&size&significant   one page of a ranking, with its charts;
                                                        no finished run yet: 200 with run null and a polite message
- GET /console/api/insight/{level}/{code}               a line, 台区 or area: its rows in the ranking, its 台区 or lines
- GET /console/api/insight/{level}/{code}/outages?kind&page&size         its outages (fault by default)
- GET /console/api/insight/{level}/{code}/contacts?function&page&size    its customers' contacts (function: a
                                                        catalog id, or `complaints` for what the job counts)
- GET /console/api/insight/{level}/{code}/orders?page&size               the product's work orders there
- GET /console/api/insight/accounts/{account}           whether the profile box's 户号 has a profile (400 not 10
                                                        digits, 404 unknown), so the page says so before opening it

Outages and contacts come from the Parquet history (ConsoleConfig.insight_history) through DuckDB, those of the
periods the latest run counted the unit over (all for a unit it did not rank), so they number its observed count;
without a history they say so and the orders are still listed. Bad parameters are a 400 with a Chinese sentence,
an unknown code a 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from backend import models as m
from backend.pii import mask
from console.auth import require_supervisor
from console.config import CONFIG, CONTACT
from console.errors import refuse
from console.kpi_api import CSP
from console.pages import TEMPLATES
from insight import drill, profile
from insight.engine import Dataset
from insight.hotspot_view import LEVELS, MEASURES, hotspot_of, hotspot_page, hotspots_by_code
from insight.jobs.features import COMPLAINT_FUNCTIONS
from insight.jobs.hotspots import Window
from knowledge.catalog import catalog

CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
MAX_PAGE, MAX_SIZE, DEFAULT_SIZE = 10_000, 100, 20
OUTAGE_KINDS = {"fault": "故障停电", "planned": "计划停电", "all": "全部停电"}
CHILD_LEVEL = {"line": "tq", "area": "line"}
COMPLAINTS = "complaints"  # the contacts the hot-spot job counts as complaints (insight.jobs.features)
BAD_ACCOUNT, UNKNOWN_ACCOUNT = "请输入10位户号。", "未找到该户号，请核对。"
NO_ACCOUNT_HISTORY = "该户号暂无用电、缴费和联系记录，请先运行分析。"
QUERIES = web.AppKey("insight_queries", asyncio.Semaphore)  # DuckDB scans at a time (a small machine)


class BadParameter(ValueError):
    """A query parameter the API refuses; the message is the Chinese sentence of the 400."""


def choice(q: MultiMapping[str], key: str, allowed: dict[str, str], default: str, what: str) -> str:
    value = q.get(key, "") or default
    if value not in allowed:
        raise BadParameter(f"{what}只能是{'、'.join(f'{v}（{k}）' for k, v in allowed.items())}。")
    return value


def paging(q: MultiMapping[str]) -> tuple[int, int]:
    """(offset, limit) from page (1-based) and size."""
    page, size = q.get("page", "1") or "1", q.get("size", str(DEFAULT_SIZE)) or str(DEFAULT_SIZE)
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        raise BadParameter(f"页码应为1到{MAX_PAGE}之间的整数。")
    if not size.isdigit() or not 1 <= int(size) <= MAX_SIZE:
        raise BadParameter(f"每页条数应为1到{MAX_SIZE}之间的整数。")
    return (int(page) - 1) * int(size), int(size)


def target(request: web.Request) -> tuple[str, str]:
    level, code = request.match_info["level"], request.match_info["code"]
    if level not in LEVELS:
        raise BadParameter(f"层级只能是{'、'.join(f'{v}（{k}）' for k, v in LEVELS.items())}。")
    if not CODE.match(code):
        raise BadParameter("编号格式不对（字母、数字，最多16位）。")
    return level, code


def _scope(request: web.Request, level: str, code: str, ds: Dataset | None) -> drill.Scope:
    scope = drill.history_scope(ds, level, code) if ds is not None else None
    if scope is None:
        with request.app[CONTACT].sessions() as s:
            scope = drill.product_scope(s, level, code)
    if scope is None:
        raise web.HTTPNotFound(text=f"没有找到编号为 {code} 的{LEVELS[level]}。")
    return scope


@contextlib.contextmanager
def history(request: web.Request) -> Iterator[Dataset | None]:
    """The Parquet history on a DuckDB connection of this request's own (None when there is none)."""
    try:
        ds = drill.open_history(Path(request.app[CONFIG].insight_history))
    except drill.HistoryMissing:
        yield None
        return
    try:
        yield ds
    finally:
        ds.backend.disconnect()


async def _answer(request: web.Request, work: Any, *args: Any) -> web.Response:
    """Runs `work(request, *args)` in a worker thread (at most two at a time); refusals in Chinese."""
    require_supervisor(request)
    try:
        async with request.app[QUERIES]:
            return web.json_response(await asyncio.to_thread(work, request, *args))
    except BadParameter as e:
        raise refuse(400, str(e)) from None


async def page(request: web.Request) -> web.Response:
    agent = require_supervisor(request)
    html = TEMPLATES.get_template("insight.html").render(
        agent=agent, csrf=request["csrf"], levels=LEVELS, measures=MEASURES, kinds=OUTAGE_KINDS,
        functions=[(f, catalog().name(f)) for f in catalog().functions],
    )  # fmt: skip
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store",
                                                                      "Content-Security-Policy": CSP})  # fmt: skip


def _hotspots(request: web.Request) -> dict[str, Any]:
    q = request.query
    level = choice(q, "level", LEVELS, "line", "层级")
    measure = choice(q, "measure", MEASURES, "faults", "指标")
    significant = choice(q, "significant", {"0": "全部", "1": "只看显著"}, "0", "筛选")
    offset, limit = paging(q)
    with request.app[CONTACT].sessions() as s:
        return hotspot_page(s, level, measure, offset, limit, significant == "1")


def window_of(rows: dict[str, dict[str, Any]]) -> Window | None:
    """The periods the latest run counted this unit over (the drill-down lists the same), None without a row."""
    row = next(iter(rows.values()), None)
    return Window(row["first_period"], row["last_period"]) if row else None


def _detail(request: web.Request) -> dict[str, Any]:
    level, code = target(request)
    with history(request) as ds:
        scope = _scope(request, level, code, ds)
        kids = drill.children(ds, scope) if ds is not None else []
    child = CHILD_LEVEL.get(level, "")
    with request.app[CONTACT].sessions() as s:
        rows = hotspot_of(s, level, code)
        ranked = hotspots_by_code(s, child, [k["code"] for k in kids]) if child else {}
    for k in kids:
        k["hotspots"] = ranked.get(k["code"], {})
    window = window_of(rows)
    return {
        "window": {"first": window.first, "last": window.last} if window else None,
        "scope": scope.json(),
        "level_name": LEVELS[level],
        "hotspots": rows,
        "child_level": child,
        "child_name": LEVELS.get(child, ""),
        "children": kids,
        "history": ds is not None,
        "message": "" if ds is not None else drill.NO_HISTORY,
    }


def _listing(request: web.Request, what: str) -> dict[str, Any]:
    level, code = target(request)
    q = request.query
    offset, limit = paging(q)
    if what == "orders":
        with history(request) as ds:
            scope = _scope(request, level, code, ds)
        with request.app[CONTACT].sessions() as s:
            return drill.orders_page(s, scope, offset, limit)
    kind = choice(q, "kind", OUTAGE_KINDS, "fault", "停电类型") if what == "outages" else ""
    function = q.get("function", "") if what == "contacts" else ""
    if function and function != COMPLAINTS and function not in catalog().functions:
        raise BadParameter(f"没有编号为 {function[:32]} 的业务。")
    functions = COMPLAINT_FUNCTIONS if function == COMPLAINTS else ((function,) if function else ())
    with request.app[CONTACT].sessions() as s:
        window = window_of(hotspot_of(s, level, code))
    with history(request) as ds:
        scope = _scope(request, level, code, ds)
        if ds is None:
            return {"total": 0, "offset": offset, "limit": limit, "items": [], "message": drill.NO_HISTORY}
        if what == "outages":
            return drill.outages_page(ds, scope, offset, limit, None if kind == "all" else kind, window)
        return drill.contacts_page(ds, scope, offset, limit, functions, window)


def _account(request: web.Request) -> dict[str, Any]:
    account = request.match_info["account"]
    if not profile.ACCOUNT.match(account):
        raise BadParameter(BAD_ACCOUNT)
    with history(request) as ds:
        if ds is None:
            raise web.HTTPNotFound(text=drill.NO_HISTORY)
        found = profile.customer(ds, account) is not None
    if not found:
        with request.app[CONTACT].sessions() as s:
            known = s.get(m.Customer, account) is not None
        raise web.HTTPNotFound(text=NO_ACCOUNT_HISTORY if known else UNKNOWN_ACCOUNT)
    return {"account": mask(account), "found": True}


async def hotspots(request: web.Request) -> web.Response:
    return await _answer(request, _hotspots)


async def detail(request: web.Request) -> web.Response:
    return await _answer(request, _detail)


async def outages(request: web.Request) -> web.Response:
    return await _answer(request, _listing, "outages")


async def contacts(request: web.Request) -> web.Response:
    return await _answer(request, _listing, "contacts")


async def orders(request: web.Request) -> web.Response:
    return await _answer(request, _listing, "orders")


async def account(request: web.Request) -> web.Response:
    return await _answer(request, _account)


def add_routes(app: web.Application) -> None:
    app[QUERIES] = asyncio.Semaphore(2)
    r = app.router
    r.add_get("/console/insight", page)
    r.add_get("/console/api/insight/hotspots", hotspots)
    r.add_get("/console/api/insight/accounts/{account}", account)  # before {level}/{code}, which it would match
    r.add_get("/console/api/insight/{level}/{code}", detail)
    r.add_get("/console/api/insight/{level}/{code}/outages", outages)
    r.add_get("/console/api/insight/{level}/{code}/contacts", contacts)
    r.add_get("/console/api/insight/{level}/{code}/orders", orders)
