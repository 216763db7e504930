"""会话记录: finished cases with filters and transcript search, one case's transcript read-only, CSV export.

    GET /console/history                     the page (filters in the query string, results server-rendered)
    GET /console/history/{case_id}           one finished case's transcript, read-only, with its export
    GET /console/api/history                 the same search as JSON
    GET /console/api/history/export.csv      the search's results as CSV (UTF-8 with BOM for Excel)

Who sees what: a supervisor searches every agent's cases (and may pick one agent); an agent searches and opens
only the cases they handled themselves (the agent filter is fixed to them), as with the live queue, where an
agent never reads a colleague's case. Personal numbers are masked everywhere here (snippets, transcript, CSV).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from backend.contact_centre import AgentInfo, CaseStatus
from backend.contact_centre.kinds import CHANNEL_LABELS, DISPOSITION_LABELS
from backend.contact_centre.search import ENDED, MAX_QUERY, Filters, Found, TranscriptSearch, Turn, phrases
from backend.pii import mask
from console import transcripts
from console.agent_api import NO_CASE
from console.auth import agent_of
from console.config import CONTACT, HUB
from console.errors import NOT_YOURS
from console.pages import render

TZ = ZoneInfo("Asia/Shanghai")
PAGE = 30
EXPORT_ROWS = 5000
WHO = {"customer": "客户", "bot": "机器人", "agent": "坐席"}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CSV_HEADER = ("会话编号", "结束时间", "渠道", "坐席", "处理结果", "户号", "摘要", "匹配内容")


class BadFilter(ValueError):
    """A filter the page cannot use; the message says why, in Chinese."""


def _day(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    if not DATE.fullmatch(value):
        raise BadFilter(f"{field}的格式应为 年-月-日，例如 2026-12-01。")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{field}不是有效的日期。") from None


def _utc(day: dt.date) -> dt.datetime:
    """Midnight of that day in Shanghai, as the naive UTC the database keeps."""
    return dt.datetime.combine(day, dt.time(), TZ).astimezone(dt.timezone.utc).replace(tzinfo=None)


async def filters_of(request: web.Request) -> tuple[Filters, dict[str, str]]:
    """The filters from the query string (an agent's fixed to their own cases) and the form's values."""
    q, agent = request.query, agent_of(request)
    form = {k: str(q.get(k, "")).strip() for k in ("from", "to", "channel", "agent", "disposition", "account", "q")}
    start, end = _day(form["from"], "开始日期"), _day(form["to"], "结束日期")
    if start and end and end < start:
        raise BadFilter("结束日期不能早于开始日期。")
    if form["channel"] and form["channel"] not in CHANNEL_LABELS:
        raise BadFilter("请从列表中选择渠道。")
    if form["disposition"] and form["disposition"] not in DISPOSITION_LABELS:
        raise BadFilter("请从列表中选择处理结果。")
    if form["account"] and not (form["account"].isdigit() and len(form["account"]) == 10):
        raise BadFilter("户号应为10位数字。")
    if len(form["q"]) > MAX_QUERY:
        raise BadFilter(f"搜索内容请控制在{MAX_QUERY}字以内。")
    if form["q"] and not phrases(form["q"]):
        raise BadFilter("搜索内容里没有可以查找的文字，请输入要找的词。")
    agent_id: int | None = agent.id
    if agent.supervisor:
        agent_id = None
        if form["agent"]:
            chosen = await asyncio.to_thread(request.app[CONTACT].agent_by_username, form["agent"][:32])
            if chosen is None:
                raise BadFilter("没有这位坐席，请从列表中选择。")
            agent_id = chosen.id
    else:
        form["agent"] = agent.username
    return (
        Filters(
            date_from=_utc(start) if start else None,
            date_to=_utc(end + dt.timedelta(days=1)) if end else None,
            channel=form["channel"] or None,
            agent_id=agent_id,
            disposition=form["disposition"] or None,
            account_no=form["account"] or None,
            query=form["q"],
        ),
        form,
    )


def local(at: dt.datetime | None) -> str:
    return at.replace(tzinfo=dt.timezone.utc).astimezone(TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def row(found: Found) -> dict[str, Any]:
    before, hit, after = found.snippet
    return {
        "id": found.case_id,
        "ended": local(found.closed_at),
        "channel": CHANNEL_LABELS.get(found.channel, "其他渠道"),
        "agent": found.agent_name or "—",
        "disposition": DISPOSITION_LABELS.get(found.disposition or "", "—"),
        "ending": "已转回机器人" if found.status == CaseStatus.RETURNED else "已结束",
        "account": found.account_masked,
        "summary": found.summary,
        "snippet": {"before": before, "hit": hit, "after": after, "who": WHO.get(found.who, "")} if hit else None,
    }


async def run_search(request: web.Request, limit: int, offset: int) -> tuple[list[Found], int, dict[str, str]]:
    f, form = await filters_of(request)
    if f.query:  # cases that ended before search existed are indexed first, a few at a time
        await transcripts.backfill(request.app[HUB])
    search = TranscriptSearch(request.app[CONTACT].sessions)
    found, total = await asyncio.to_thread(search.search, f, limit, offset)
    return found, total, form


def _page_number(request: web.Request) -> int:
    try:
        return max(1, min(10_000, int(request.query.get("page", "1"))))
    except ValueError:
        return 1


async def agents_for(request: web.Request, agent: AgentInfo) -> list[tuple[str, str]]:
    """The agent filter's choices: every agent for a supervisor, only themselves for an agent."""
    if not agent.supervisor:
        return [(agent.username, agent.display_name)]
    return await asyncio.to_thread(TranscriptSearch(request.app[CONTACT].sessions).agents)


async def history_page(request: web.Request) -> web.Response:
    agent, page = agent_of(request), _page_number(request)
    error, status = "", 200
    try:
        found, total, form = await run_search(request, PAGE, (page - 1) * PAGE)
    except BadFilter as e:
        found, total, form, error, status = [], 0, dict(request.query), str(e), 400
    query = {k: v for k, v in form.items() if v and not (k == "agent" and not agent.supervisor)}
    return render(
        "history.html",
        status=status,
        agent=agent,
        csrf=request["csrf"],
        form=form,
        error=error,
        rows=[row(f) for f in found],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        query=query,
        channel_labels=CHANNEL_LABELS,
        dispositions=DISPOSITION_LABELS,
        agents=await agents_for(request, agent),
    )


async def history_json(request: web.Request) -> web.Response:
    page = _page_number(request)
    try:
        found, total, _ = await run_search(request, PAGE, (page - 1) * PAGE)
    except BadFilter as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    return web.json_response({"total": total, "page": page, "cases": [row(f) for f in found]})


def _cell(value: object) -> str:
    """A CSV cell Excel shows as text (a leading = + - @ would start a formula)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


async def history_csv(request: web.Request) -> web.Response:
    try:
        found, _, _ = await run_search(request, EXPORT_ROWS, 0)
    except BadFilter as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for f in found:
        r = row(f)
        snippet = r["snippet"]
        match = f"{snippet['who']}：{snippet['before']}{snippet['hit']}{snippet['after']}" if snippet else ""
        cells = (r["id"], r["ended"], r["channel"], r["agent"], r["disposition"], r["account"], r["summary"], match)
        writer.writerow([_cell(c) for c in cells])
    stamp = dt.datetime.now(TZ).strftime("%Y%m%d-%H%M")
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename=history-{stamp}.csv", "Cache-Control": "no-store"},
    )


async def case_record(request: web.Request) -> web.Response:
    """A finished case, read-only: what was said (masked), how it ended, and the export."""
    try:
        case_id = int(request.match_info["case_id"])
    except ValueError:
        raise web.HTTPNotFound(text=NO_CASE) from None
    contact, agent = request.app[CONTACT], agent_of(request)
    case = await asyncio.to_thread(contact.case, case_id) if 0 < case_id < 2**31 else None
    if case is None:
        raise web.HTTPNotFound(text=NO_CASE)
    if not (agent.supervisor or case.agent_id == agent.id):
        raise web.HTTPForbidden(text=NOT_YOURS)
    if case.status not in ENDED:
        raise web.HTTPConflict(text="这个会话还没有结束，请在“排队与我的会话”里查看。")
    turns: list[Turn] | None = await asyncio.to_thread(TranscriptSearch(contact.sessions).transcript, case.id)
    if turns is None:
        turns = await transcripts.index_case(request.app[HUB], case)
    owner = await asyncio.to_thread(contact.agent, case.agent_id) if case.agent_id else None
    return render(
        "history_case.html",
        agent=agent,
        csrf=request["csrf"],
        case=case,
        ended=local(case.closed_at),
        started=local(case.created_at),
        owner=owner.display_name if owner else "—",
        disposition=DISPOSITION_LABELS.get(case.disposition or "", "—"),
        ending="已转回机器人" if case.status == CaseStatus.RETURNED else "已结束",
        account=mask(case.account_no or ""),
        summary=mask(case.summary),
        turns=[{"who": WHO.get(t.who, "机器人"), "kind": t.who, "name": t.name, "text": mask(t.text)} for t in turns],
    )


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/history", history_page)
    r.add_get(r"/console/history/{case_id}", case_record)
    r.add_get("/console/api/history", history_json)
    r.add_get("/console/api/history/export.csv", history_csv)
